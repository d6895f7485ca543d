//! A person signing up, confirming, signing in, editing their name and signing out — through
//! HTTP against the server and its local Supabase Auth twin, as a browser without JavaScript
//! would (plain form posts).

use app::identity::api::{SignIn, SignOut, SignUp, UpdateFullName};
use leptos::server_fn::ServerFn;
use reqwest::header;

use crate::helpers::{
    NO_CONFIRMATION, PASSWORD, TestApp, google_consent, location, set_session_cookie,
    spawn_app_with,
};

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
    let (app, pool) = spawn_app_with(&[]).await;

    // Sign up: a confirmation email, not a session.
    let response = app
        .post_form(
            SignUp::PATH,
            &[
                ("email", "Ana@Kilat.id"),
                ("password", PASSWORD),
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
    let response = app
        .post_form(
            SignIn::PATH,
            &[("email", "ana@kilat.id"), ("password", PASSWORD)],
        )
        .await;
    let body = response.text().await.unwrap();
    assert!(body.contains("Confirm your email first"), "{body}");

    // The confirmation link goes through Supabase and back to /auth/confirm with a code.
    let signed_in = app.open_emailed_link("type=signup").await;
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
    let response = app
        .post_form(UpdateFullName::PATH, &[("full_name", "Ana Lestari")])
        .await;
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
    let response = app.post_form(SignOut::PATH, &[]).await;
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
    let app = spawn_app_with(&[]).await.0;
    let form = [("email", "ana@kilat.id"), ("password", PASSWORD)];
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
    let same_site = app.post_form(SignIn::PATH, &form).await;
    assert!(
        same_site.status().is_redirection(),
        "{}",
        same_site.status()
    );
}

#[tokio::test]
async fn a_bad_address_for_an_emailed_link_is_explained_on_the_form() {
    let app = spawn_app_with(&[]).await.0;
    let refused = app
        .post_form("/auth/magic-link", &[("email", "not-an-address")])
        .await;
    assert!(
        location(&refused).starts_with("/auth/login?error="),
        "{}",
        location(&refused)
    );
    let refused = app
        .post_form("/auth/forgot-password", &[("email", "")])
        .await;
    assert!(
        location(&refused).starts_with("/auth/forgot-password?error="),
        "{}",
        location(&refused)
    );
    assert_eq!(app.get("/dev/mailbox").await.status(), 200);
}

#[tokio::test]
async fn a_magic_link_signs_in_in_the_browser_that_asked_for_it_only() {
    let app = spawn_app_with(&[]).await.0;
    let sent = app
        .post_form("/auth/magic-link", &[("email", "budi@kilat.id")])
        .await;
    assert_eq!(location(&sent), "/auth/magic-link-sent");

    // The same link in another browser: that browser never asked, so nothing is signed in.
    let verify = app.newest_link("/auth/v1/verify").await;
    let stranger = app.other_browser();
    let back = stranger.client.get(&verify).send().await.unwrap();
    let refused = stranger
        .client
        .get(app.on_app(&location(&back)))
        .send()
        .await
        .unwrap();
    assert!(
        location(&refused).starts_with("/auth/error?"),
        "{}",
        location(&refused)
    );
    assert_eq!(stranger.get("/dashboard").await.status(), 303);

    // A fresh link in the browser that asked signs in and lands on the dashboard.
    app.post_form("/auth/magic-link", &[("email", "budi@kilat.id")])
        .await;
    let signed_in = app.open_emailed_link("/auth/v1/verify").await;
    assert_eq!(location(&signed_in), "/dashboard");
    let html = app.get("/dashboard").await.text().await.unwrap();
    assert!(html.contains("budi@kilat.id"), "{html}");
}

#[tokio::test]
async fn a_recovery_link_leads_to_a_new_password_that_replaces_the_old_one() {
    let (app, _) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("citra@kilat.id", "Citra").await;
    app.post_form(SignOut::PATH, &[]).await;

    let unknown = app
        .post_form("/auth/forgot-password", &[("email", "nobody@kilat.id")])
        .await;
    let sent = app
        .post_form("/auth/forgot-password", &[("email", "citra@kilat.id")])
        .await;
    assert_eq!(location(&sent), "/auth/forgot-password?sent=1");
    assert_eq!(
        location(&unknown),
        location(&sent),
        "the same answer for an unknown account"
    );

    let recovering = app.open_emailed_link("type=recovery").await;
    assert_eq!(location(&recovering), "/auth/update-password");
    let too_short = app
        .post_form("/auth/update-password", &[("password", "short")])
        .await;
    assert!(
        location(&too_short).starts_with("/auth/update-password?error="),
        "{}",
        location(&too_short)
    );
    let changed = app
        .post_form("/auth/update-password", &[("password", "baru-rahasia-456")])
        .await;
    assert_eq!(location(&changed), "/auth/login?reset=1");
    assert_eq!(
        app.get("/dashboard").await.status(),
        303,
        "setting the password ends the recovery session"
    );

    let old = app
        .post_form(
            SignIn::PATH,
            &[("email", "citra@kilat.id"), ("password", PASSWORD)],
        )
        .await;
    assert!(old.text().await.unwrap().contains("do not match"));
    let new = app
        .post_form(
            SignIn::PATH,
            &[
                ("email", "citra@kilat.id"),
                ("password", "baru-rahasia-456"),
            ],
        )
        .await;
    assert_eq!(location(&new), "/dashboard");
}

#[tokio::test]
async fn google_sign_in_completes_only_with_the_verifier_of_the_browser_that_started_it() {
    let app = spawn_app_with(&[]).await.0;
    let callback = google_consent(&app, "dewi@gmail.test", "/dashboard/settings").await;

    // Another browser with a sign-in of its own under way presents the stolen code: its
    // verifier does not match the challenge, so the exchange fails.
    let thief = app.other_browser();
    google_consent(&thief, "thief@gmail.test", "/dashboard/settings").await;
    let refused = thief.client.get(&callback).send().await.unwrap();
    assert!(
        location(&refused).starts_with("/auth/error?"),
        "{}",
        location(&refused)
    );
    assert_eq!(thief.get("/dashboard").await.status(), 303);

    let signed_in = app.client.get(&callback).send().await.unwrap();
    assert_eq!(
        location(&signed_in),
        "/dashboard/settings",
        "back where they were going"
    );
    let html = app.get("/dashboard").await.text().await.unwrap();
    assert!(html.contains("Dewi"), "{html}");
    let replayed = app.client.get(&callback).send().await.unwrap();
    assert!(
        location(&replayed).starts_with("/auth/error?"),
        "a code works once"
    );
}

async fn refresh_tokens(pool: &sqlx::PgPool) -> (i64, i64) {
    sqlx::query_as("select count(*), count(*) filter (where revoked) from auth.refresh_tokens")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_through_the_session_until_supabase_ends_it() {
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION, ("LOCAL_AUTH_JWT_EXPIRY", "1")]).await;
    app.sign_up_signed_in("eka@kilat.id", "Eka").await;
    assert_eq!(refresh_tokens(&pool).await, (1, 0));

    // Each time the access token has expired the page still knows Eka, because the session
    // refreshed it; the refresh token rotates and the session keeps the new one.
    for rotations in 1..=2 {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let html = app.get("/dashboard").await.text().await.unwrap();
        assert!(html.contains(">Eka</h1>"), "{html}");
        assert_eq!(refresh_tokens(&pool).await, (1 + rotations, rotations));
    }

    // Supabase ends the session (e.g. signed out elsewhere): the next refresh is refused and
    // the browser is signed out here too.
    sqlx::query("delete from auth.sessions")
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let html = app.get("/dashboard").await.text().await.unwrap();
    assert!(!html.contains(">Eka</h1>"), "{html}");
    assert_eq!(app.get("/dashboard").await.status(), 303);
}
