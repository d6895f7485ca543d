use kilat_server::db::migrations::MIGRATOR;
use serde_json::Value;

use crate::helpers::{TestDb, spawn_app, spawn_app_on, unreachable_pool};

#[tokio::test]
async fn health_is_ok_on_a_migrated_database() {
    let app = spawn_app().await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();

    assert_eq!(body["status"], "ok");
    assert_eq!(body["environment"], "development");
    assert_eq!(body["database"]["ok"], true);
    assert!(body["database"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["migrations"]["applied"], MIGRATOR.iter().count());
    assert_eq!(body["migrations"]["pending"], 0);
    let features = body["features"].as_object().unwrap();
    let names: Vec<&str> = features.keys().map(String::as_str).collect();
    for name in ["auth", "waitlist", "contact", "admin"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
        let feature = &features[name];
        assert_eq!(feature["enabled"], true);
        assert_eq!(feature["disabled_by_flag"], false);
        assert!(feature["missing_env"].is_array());
    }
    // AI answers from the local AI twin until the chosen provider's key is set.
    let ai = &features["ai"];
    assert_eq!(ai["mode"], "local stand-in");
    assert_eq!(ai["enabled"], true);
    assert_eq!(ai["missing_env"], serde_json::json!(["OPENAI_API_KEY"]));
    // Payments go to the local Midtrans twin until its key is set.
    assert_eq!(body["payment_provider"], "midtrans");
    assert_eq!(features["payments"]["mode"], "local stand-in");
    assert_eq!(
        features["payments"]["missing_env"],
        serde_json::json!(["MIDTRANS_SERVER_KEY"])
    );
    assert_eq!(
        features["auth"]["missing_env"],
        serde_json::json!(["SUPABASE_URL", "SUPABASE_ANON_KEY"])
    );
}

#[tokio::test]
async fn health_reports_features_switched_off_and_configured() {
    let db = TestDb::migrated().await;
    let app = spawn_app_on(
        db.pool,
        &[
            ("ENABLE_WAITLIST", "off"),
            ("OPENAI_API_KEY", "sk-test"),
            ("RESEND_API_KEY", "re_x"),
            ("MAIL_FROM", "a@b.id"),
            ("CONTACT_TO_EMAIL", "c@d.id"),
            ("PAYMENT_PROVIDER", "doku"),
            ("DOKU_CLIENT_ID", "BRN-1"),
        ],
    )
    .await;
    let body: Value = app.get("/api/health").await.json().await.unwrap();
    assert_eq!(body["payment_provider"], "doku");
    assert_eq!(
        body["features"]["payments"]["missing_env"],
        serde_json::json!(["DOKU_SECRET_KEY"])
    );
    assert_eq!(body["features"]["waitlist"]["enabled"], false);
    assert_eq!(body["features"]["waitlist"]["disabled_by_flag"], true);
    assert_eq!(body["features"]["ai"]["mode"], "ready");
    assert_eq!(body["features"]["contact"]["mode"], "ready");
    assert_eq!(
        body["features"]["contact"]["missing_env"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn health_is_503_while_migrations_are_pending() {
    let db = TestDb::empty().await;
    let app = spawn_app_on(db.pool, &[]).await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["migrations"]["applied"], 0);
    assert_eq!(body["migrations"]["pending"], MIGRATOR.iter().count());
    assert!(MIGRATOR.iter().count() > 0, "the repository has migrations");
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    let app = spawn_app_on(unreachable_pool(), &[]).await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database"]["ok"], false);
    assert_eq!(body["database"]["latency_ms"], Value::Null);
    assert_eq!(body["migrations"]["pending"], Value::Null);
}
