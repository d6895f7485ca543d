//! Bahasa Indonesia and English: which one a page speaks, and the switch between them.

use reqwest::header;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn page_in(app: &TestApp, path: &str, accept_language: &str) -> String {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .header(header::ACCEPT_LANGUAGE, accept_language)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_page_speaks_the_language_the_browser_asks_for() {
    let app = spawn_app().await;
    let english = page_in(&app, "/", "en-US,en;q=0.9").await;
    assert!(english.contains(r#"<html lang="en""#), "lang attribute");
    assert!(english.contains("Ship your Indonesian SaaS this week"));
    assert!(english.contains("IDR 99,000"), "rupiah the English way");

    let indonesian = page_in(&app, "/", "id-ID,id;q=0.9,en;q=0.5").await;
    assert!(indonesian.contains(r#"<html lang="id""#), "lang attribute");
    assert!(indonesian.contains("Luncurkan SaaS Indonesia Anda minggu ini"));
    assert!(
        indonesian.contains("Rp 99.000"),
        "rupiah the Indonesian way"
    );
    assert!(
        !indonesian.contains("Ship your Indonesian SaaS"),
        "no English left"
    );

    // A language Kilat does not speak: the default (English for these tests).
    let french = page_in(&app, "/", "fr-FR,fr;q=0.9").await;
    assert!(french.contains(r#"<html lang="en""#));
}

#[tokio::test]
async fn without_a_preference_pages_are_in_the_default_language_indonesian_unless_configured() {
    let (app, _) = spawn_app_with(&[("DEFAULT_LOCALE", "id")]).await;
    let page = app.page("/auth/login").await;
    assert!(page.contains(r#"<html lang="id""#));
    assert!(
        page.contains("Selamat datang kembali"),
        "the sign-in lead in Indonesian"
    );
    assert!(page.contains("Lupa kata sandi?"));
}

#[tokio::test]
async fn refusals_and_field_errors_read_in_the_page_language() {
    let app = spawn_app().await;
    let page = page_in(&app, "/auth/login?error=invalid_credentials", "id").await;
    assert!(
        page.contains("Email dan kata sandi itu tidak cocok dengan akun mana pun"),
        "the refusal in Indonesian"
    );
    let page = page_in(&app, "/auth/login?error=invalid_credentials", "en").await;
    assert!(page.contains("That email and password do not match an account"));
}

#[tokio::test]
async fn the_switch_remembers_the_choice_and_beats_the_browser_header() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/locale",
            &[("locale", "id"), ("next", "/auth/login?next=%2Fdashboard")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/auth/login?next=%2Fdashboard"
    );
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("kilat_locale=id;"), "{cookie}");
    assert!(
        cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );

    // The cookie (kept by this client) wins over an English browser.
    let page = page_in(&app, "/auth/login", "en-US,en").await;
    assert!(page.contains(r#"<html lang="id""#));
    assert!(page.contains("Masuk"));

    app.post_form("/locale", &[("locale", "en"), ("next", "/")])
        .await;
    let page = page_in(&app, "/", "id").await;
    assert!(page.contains(r#"<html lang="en""#));
}

#[tokio::test]
async fn the_switch_stays_on_this_site_and_ignores_what_it_does_not_understand() {
    let app = spawn_app().await;
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
    ] {
        let response = app
            .post_form("/locale", &[("locale", "en"), ("next", next)])
            .await;
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(response.headers()[header::LOCATION], "/", "{next:?}");
    }
    for locale in ["fr", "", "en\r\nSet-Cookie: x=1", &"id".repeat(1000)] {
        let response = app
            .post_form("/locale", &[("locale", locale), ("next", "/")])
            .await;
        assert_eq!(response.status(), 303, "{locale:?}");
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "{locale:?}"
        );
    }
    // A body that is no form at all: still home, never an error page.
    let response = app
        .client
        .post(format!("{}/locale", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"locale\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/");
}

#[tokio::test]
async fn pages_offer_the_switch_back_to_where_they_are() {
    let app = spawn_app().await;
    let page = page_in(&app, "/auth/sign-up?next=%2Fdashboard", "en").await;
    assert!(page.contains(r#"action="/locale""#));
    assert!(
        page.contains(r#"name="next" value="/auth/sign-up""#),
        "the switch comes back to this page (its path: a query is the page's own business)"
    );
    assert!(page.contains(r#"value="id""#) && page.contains(r#"value="en""#));
}

#[tokio::test]
async fn the_servers_own_refusals_answer_in_the_language_asked_for() {
    let app = spawn_app().await;
    let cross_site = |language: &'static str| {
        app.client
            .post(format!("{}/locale", app.address))
            .header(header::ORIGIN, "https://evil.example")
            .header(header::ACCEPT_LANGUAGE, language)
            .form(&[("locale", "en")])
            .send()
    };
    let refused = cross_site("id").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Permintaan dari situs lain ditolak")
    );
    let refused = cross_site("en").await.unwrap();
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Cross-site requests are refused")
    );

    let too_large = app
        .client
        .post(format!("{}/locale", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::ACCEPT_LANGUAGE, "id-ID")
        .form(&[("next", "a".repeat(100 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    assert!(
        too_large
            .text()
            .await
            .unwrap()
            .contains("Permintaan terlalu besar")
    );
}

/// The language stored for `email`: on the profile (Kilat's own mail) and in the Supabase user
/// metadata (Supabase's auth mail).
async fn stored_locales(pool: &sqlx::PgPool, email: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as(
        "select p.locale, u.raw_user_meta_data ->> 'locale'
         from auth.users u join public.profiles p on p.id = u.id where u.email = $1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_account_keeps_the_language_it_was_made_in_and_follows_the_switch_for_its_mail() {
    let (app, pool) = spawn_app_with(&[]).await;
    app.post_form("/locale", &[("locale", "id"), ("next", "/")])
        .await;
    app.sign_up_confirmed("ana@kilat.test", "Ana").await;
    assert_eq!(
        stored_locales(&pool, "ana@kilat.test").await,
        (Some("id".into()), Some("id".into()))
    );
    let mailbox = app.page("/dev/mailbox").await;
    assert!(
        mailbox.contains("Konfirmasi alamat email Anda"),
        "{mailbox}"
    );
    assert!(!mailbox.contains("Confirm your email address"));

    // Switching while signed in moves both; the next auth mail is in English.
    app.post_form("/locale", &[("locale", "en"), ("next", "/dashboard")])
        .await;
    assert_eq!(
        stored_locales(&pool, "ana@kilat.test").await,
        (Some("en".into()), Some("en".into()))
    );
    let stranger = app.other_browser();
    let response = stranger
        .post_form(
            "/auth/forgot-password?lang=id",
            &[("email", "ana@kilat.test")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let mailbox = app.page("/dev/mailbox").await;
    assert!(mailbox.contains("Reset your password"), "{mailbox}");
    assert!(!mailbox.contains("Atur ulang kata sandi"));

    // A visitor's switch stores nothing.
    stranger
        .post_form("/locale", &[("locale", "id"), ("next", "/")])
        .await;
    assert_eq!(
        stored_locales(&pool, "ana@kilat.test").await,
        (Some("en".into()), Some("en".into()))
    );
}

#[tokio::test]
async fn a_magic_link_makes_a_new_account_in_the_language_of_the_page_it_was_asked_from() {
    let (app, pool) = spawn_app_with(&[]).await;
    let response = app
        .post_form("/auth/magic-link?lang=id", &[("email", "budi@kilat.test")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        stored_locales(&pool, "budi@kilat.test").await,
        (Some("id".into()), Some("id".into()))
    );
    // A new address gets GoTrue's confirmation mail first, in the page's language.
    let mailbox = app.page("/dev/mailbox").await;
    assert!(
        mailbox.contains("Konfirmasi alamat email Anda"),
        "{mailbox}"
    );
    assert!(!mailbox.contains("Confirm your email address"));
}
