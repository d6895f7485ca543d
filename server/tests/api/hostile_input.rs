//! Hostile input to every form route and server function: oversize, malformed, mistyped and
//! mis-encoded bodies, control characters and huge strings. None may crash a request or answer
//! 5xx, and the server keeps answering afterwards.

use app::admin::api::LoadAdminOverview;
use app::identity::api::{LoadCurrentUser, SignIn, SignOut, SignUp, UpdateFullName};
use app::pages::dev_mailbox::{DevMailboxExists, ListDevMailbox};
use leptos::server_fn::ServerFn;
use reqwest::header;

use crate::helpers::{TestApp, spawn_app_with};
use crate::redirects::UNLIMITED;

/// Every POST endpoint, with the field names it reads.
fn endpoints() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        (SignUp::PATH, &["email", "password", "full_name"]),
        (SignIn::PATH, &["email", "password", "next"]),
        (SignOut::PATH, &[]),
        (LoadCurrentUser::PATH, &[]),
        (UpdateFullName::PATH, &["full_name"]),
        (LoadAdminOverview::PATH, &[]),
        (ListDevMailbox::PATH, &[]),
        (DevMailboxExists::PATH, &[]),
        ("/auth/magic-link", &["email", "next"]),
        ("/auth/forgot-password", &["email"]),
        ("/auth/update-password", &["password"]),
        ("/locale", &["locale", "next"]),
    ]
}

/// A body and the content type it claims.
struct Body {
    what: String,
    content_type: &'static str,
    bytes: Vec<u8>,
}

fn body(what: impl Into<String>, content_type: &'static str, bytes: impl Into<Vec<u8>>) -> Body {
    Body {
        what: what.into(),
        content_type,
        bytes: bytes.into(),
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Values that have broken parsers before: control characters, CR/LF (header injection),
/// invalid UTF-8 percent-encodings, huge strings.
fn hostile_values() -> Vec<String> {
    vec![
        "%00".into(),
        "a%0d%0aLocation:%20https://evil.example".into(),
        "%ff%fe%fd".into(),
        "%c0%af".into(),
        "%e2%28%a1".into(),
        "%".into(),
        "%zz".into(),
        "%F0%9F%92%A9%00".into(),
        "a".repeat(30 * 1024),
        "a".repeat(100 * 1024),
    ]
}

fn corpus(fields: &[&str]) -> Vec<Body> {
    let mut bodies = vec![
        body(
            "5 MB form",
            FORM,
            format!("email={}", "a".repeat(5 * 1024 * 1024)),
        ),
        body("empty form", FORM, ""),
        body(
            "malformed json",
            "application/json",
            "{\"email\": \"ana@kilat.id\",",
        ),
        body("truncated json", "application/json", "{\"email\": \"an"),
        body(
            "deeply nested json",
            "application/json",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        body("json as a form", FORM, "{\"email\": \"ana@kilat.id\"}"),
        body("plain text", "text/plain", "hello"),
        body("xml", "application/xml", "<email>ana@kilat.id</email>"),
        body(
            "multipart without boundary",
            "multipart/form-data",
            "--x\r\n",
        ),
        body(
            "invalid utf-8 bytes",
            FORM,
            vec![b'e', b'=', 0xff, 0xfe, 0xc0, 0xaf],
        ),
        body(
            "duplicate fields",
            FORM,
            "email=a&email=b&password=c&password=d",
        ),
        body("no equals sign", FORM, "email&password"),
    ];
    for value in hostile_values() {
        let form = fields
            .iter()
            .map(|field| format!("{field}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let shown: String = value.chars().take(40).collect();
        bodies.push(body(format!("every field = {shown}"), FORM, form));
    }
    bodies
}

async fn send(app: &TestApp, path: &str, body: &Body, accept_html: bool) -> u16 {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::CONTENT_TYPE, body.content_type)
        .body(body.bytes.clone());
    if accept_html {
        request = request.header(header::ACCEPT, "text/html");
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        // The server may answer an oversize body (413) before reading it all and close the
        // connection; the client then sees a reset instead of the answer.
        Err(error) if body.bytes.len() > 1024 * 1024 => {
            eprintln!("{path} with {}: {error}", body.what);
            413
        }
        Err(error) => panic!("{path} with {}: no answer: {error}", body.what),
    }
}

#[tokio::test]
async fn hostile_bodies_never_answer_5xx_and_the_server_keeps_answering() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    let mut failures = Vec::new();
    for (path, fields) in endpoints() {
        for body in corpus(fields) {
            for accept_html in [false, true] {
                let status = send(&app, path, &body, accept_html).await;
                if status >= 500 {
                    failures.push(format!(
                        "{path} with {} (html: {accept_html}): {status}",
                        body.what
                    ));
                }
            }
        }
    }
    // A post without Origin (and without Sec-Fetch-Site), as scripts and old browsers send.
    for (path, fields) in endpoints() {
        let form: Vec<(&str, &str)> = fields.iter().map(|field| (*field, "x")).collect();
        let status = app
            .client
            .post(format!("{}{path}", app.address))
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status >= 500 {
            failures.push(format!("{path} without Origin: {status}"));
        }
    }
    assert!(failures.is_empty(), "5xx answers:\n{}", failures.join("\n"));
    assert_eq!(app.get("/").await.status(), 200, "still serving pages");
    assert_eq!(
        app.get("/auth/login").await.status(),
        200,
        "still serving pages"
    );
}

#[tokio::test]
async fn hostile_queries_never_answer_5xx() {
    let (app, _) = spawn_app_with(&UNLIMITED).await;
    // A fresh connection per request: the server rightly closes the connection after refusing
    // a 100 KB address, and a pooled client could send the next request into that closing socket.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let paths = [
        "/auth/confirm",
        "/auth/google",
        "/auth/login",
        "/auth/error",
        "/auth/forgot-password",
        "/auth/update-password",
        "/auth/sign-up",
        "/dashboard",
        "/",
        "/pricing",
        "/status",
    ];
    for path in paths {
        for value in hostile_values() {
            for key in [
                "next",
                "error",
                "message",
                "code",
                "error_description",
                "__err",
                "lang",
            ] {
                let url = format!(
                    "{}{path}?{key}={value}&__path={}",
                    app.address,
                    SignIn::PATH
                );
                let status = match client.get(&url).send().await {
                    Ok(response) => response.status().as_u16(),
                    // Over 64 KB: no client can send such an address.
                    Err(error) if error.is_builder() => continue,
                    Err(error) => panic!("{path}?{key}=…: no answer: {error:?}"),
                };
                if status >= 500 {
                    let shown: String = value.chars().take(40).collect();
                    failures.push(format!("{path}?{key}={shown}: {status}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "5xx answers:\n{}", failures.join("\n"));
    assert_eq!(app.get("/").await.status(), 200);
}
