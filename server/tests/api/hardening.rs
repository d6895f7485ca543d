//! What the server holds every request to, and what it cleans up: writes only from the site's
//! origin, body limits, bounded session growth and the sweep of expired rows, and the local
//! twin's keys being the Supabase CLI's.

use std::time::Duration;

use app::identity::api::SignUp;
use chrono::{DateTime, Utc};
use leptos::server_fn::ServerFn;
use reqwest::header;
use sqlx::PgPool;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{NO_CONFIRMATION, TestDb, spawn_app, spawn_app_on, spawn_app_with};

/// The Supabase CLI's local keys, as `supabase status` prints them.
const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
const CLI_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
/// The same claims in another order, as the twin used to sign its key.
const REORDERED_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE5ODM4MTI5OTYsImlzcyI6InN1cGFiYXNlLWRlbW8iLCJyb2xlIjoiYW5vbiJ9.invalid";

#[tokio::test]
async fn a_write_through_a_proxy_that_rewrites_host_passes_when_origin_is_the_site() {
    let app = spawn_app().await;
    let post = |origin: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{}/auth/magic-link", app.address))
            // What a reverse proxy in front of the app sends on.
            .header(header::HOST, "kilat-app.internal:8080")
            .form(&[("email", "ana@example.com")]);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.send()
    };
    let ours = post(Some(&app.address)).await.unwrap();
    assert_eq!(ours.status(), 303, "{:?}", ours.headers());

    for origin in [
        "https://evil.example",
        "null",
        "http://kilat-app.internal:8080",
    ] {
        let refused = post(Some(origin)).await.unwrap();
        assert_eq!(refused.status(), 403, "{origin}");
    }
}

/// Sends a POST of `size` bytes over a raw connection — with `Content-Length`, or chunked — and
/// returns the answer's status. The body is written while the answer is read, as a browser
/// does, so an early answer is seen even though the server stops reading.
async fn post_raw(address: &str, path: &str, size: usize, chunked: bool) -> u16 {
    let authority = address.trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(&authority).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let length_header = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {size}")
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nOrigin: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n{length_header}\r\n\r\n"
    );
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b'a'; 16 * 1024];
        let mut sent = 0;
        while sent < size {
            let n = chunk.len().min(size - sent);
            if chunked {
                writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                writer.write_all(&chunk[..n]).await?;
                writer.write_all(b"\r\n").await?;
            } else {
                writer.write_all(&chunk[..n]).await?;
            }
            sent += n;
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        std::io::Result::Ok(())
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let status = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let n = reader.read(&mut buffer).await.unwrap_or(0);
            answer.extend_from_slice(&buffer[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&answer);
        text.split(' ')
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
    })
    .await
    .expect("the server answers");
    writing.abort();
    status
}

#[tokio::test]
async fn a_5_mb_form_is_refused_413_with_or_without_content_length() {
    let app = spawn_app().await;
    const FIVE_MB: usize = 5 * 1024 * 1024;
    for path in [SignUp::PATH, "/auth/magic-link"] {
        for chunked in [false, true] {
            assert_eq!(
                post_raw(&app.address, path, FIVE_MB, chunked).await,
                413,
                "{path}, chunked: {chunked}"
            );
        }
    }
    // A form of ordinary size still gets through (and is answered by the route itself).
    let small = post_raw(&app.address, "/auth/magic-link", 2_000, true).await;
    assert_ne!(small, 413);
    assert!(small < 500, "{small}");
}

