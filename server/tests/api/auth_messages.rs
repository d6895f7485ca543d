//! What the sign-in pages say comes from our own fixed messages, chosen by a code: a crafted
//! link cannot put its words on our page. And a refusal says the real reason.

use app::identity::api::{SignIn, SignUp, UpdateFullName};
use base64::{Engine as _, engine::general_purpose::URL_SAFE};
use leptos::server_fn::ServerFn;
use reqwest::header;

use crate::helpers::{NO_CONFIRMATION, PASSWORD, location, spawn_app_with};
use crate::redirects::UNLIMITED;

const CRAFTED: &str = "Send your password to evil@example.com";

#[tokio::test]
async fn a_crafted_link_cannot_put_its_own_words_on_a_sign_in_page() {
    let (app, _) = spawn_app_with(&[]).await;
    let words = url::form_urlencoded::byte_serialize(CRAFTED.as_bytes()).collect::<String>();
    for path in [
        format!("/auth/error?message={words}"),
        format!("/auth/error?error={words}"),
        format!("/auth/error?error=link_expired&message={words}"),
        format!("/auth/login?error={words}"),
        format!("/auth/forgot-password?error={words}"),
        format!("/auth/update-password?error={words}"),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("Send your password"), "{path}");
        assert!(!html.contains("evil@example.com"), "{path}");
    }

    // An unknown code shows a generic message; a known one its own.
    let html = app
        .get(&format!("/auth/login?error={words}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("That step did not work"), "{html}");
    let html = app
        .get("/auth/error?error=link_expired")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("This link has expired"), "{html}");

    // A server function's error in the URL (how a form without JavaScript learns it failed)
    // is read by its code too: the message that travels with it is ignored.
    let crafted = serde_json::json!({ "code": "invalid_credentials", "message": CRAFTED });
    let err = URL_SAFE.encode(serde_json::to_vec(&crafted).unwrap());
    let html = app
        .get(&format!("/auth/login?__path={}&__err={err}", SignIn::PATH))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Send your password"), "{html}");
    assert!(html.contains("do not match an account"), "{html}");
}

#[tokio::test]
async fn routes_send_a_code_and_the_form_shows_its_message() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    let refused = app
        .post_form("/auth/magic-link", &[("email", "not-an-address")])
        .await;
    assert_eq!(location(&refused), "/auth/login?error=email_invalid");
    let html = app.get(&location(&refused)).await.text().await.unwrap();
    assert!(
        html.contains("That does not look like an email address"),
        "{html}"
    );

    let refused = app
        .post_form("/auth/update-password", &[("password", "short")])
        .await;
    assert_eq!(
        location(&refused),
        "/auth/update-password?error=password_too_short"
    );
}

#[tokio::test]
async fn reusing_the_current_password_says_so_instead_of_unavailable() {
    let (app, _) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("citra@kilat.id", "Citra").await;
    let refused = app
        .post_form("/auth/update-password", &[("password", PASSWORD)])
        .await;
    assert_eq!(
        location(&refused),
        "/auth/update-password?error=password_unchanged"
    );
    let html = app.get(&location(&refused)).await.text().await.unwrap();
    assert!(
        html.contains("Choose a password different from your current one"),
        "{html}"
    );
}

/// A server function called as the browser's WASM does (no `Accept: text/html`).
async fn call(
    app: &crate::helpers::TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}

#[tokio::test]
async fn a_refused_server_function_answers_4xx_with_its_typed_error() {
    let mut vars = UNLIMITED.to_vec();
    vars.push(NO_CONFIRMATION);
    let (app, _) = spawn_app_with(&vars).await;

    let (status, body) = call(
        &app,
        SignUp::PATH,
        &[
            ("email", "not-an-address"),
            ("password", PASSWORD),
            ("full_name", ""),
        ],
    )
    .await;
    assert_eq!(
        (status, &body["code"], &body["field"]),
        (422, &"email_invalid".into(), &"email".into()),
        "{body}"
    );

    let (status, body) = call(
        &app,
        SignUp::PATH,
        &[
            ("email", "ana@kilat.id"),
            ("password", "short"),
            ("full_name", ""),
        ],
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (422, &"password".into()),
        "{body}"
    );

    let (status, body) = call(
        &app,
        SignIn::PATH,
        &[("email", "nobody@kilat.id"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (401, &"invalid_credentials".into()),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|message| message.contains("do not match an account")),
        "{body}"
    );

    let (status, body) = call(&app, UpdateFullName::PATH, &[("full_name", "Ana")]).await;
    assert_eq!(
        (status, &body["code"]),
        (401, &"not_signed_in".into()),
        "{body}"
    );

    let (status, body) = call(&app, SignIn::PATH, &[("email", "ana@kilat.id")]).await;
    assert_eq!(
        (status, &body["code"]),
        (400, &"bad_request".into()),
        "{body}"
    );

    app.sign_up_signed_in("ana@kilat.id", "Ana").await;
    let taken = app.other_browser();
    let (status, body) = call(
        &taken,
        SignUp::PATH,
        &[
            ("email", "ana@kilat.id"),
            ("password", PASSWORD),
            ("full_name", ""),
        ],
    )
    .await;
    assert!((400..500).contains(&status), "{status} {body}");
}

#[tokio::test]
async fn a_rate_limited_sign_in_answers_429_saying_when_to_try_again() {
    let (app, _) = spawn_app_with(&[("RATE_LIMIT_SIGN_IN", "1/15m")]).await;
    let form = [("email", "nobody@kilat.id"), ("password", PASSWORD)];
    let (first, _) = call(&app, SignIn::PATH, &form).await;
    assert_eq!(first, 401);
    let (status, body) = call(&app, SignIn::PATH, &form).await;
    assert_eq!(
        (status, &body["code"]),
        (429, &"rate_limited".into()),
        "{body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|message| message
            .starts_with("Too many attempts. Try again in ")
            && message.ends_with(" minutes.")),
        "{body}"
    );
}

#[tokio::test]
async fn a_browser_without_javascript_is_sent_back_to_the_form_which_shows_the_refusal() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    let login = format!("{}/auth/login?next=%2Fdashboard%2Fsettings", app.address);
    let refused = app
        .client
        .post(format!("{}{}", app.address, SignIn::PATH))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &app.address)
        .header(header::REFERER, &login)
        .form(&[("email", "nobody@kilat.id"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let back = location(&refused);
    assert!(
        back.starts_with(&login) && back.contains("__err="),
        "{back}"
    );
    let html = app
        .client
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("do not match an account"), "{html}");
}

#[tokio::test]
async fn a_field_error_marks_its_own_input() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    let sign_up = format!("{}/auth/sign-up", app.address);
    let refused = app
        .client
        .post(format!("{}{}", app.address, SignUp::PATH))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &app.address)
        .header(header::REFERER, &sign_up)
        .form(&[
            ("email", "ana@kilat.id"),
            ("password", "short"),
            ("full_name", "Ana"),
        ])
        .send()
        .await
        .unwrap();
    let back = location(&refused);
    let html = app
        .client
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let input = |id: &str| {
        html.split(&format!("id=\"{id}\""))
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        input("signup-password").contains("aria-invalid=\"true\""),
        "{}",
        input("signup-password")
    );
    assert!(!input("signup-email").contains("aria-invalid"), "{html}");
    let error = html
        .split("id=\"signup-password-error\"")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default();
    assert!(error.contains("Use at least 8 characters."), "{error}");
}
