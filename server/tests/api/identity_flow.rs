//! A person signing up, confirming, signing in, editing their name and signing out — through
//! HTTP against the server and its local Supabase Auth twin, as a browser without JavaScript
//! would (plain form posts).

use app::identity::api::{SignIn, SignOut, SignUp, UpdateFullName};
use leptos::server_fn::ServerFn;
use reqwest::{Response, header};

use crate::helpers::{TestApp, TestDb, spawn_app_on};

const HTML: &str = "text/html";

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header(header::ACCEPT, HTML)
        .header(header::ORIGIN, &app.address)
        .form(form)
        .send()
        .await
        .unwrap()
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The newest link in the local mailbox that contains `needle`.
async fn newest_link(app: &TestApp, needle: &str) -> String {
    let html = app.get("/dev/mailbox").await.text().await.unwrap();
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|link| link.replace("&amp;", "&"))
        .find(|link| link.contains(needle))
        .unwrap_or_else(|| panic!("no link with {needle:?} in the mailbox:\n{html}"))
}

/// Follows Supabase's redirect back to the app (the twin sends people to SITE_URL, which the
/// tests cannot know before the server has bound its port).
fn on_app(app: &TestApp, url: &str) -> String {
    let path = url.splitn(4, '/').nth(3).unwrap_or_default();
    format!("{}/{path}", app.address)
}

/// The session cookie a response sets, as `name=value`.
fn set_session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kilat_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// What `/dashboard` answers to a browser that presents only `cookie`.
async fn dashboard_status_with(app: &TestApp, cookie: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/dashboard", app.address))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sign_up_confirm_sign_in_rename_and_sign_out() {
    let db = TestDb::migrated().await;
    let pool = db.pool.clone();
    let app = spawn_app_on(db.pool, &[]).await;

    // Sign up: a confirmation email, not a session.
    let response = post_form(
        &app,
        SignUp::PATH,
        &[
            ("email", "Ana@Kilat.id"),
            ("password", "rahasia-123"),
            ("full_name", "Ana"),
        ],
    )
    .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(location(&response), "/auth/sign-up-success");
    let before_sign_in = set_session_cookie(&response).expect("the pending sign-in has a session");
    assert_eq!(
        app.get("/dashboard").await.status(),
        303,
        "not signed in yet"
    );

    // Signing in before confirming is refused with an explanation.
    let response = post_form(
        &app,
        SignIn::PATH,
        &[("email", "ana@kilat.id"), ("password", "rahasia-123")],
    )
    .await;
    let body = response.text().await.unwrap();
    assert!(body.contains("Confirm your email first"), "{body}");

    // The confirmation link goes through Supabase and back to /auth/confirm with a code.
    let verify = newest_link(&app, "type=signup").await;
    let back = app.client.get(&verify).send().await.unwrap();
    let confirm = location(&back);
    assert!(confirm.contains("/auth/confirm?code="), "{confirm}");
    let signed_in = app.client.get(on_app(&app, &confirm)).send().await.unwrap();
    assert_eq!(location(&signed_in), "/dashboard");
    let after_sign_in = set_session_cookie(&signed_in).expect("signing in sets the cookie");
    assert_ne!(
        before_sign_in, after_sign_in,
        "the session id is renewed at sign-in"
    );
    assert_eq!(
        dashboard_status_with(&app, &before_sign_in).await,
        303,
        "a cookie from before sign-in is worthless"
    );
    assert_eq!(dashboard_status_with(&app, &after_sign_in).await, 200);

    let dashboard = app.get("/dashboard").await;
    assert_eq!(dashboard.status(), 200);
    let html = dashboard.text().await.unwrap();
    assert!(html.contains("Ana"), "{html}");

    // Rename: audited with before and after.
    let response = post_form(&app, UpdateFullName::PATH, &[("full_name", "Ana Lestari")]).await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let (name, audited): (Option<String>, serde_json::Value) = sqlx::query_as(
        "select p.full_name, a.metadata from public.profiles p
         join public.audit_logs a on a.target_id = p.id::text and a.action = 'profile.updated'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(name.as_deref(), Some("Ana Lestari"));
    assert_eq!(audited["before"]["full_name"], "Ana");
    assert_eq!(audited["after"]["full_name"], "Ana Lestari");

    // Sign out: the dashboard is closed again.
    let response = post_form(&app, SignOut::PATH, &[]).await;
    assert_eq!(location(&response), "/");
    assert_eq!(app.get("/dashboard").await.status(), 303);
    assert_eq!(
        dashboard_status_with(&app, &after_sign_in).await,
        303,
        "the signed-out cookie is worthless"
    );
}

#[tokio::test]
async fn writes_from_another_site_are_refused() {
    let app = spawn_app_on(TestDb::migrated().await.pool, &[]).await;
    let form = [("email", "ana@kilat.id"), ("password", "rahasia-123")];
    for (header, value) in [
        (header::ORIGIN, "https://evil.example"),
        (header::ORIGIN, "null"),
    ] {
        let response = app
            .client
            .post(format!("{}{}", app.address, SignIn::PATH))
            .header(header, value)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{value}");
    }
    let response = app
        .client
        .post(format!("{}{}", app.address, SignIn::PATH))
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let same_site = post_form(&app, SignIn::PATH, &form).await;
    assert_ne!(same_site.status(), 403);
}

#[tokio::test]
async fn emailed_links_are_sent_and_a_bad_address_is_explained_on_the_form() {
    let app = spawn_app_on(TestDb::migrated().await.pool, &[]).await;

    let refused = post_form(&app, "/auth/magic-link", &[("email", "not-an-address")]).await;
    assert!(
        location(&refused).starts_with("/auth/login?error="),
        "{}",
        location(&refused)
    );
    let refused = post_form(&app, "/auth/forgot-password", &[("email", "")]).await;
    assert!(
        location(&refused).starts_with("/auth/forgot-password?error="),
        "{}",
        location(&refused)
    );

    let sent = post_form(&app, "/auth/magic-link", &[("email", "budi@kilat.id")]).await;
    assert_eq!(location(&sent), "/auth/sign-up-success");
    newest_link(&app, "/auth/v1/verify").await;

    let sent = post_form(
        &app,
        "/auth/forgot-password",
        &[("email", "nobody@kilat.id")],
    )
    .await;
    assert_eq!(
        location(&sent),
        "/auth/forgot-password?sent=1",
        "the same answer for an unknown account"
    );
}
