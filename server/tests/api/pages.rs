use crate::helpers::{spawn_app, spawn_app_on, spawn_app_with};

#[tokio::test]
async fn landing_page_is_server_rendered_with_a_nonce_based_content_security_policy() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();

    assert!(
        html.contains("Ship your Indonesian SaaS this week"),
        "hero rendered"
    );
    assert!(
        html.contains("IDR 99,000"),
        "pricing teaser in rupiah, written the English way"
    );
    assert!(
        html.contains("data-testid=\"theme-toggle\""),
        "interactive element rendered"
    );

    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce");
    assert!(
        nonce.len() >= 16,
        "nonce {nonce:?} is long enough to be unguessable"
    );
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the response's nonce"
    );

    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert!(uuid::Uuid::parse_str(headers["x-request-id"].to_str().unwrap()).is_ok());
}

#[tokio::test]
async fn every_page_gets_a_fresh_nonce() {
    let app = spawn_app().await;
    let first = app.get("/").await.headers()["content-security-policy"].clone();
    let second = app.get("/").await.headers()["content-security-policy"].clone();
    assert_ne!(first, second);
}

#[tokio::test]
async fn unknown_paths_answer_404_with_a_helpful_page() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("This page does not exist"));
    assert!(html.contains("href=\"/\""), "offers a way back");
}

#[tokio::test]
async fn html_is_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    for encoding in ["br", "gzip"] {
        let response = app
            .client
            .get(format!("{}/", app.address))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding);
    }
}

#[tokio::test]
async fn a_given_request_id_is_echoed_back() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/api/health", app.address))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
}

/// Working out the app's routes renders it once with resource loading switched off for the whole
/// process (leptos-rs/leptos#4773): a page whose data started loading meanwhile would wait
/// forever. Servers starting beside a serving one (as tests do, many to a process) must not
/// cause that.
#[tokio::test]
async fn pages_keep_rendering_while_other_servers_start_in_the_same_process() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (app, pool) = spawn_app_with(&crate::redirects::UNLIMITED).await;
    let stop = Arc::new(AtomicBool::new(false));
    let starter = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut started = 0;
            while !stop.load(Ordering::Relaxed) {
                runtime.block_on(spawn_app_on(pool.clone(), &[]));
                started += 1;
            }
            started
        }
    });
    // A page that waits for its data (the signed-in person) before answering.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    for attempt in 0..150 {
        let answer = client
            .get(format!("{}/dashboard", app.address))
            .send()
            .await;
        match answer {
            Ok(response) => assert_eq!(response.status(), 200),
            Err(error) => panic!("request {attempt} never answered: {error:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(
        starter.join().unwrap() > 0,
        "no other server started meanwhile"
    );
}
