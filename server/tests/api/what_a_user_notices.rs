//! The things a person sees around sign-in: the header knows them, links lead somewhere real,
//! `next` survives every way of signing in, and development-only hints stay in development.

use app::identity::api::SignOut;
use leptos::server_fn::ServerFn;

use crate::helpers::{NO_CONFIRMATION, TestDb, location, spawn_app_on, spawn_app_with};

#[tokio::test]
async fn the_header_shows_a_signed_in_person_their_initials_and_a_menu() {
    let (app, _) = spawn_app_with(&[NO_CONFIRMATION]).await;
    let anonymous = app.page("/").await;
    assert!(anonymous.contains("data-testid=\"header-sign-in\""));
    assert!(!anonymous.contains("data-testid=\"account-menu\""));

    app.sign_up_signed_in("ana@kilat.id", "Ana Lestari").await;
    for path in ["/", "/dashboard"] {
        let page = app.page(path).await;
        assert!(
            page.contains("data-testid=\"account-menu\""),
            "{path}: {page}"
        );
        assert!(!page.contains("data-testid=\"header-sign-in\""), "{path}");
        assert!(page.contains(">AL<"), "{path}: initials");
        assert!(page.contains("Ana Lestari"), "{path}");
        assert!(page.contains("href=\"/dashboard/settings\""), "{path}");
        assert!(page.contains("data-testid=\"sign-out\""), "{path}");
    }

    app.post_form(SignOut::PATH, &[]).await;
    assert!(
        app.page("/")
            .await
            .contains("data-testid=\"header-sign-in\"")
    );
}

#[tokio::test]
async fn the_landing_page_links_to_real_pages() {
    let (app, _) = spawn_app_with(&[]).await;
    let page = app.page("/").await;
    assert!(
        !page.contains("href=\"/api/health\""),
        "no raw JSON in the navigation"
    );
    // Every plan's button starts a sign-up.
    assert!(
        page.matches("href=\"/auth/sign-up\"").count() >= 4,
        "pricing buttons lead to sign-up"
    );
}

#[tokio::test]
async fn the_dashboard_leads_to_billing_and_the_pricing_page_to_checkout() {
    let (app, _) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("ana@kilat.id", "Ana").await;
    let page = app.page("/dashboard").await;
    assert!(page.contains("href=\"/dashboard/billing\""), "{page}");
    let pricing = app.page("/pricing").await;
    for plan in ["BASIC", "PRO", "ULTIMATE"] {
        assert!(
            pricing.contains(&format!("href=\"/checkout?plan={plan}\"")),
            "{plan}: {pricing}"
        );
    }
}

#[tokio::test]
async fn the_sign_in_page_carries_next_to_google_and_the_magic_link_but_never_a_hostile_one() {
    let (app, _) = spawn_app_with(&[]).await;
    let page = app.page("/auth/login?next=/dashboard/settings").await;
    assert!(
        page.contains("href=\"/auth/google?next=%2Fdashboard%2Fsettings\""),
        "{page}"
    );
    let magic_form = page
        .split("data-testid=\"magic-link-form\"")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .expect("the magic-link form");
    assert!(
        magic_form.contains("name=\"next\"")
            && magic_form.contains("value=\"/dashboard/settings\""),
        "{magic_form}"
    );

    let page = app.page("/auth/login?next=//evil.example").await;
    assert!(!page.contains("evil.example"), "{page}");
    assert!(page.contains("href=\"/auth/google\""), "{page}");
}

#[tokio::test]
async fn a_magic_link_request_lands_on_a_page_about_the_sign_in_link() {
    let (app, _) = spawn_app_with(&[]).await;
    let sent = app
        .post_form("/auth/magic-link", &[("email", "budi@kilat.id")])
        .await;
    assert_eq!(location(&sent), "/auth/magic-link-sent");
    let page = app.page("/auth/magic-link-sent").await;
    assert!(
        page.contains("Check your email for the sign-in link"),
        "{page}"
    );
    assert!(!page.contains("confirm your address"), "{page}");
}

#[tokio::test]
async fn the_local_mailbox_hint_shows_only_where_the_mailbox_exists() {
    let (app, _) = spawn_app_with(&[]).await;
    for path in ["/auth/sign-up-success", "/auth/magic-link-sent"] {
        assert!(
            app.page(path)
                .await
                .contains("data-testid=\"dev-mailbox-hint\""),
            "{path}"
        );
    }

    // Real Supabase and real email configured: no local stand-ins, so no mailbox.
    let pool = TestDb::migrated().await.pool;
    let app = spawn_app_on(
        pool,
        &[
            ("SUPABASE_URL", "http://127.0.0.1:9"),
            ("SUPABASE_ANON_KEY", "anon"),
            (
                "SUPABASE_JWT_SECRET",
                "super-secret-jwt-token-with-at-least-32-characters",
            ),
            ("RESEND_API_KEY", "re_test_key"),
        ],
    )
    .await;
    for path in ["/auth/sign-up-success", "/auth/magic-link-sent"] {
        let page = app.page(path).await;
        assert!(!page.contains("dev-mailbox-hint"), "{path}");
        assert!(!page.contains("/dev/mailbox"), "{path}");
    }
}
