//! `next=` is attacker-controlled: whatever it says, every redirect the app sends after a
//! sign-in (password, Google, magic link) ends on a page of this site.

use app::identity::api::{SignIn, SignOut};
use leptos::server_fn::ServerFn;
use reqwest::header;

use crate::helpers::{
    NO_CONFIRMATION, PASSWORD, TestApp, google_consent, location, spawn_app_with,
};

/// Rate limits high enough for a corpus run (the limits themselves are tested elsewhere).
pub const UNLIMITED: [(&str, &str); 6] = [
    ("RATE_LIMIT_SIGN_IN", "100000/1m"),
    ("RATE_LIMIT_SIGN_IN_PER_IP", "100000/1m"),
    ("RATE_LIMIT_SIGN_UP", "100000/1m"),
    ("RATE_LIMIT_EMAIL_LINK", "100000/1m"),
    ("RATE_LIMIT_EMAIL_LINK_PER_IP", "100000/1m"),
    ("RATE_LIMIT_GOOGLE", "100000/1m"),
];

/// Values an attacker would put in `next=`, as they arrive after URL decoding.
pub fn hostile_next() -> Vec<String> {
    let mut corpus: Vec<String> = [
        "",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/dashboard\r\nLocation: https://evil.example",
        "/%0D%0ALocation:%20https://evil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%252F/evil.example",
        "/%ff%fe",
        "/\u{0}",
        "/\u{2028}/evil.example",
        "javascript:alert(1)",
        "https://evil.example",
        "http:/evil.example",
        "http:evil.example",
        "https:\\\\evil.example",
        " /dashboard",
    ]
    .map(str::to_string)
    .to_vec();
    // Long, but short enough for a URL (an address over 64 KB cannot even be sent).
    corpus.push(format!("/{}", "a".repeat(30 * 1024)));
    // 100 KB: only a form body can carry it.
    corpus.push(format!("/{}", "a".repeat(100 * 1024)));
    corpus
}

/// The corpus that fits in a URL.
pub fn hostile_next_for_urls() -> Vec<String> {
    hostile_next()
        .into_iter()
        .filter(|next| next.len() < 60_000)
        .collect()
}

/// `location` is a path on the app's site: relative, one leading slash, no characters a
/// browser would strip or reinterpret, and joined onto the app's origin it stays there.
pub fn assert_same_site(app: &TestApp, location: &str, sent: &str) {
    let shown: String = sent.chars().take(80).collect();
    assert!(
        location.starts_with('/')
            && !location.starts_with("//")
            && !location.starts_with("/\\")
            && location.bytes().all(|b| b.is_ascii_graphic()),
        "next={shown:?} was sent to {location:?}"
    );
    let base = url::Url::parse(&app.address).unwrap();
    let joined = base.join(location).unwrap();
    assert_eq!(
        joined.origin(),
        base.origin(),
        "next={shown:?} → {location:?}"
    );
}

async fn signed_up_then_out(vars: &[(&str, &str)]) -> TestApp {
    let (app, _) = spawn_app_with(vars).await;
    app.sign_up_signed_in("ana@kilat.id", "Ana").await;
    app.post_form(SignOut::PATH, &[]).await;
    app
}