async fn session_rows(pool: &PgPool) -> Vec<DateTime<Utc>> {
    sqlx::query_scalar("select expiry_date from kilat_private.sessions")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn anonymous_sign_in_starts_keep_one_short_lived_row_per_browser() {
    // Starting Google sign-in is rate limited per address; this test is about sessions.
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION, ("RATE_LIMIT_GOOGLE", "1000/15m")]).await;
    for _ in 0..50 {
        let started = app.get("/auth/google").await;
        assert!(started.status().is_redirection(), "{}", started.status());
    }
    assert_eq!(session_rows(&pool).await.len(), 1, "one browser, one row");

    for _ in 0..50 {
        app.other_browser().get("/auth/google").await;
    }
    let rows = session_rows(&pool).await;
    assert!(rows.len() > 1, "{}", rows.len());
    let latest = Utc::now() + chrono::Duration::hours(1) + chrono::Duration::seconds(30);
    for expiry in &rows {
        assert!(
            *expiry <= latest,
            "{expiry} is past the one-hour flow lifetime"
        );
    }

    // Signing in gives the session its full lifetime back.
    let person = app.other_browser();
    person.get("/auth/google").await;
    person.sign_up_signed_in("lama@example.com", "Lama").await;
    let longest = session_rows(&pool).await.into_iter().max().unwrap();
    assert!(
        longest > Utc::now() + chrono::Duration::days(13),
        "a signed-in session lasts two weeks, not {longest}"
    );
}

#[tokio::test]
async fn expired_sessions_are_swept_when_the_server_starts_and_fresh_ones_stay() {
    let db = TestDb::migrated().await;
    sqlx::query(
        "insert into kilat_private.sessions (id, data, expiry_date) values
           ('expired', '\\x00', now() - interval '1 minute'),
           ('fresh', '\\x00', now() + interval '1 hour')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let _app = spawn_app_on(db.pool.clone(), &[]).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ids: Vec<String> = sqlx::query_scalar("select id from kilat_private.sessions")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        if ids == ["fresh"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still there: {ids:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_sweep_deletes_only_expired_rows_and_is_safe_to_run_twice_at_once() {
    let db = TestDb::migrated().await;
    sqlx::query(
        "insert into kilat_private.sessions (id, data, expiry_date)
         select 'old-' || n, '\\x00'::bytea, now() - interval '1 second'
         from generate_series(1, 20) n
         union all select 'new', '\\x00'::bytea, now() + interval '1 day'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let (a, b) = tokio::join!(
        kilat_server::db::maintenance::sweep(&db.pool),
        kilat_server::db::maintenance::sweep(&db.pool)
    );
    assert_eq!(
        a.unwrap().sessions + b.unwrap().sessions,
        20,
        "each expired row deleted once"
    );
    let left: i64 = sqlx::query_scalar("select count(*) from kilat_private.sessions")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
}

#[tokio::test]
async fn the_twin_accepts_the_supabase_cli_keys() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = TestDb::migrated().await;
    let _app = spawn_app_on(db.pool, &[("LOCAL_SUPABASE_PORT", &port.to_string())]).await;
    let settings = |key: &'static str| {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/auth/v1/settings"))
            .header("apikey", key)
            .send()
    };
    assert_eq!(settings(CLI_ANON_KEY).await.unwrap().status(), 200);
    assert_eq!(settings(CLI_SERVICE_ROLE_KEY).await.unwrap().status(), 200);
    assert_eq!(settings(REORDERED_ANON_KEY).await.unwrap().status(), 401);
}

/// The session cookie `/auth/google` sets, whole.
async fn google_start_cookie(app: &crate::helpers::TestApp) -> String {
    let started = app.get("/auth/google").await;
    started
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kilat_session="))
        .expect("starting a sign-in sets the session cookie")
        .to_string()
}

#[tokio::test]
async fn the_session_cookie_is_secure_exactly_when_the_site_is_https() {
    let (plain, _) = spawn_app_with(&[]).await;
    let cookie = google_start_cookie(&plain).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    // Development behind an https address (a tunnel, say): Secure all the same.
    let (tls, _) = spawn_app_with(&[("SITE_URL", "https://dev.kilat.example")]).await;
    let cookie = google_start_cookie(&tls).await;
    assert!(cookie.contains("Secure"), "{cookie}");
}
