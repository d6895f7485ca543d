//! The client's address over HTTP: audit entries record it; `X-Forwarded-For` counts only when
//! the connection comes from a proxy listed in `TRUSTED_PROXIES`.

use app::identity::api::UpdateFullName;
use leptos::server_fn::ServerFn;
use reqwest::header::{HeaderMap, HeaderValue};
use sqlx::PgPool;

use crate::helpers::{NO_CONFIRMATION, TestApp, spawn_app_with};

/// A browser whose every request carries `X-Forwarded-For: forwarded`.
fn browser_forwarding(app: &TestApp, forwarded: &str) -> TestApp {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
    TestApp {
        address: app.address.clone(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .unwrap(),
    }
}

/// Signs `email` up, renames them (an audited action) and returns the address the audit entry
/// recorded.
async fn audited_ip_of_a_rename(browser: &TestApp, pool: &PgPool, email: &str) -> Option<String> {
    browser.sign_up_signed_in(email, "Ana").await;
    let renamed = browser
        .post_form(UpdateFullName::PATH, &[("full_name", "Ana Lestari")])
        .await;
    assert!(
        renamed.status().is_success() || renamed.status().is_redirection(),
        "{}",
        renamed.status()
    );
    sqlx::query_scalar(
        "select host(a.ip) from public.audit_logs a
         join auth.users u on a.target_id = u.id::text
         where a.action = 'profile.updated' and u.email = $1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .expect("the rename is audited")
}

#[tokio::test]
async fn an_audited_action_records_the_socket_address_and_ignores_a_forged_forwarded_for() {
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION]).await;
    assert_eq!(
        audited_ip_of_a_rename(&app, &pool, "ana@kilat.id")
            .await
            .as_deref(),
        Some("127.0.0.1")
    );
    // Nobody is trusted: a client cannot choose the address it is recorded under.
    let forger = browser_forwarding(&app, "203.0.113.9");
    assert_eq!(
        audited_ip_of_a_rename(&forger, &pool, "forger@kilat.id")
            .await
            .as_deref(),
        Some("127.0.0.1")
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_forwarded_hop_is_recorded() {
    // The test's connections come from 127.0.0.1, standing in for a proxy at 10.0.0.0/8's edge.
    let (app, pool) = spawn_app_with(&[
        NO_CONFIRMATION,
        ("TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8"),
    ])
    .await;
    // The client forged the left-most hop; the proxies appended the client and themselves.
    let proxied = browser_forwarding(&app, "6.6.6.6, 203.0.113.9, 10.1.2.3");
    assert_eq!(
        audited_ip_of_a_rename(&proxied, &pool, "ana@kilat.id")
            .await
            .as_deref(),
        Some("203.0.113.9")
    );
    let ipv6 = browser_forwarding(&app, "2001:db8::7");
    assert_eq!(
        audited_ip_of_a_rename(&ipv6, &pool, "budi@kilat.id")
            .await
            .as_deref(),
        Some("2001:db8::7")
    );
    // A proxy that forwards garbage vouches for nobody: the proxy itself is recorded.
    let garbage = browser_forwarding(&app, "203.0.113.9, not-an-address");
    assert_eq!(
        audited_ip_of_a_rename(&garbage, &pool, "citra@kilat.id")
            .await
            .as_deref(),
        Some("127.0.0.1")
    );
}

/// `/auth/google` from a browser whose requests carry `X-Forwarded-For: forwarded`.
async fn google_start(app: &TestApp, forwarded: &str) -> u16 {
    browser_forwarding(app, forwarded)
        .get("/auth/google")
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_escape_a_rate_limit() {
    let (app, _) = spawn_app_with(&[("RATE_LIMIT_GOOGLE", "2/15m")]).await;
    let mut answers = Vec::new();
    for i in 0..4 {
        answers.push(google_start(&app, &format!("198.51.100.{i}")).await);
    }
    assert_eq!(
        answers,
        [303, 303, 429, 429],
        "one client, whatever it claims"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_rate_limit() {
    let (app, _) = spawn_app_with(&[
        ("RATE_LIMIT_GOOGLE", "2/15m"),
        ("TRUSTED_PROXIES", "127.0.0.0/8"),
    ])
    .await;
    for client in ["198.51.100.1", "6.6.6.6, 198.51.100.2"] {
        let answers = [
            google_start(&app, client).await,
            google_start(&app, client).await,
            google_start(&app, client).await,
        ];
        assert_eq!(answers, [303, 303, 429], "{client}");
    }
    // A forged left-most hop does not make the proxy's client someone else.
    assert_eq!(google_start(&app, "203.0.113.50, 198.51.100.1").await, 429);
}