#[tokio::test]
async fn password_sign_in_never_sends_anyone_off_site_whatever_next_says() {
    let mut vars = UNLIMITED.to_vec();
    vars.push(NO_CONFIRMATION);
    let app = signed_up_then_out(&vars).await;
    for next in hostile_next() {
        let form = [
            ("email", "ana@kilat.id"),
            ("password", PASSWORD),
            ("next", next.as_str()),
        ];
        // A browser without JavaScript (a plain form post)…
        let response = app.post_form(SignIn::PATH, &form).await;
        if response.status() == 413 && next.len() > 60_000 {
            // Refused before it was read: the form body limit.
            continue;
        }
        assert!(
            response.status().is_redirection(),
            "next={:?}: {}",
            next.chars().take(80).collect::<String>(),
            response.status()
        );
        assert_eq!(location(&response), "/dashboard");
        app.post_form(SignOut::PATH, &[]).await;

        // …and the server-function client, which follows the Location itself.
        let response = app
            .client
            .post(format!("{}{}", app.address, SignIn::PATH))
            .header(header::ORIGIN, &app.address)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        assert_same_site(&app, &location(&response), &next);
        app.post_form(SignOut::PATH, &[]).await;
    }

    // A safe path is honoured.
    let response = app
        .post_form(
            SignIn::PATH,
            &[
                ("email", "ana@kilat.id"),
                ("password", PASSWORD),
                ("next", "/dashboard/settings"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/dashboard/settings");
}

/// Starts Google sign-in with `next`, allows it on the local consent page, and returns where
/// `/auth/confirm` then sends the browser.
async fn google_round_trip(app: &TestApp, next: &str) -> String {
    let callback = google_consent(app, "dewi@gmail.test", next).await;
    let back = app.client.get(&callback).send().await.unwrap();
    assert!(back.status().is_redirection(), "{}", back.status());
    location(&back)
}

#[tokio::test]
async fn google_sign_in_comes_back_to_this_site_whatever_next_says() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    for next in hostile_next_for_urls() {
        let landed = google_round_trip(&app, &next).await;
        assert_eq!(
            landed,
            "/dashboard",
            "next={:?}",
            next.chars().take(80).collect::<String>()
        );
        app.post_form(SignOut::PATH, &[]).await;
    }
    assert_eq!(
        google_round_trip(&app, "/dashboard/settings").await,
        "/dashboard/settings"
    );
}

#[tokio::test]
async fn a_magic_link_comes_back_to_this_site_whatever_next_says() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    let corpus = hostile_next();
    for (i, next) in corpus
        .iter()
        .map(String::as_str)
        .chain(["/dashboard/settings"])
        .enumerate()
    {
        let email = format!("budi{i}@kilat.id");
        let sent = app
            .post_form(
                "/auth/magic-link",
                &[("email", email.as_str()), ("next", next)],
            )
            .await;
        if sent.status() == 413 && next.len() > 60_000 {
            // Refused before it was read: the form body limit.
            continue;
        }
        assert_eq!(
            location(&sent),
            "/auth/magic-link-sent",
            "{}",
            sent.status()
        );
        let signed_in = app.open_emailed_link("/auth/v1/verify").await;
        let landed = location(&signed_in);
        if next == "/dashboard/settings" {
            assert_eq!(landed, next, "a safe next is kept");
        } else {
            assert_eq!(
                landed,
                "/dashboard",
                "next={:?}",
                next.chars().take(80).collect::<String>()
            );
        }
        app.post_form(SignOut::PATH, &[]).await;
    }
}

#[tokio::test]
async fn confirm_answers_hostile_queries_with_a_page_of_this_site() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    let mut queries: Vec<Vec<(&str, String)>> = Vec::new();
    for next in hostile_next_for_urls() {
        queries.push(vec![("next", next.clone())]);
        queries.push(vec![("code", "stolen".into()), ("next", next.clone())]);
        queries.push(vec![("error_description", next.clone())]);
        queries.push(vec![
            ("error", "access_denied".into()),
            ("error_code", next.clone()),
        ]);
    }
    for query in &queries {
        let response = app
            .client
            .get(format!("{}/auth/confirm", app.address))
            .query(query)
            .send()
            .await
            .unwrap();
        let sent = format!("{:?}", query);
        assert!(response.status().is_redirection(), "{}", response.status());
        let landed = location(&response);
        assert_same_site(&app, &landed, &sent);
        assert!(landed.starts_with("/auth/error?error="), "{landed}");
        // The page it lands on shows our words only.
        let page = app.get(&landed).await.text().await.unwrap();
        assert!(!page.contains("evil.example"), "{sent}");
    }
}
