//! The public site: pricing from the one plan catalogue, the legal pages, and what crawlers read.

use app::domain::Plan;
use app::i18n::{Locale, format_idr};
use app::pages::PUBLIC_PATHS;
use reqwest::header;

use crate::helpers::spawn_app;

#[tokio::test]
async fn pricing_shows_every_plan_at_the_catalogue_price_in_both_languages() {
    let app = spawn_app().await;
    for locale in Locale::ALL {
        let response = app
            .client
            .get(format!("{}/pricing?lang={}", app.address, locale.code()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains(&format!(r#"<html lang="{}""#, locale.code())));
        for &plan in Plan::ALL {
            assert!(html.contains(plan.name()), "{plan:?}");
            let price = format_idr(
                app::domain::PlanCatalogue::default().monthly_price_idr(plan),
                locale,
            );
            assert!(html.contains(&price), "{plan:?} at {price}");
        }
        assert!(
            html.contains(r#"href="/auth/sign-up""#),
            "the call to action leads to sign-up"
        );
    }
    let indonesian = app.page("/pricing?lang=id").await;
    assert!(
        indonesian.contains("100.000 token AI per bulan"),
        "allowance in Indonesian"
    );
    let english = app.page("/pricing?lang=en").await;
    assert!(
        english.contains("100,000 AI tokens a month"),
        "allowance in English"
    );
}

#[tokio::test]
async fn the_legal_pages_exist_in_both_languages_and_the_footer_links_them() {
    let app = spawn_app().await;
    let pages = [
        ("/terms", "Terms of service", "Ketentuan layanan"),
        ("/privacy", "Privacy policy", "Kebijakan privasi"),
    ];
    for (path, english, indonesian) in pages {
        let html = app.page(&format!("{path}?lang=en")).await;
        assert!(html.contains(english), "{path}");
        let html = app.page(&format!("{path}?lang=id")).await;
        assert!(html.contains(indonesian), "{path}");
        assert!(!html.contains(english), "{path}: no English left");
    }
    let landing = app.page("/").await;
    for path in ["/pricing", "/terms", "/privacy"] {
        assert!(landing.contains(&format!(r#"href="{path}""#)), "{path}");
    }
}

#[tokio::test]
async fn the_sitemap_lists_every_public_page_in_both_languages_with_alternates() {
    let app = spawn_app().await;
    let response = app.get("/sitemap.xml").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = response.text().await.unwrap();
    for path in PUBLIC_PATHS {
        let page = format!("{}{path}", app.address);
        for locale in Locale::ALL {
            let code = locale.code();
            assert!(
                xml.contains(&format!("<loc>{page}?lang={code}</loc>")),
                "{page} {code}"
            );
            assert!(
                xml.contains(&format!(r#"hreflang="{code}" href="{page}?lang={code}""#)),
                "{page} {code}"
            );
        }
        assert!(xml.contains(&format!(r#"hreflang="x-default" href="{page}""#)));
        // Every listed page answers, in the language its address names.
        let html = app.page(&format!("{path}?lang=id")).await;
        assert!(html.contains(r#"<html lang="id""#), "{path}");
    }
    assert_eq!(
        xml.matches("<url>").count(),
        PUBLIC_PATHS.len() * Locale::ALL.len()
    );

    let robots = app.page("/robots.txt").await;
    assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", app.address)));
    assert!(robots.contains("Disallow: /dashboard") && robots.contains("Disallow: /admin"));
}

#[tokio::test]
async fn the_status_page_tells_people_what_the_health_check_measures_in_their_language() {
    let app = spawn_app().await;
    let health: serde_json::Value = app.get("/api/health").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let english = app.page("/status?lang=en").await;
    assert!(english.contains("Everything is working."), "{english}");
    let applied = health["migrations"]["applied"].as_u64().unwrap();
    assert!(english.contains(&format!("Up to date ({applied} migrations)")));
    for feature in [
        "Sign-in",
        "Waitlist",
        "Contact form",
        "Payments",
        "Admin area",
        "AI",
    ] {
        assert!(english.contains(feature), "{feature}");
    }
    // In development, sign-in, payments and AI run on the local twins.
    assert!(english.contains("Working (local stand-in)"));

    let indonesian = app.page("/status?lang=id").await;
    assert!(indonesian.contains("Semuanya berjalan normal."));
    assert!(indonesian.contains(&format!("Mutakhir ({applied} migrasi)")));
    assert!(!indonesian.contains("Everything is working"));
    // No secrets: configuration names stay in /api/health's operator view.
    assert!(!english.contains("SUPABASE_") && !english.contains("_KEY"));
}

#[tokio::test]
async fn a_feature_turned_off_by_its_flag_says_so_on_the_status_page() {
    let (app, _) = crate::helpers::spawn_app_with(&[("ENABLE_CONTACT", "false")]).await;
    let html = app.page("/status?lang=en").await;
    assert!(html.contains("Turned off"), "{html}");
}

#[tokio::test]
async fn every_page_has_one_title_and_description_for_previews_in_its_language() {
    let app = spawn_app().await;
    let pricing = app.page("/pricing?lang=id").await;
    assert!(
        pricing.contains("<title>Harga · Kilat</title>"),
        "{pricing}"
    );
    assert!(pricing.contains(r#"<meta property="og:title" content="Harga · Kilat""#));
    assert!(pricing.contains(r#"<meta name="description" content="Satu harga bulanan per paket"#));
    assert_eq!(
        pricing.matches(r#"<meta name="description""#).count(),
        1,
        "one description"
    );
    assert_eq!(pricing.matches(r#"property="og:description""#).count(), 1);

    // A page without its own description carries the site's.
    let login = app.page("/auth/login?lang=en").await;
    assert!(login.contains("<title>Sign in · Kilat</title>"));
    assert!(login.contains(
        r#"<meta name="description" content="Kilat: the full-stack Rust SaaS foundation for Indonesian products.""#
    ));
    assert_eq!(login.matches(r#"<meta name="description""#).count(), 1);
    let landing = app.page("/?lang=en").await;
    assert!(landing.contains("<title>Kilat</title>"));
    assert!(landing.contains(r#"<meta property="og:title" content="Kilat""#));
}

#[tokio::test]
async fn link_previews_show_the_share_picture_by_its_absolute_address() {
    let (app, _) = crate::helpers::spawn_app_with(&[("SITE_URL", "https://kilat.example")]).await;
    for path in ["/?lang=id", "/pricing?lang=en", "/auth/login"] {
        let html = app.page(path).await;
        assert!(
            html.contains(r#"<meta property="og:image" content="https://kilat.example/og.png""#),
            "{path}: {html}"
        );
        assert_eq!(html.matches(r#"property="og:image""#).count(), 1, "{path}");
        assert!(html.contains(r#"<meta name="twitter:card" content="summary_large_image""#));
    }
    let indonesian = app.page("/?lang=id").await;
    assert!(indonesian.contains(r#"<meta property="og:image:alt" content="Logo petir Kilat"#));
    // The picture is what the tags promise: a 1200 × 630 PNG (width and height in its IHDR).
    let png = std::fs::read(crate::helpers::workspace_root().join("public/og.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let dimension = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((dimension(16), dimension(20)), (1200, 630));
    assert!(png.len() < 100 * 1024, "a preview picture stays small");
}
