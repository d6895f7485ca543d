//! What the payment twins' route tests share: calling a twin's router, its payment page and
//! its control endpoints, and checking a notification's retries.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode},
};
use serde_json::Value;
use tower::ServiceExt;

use crate::local::payment_notifier::test_receiver::{Received, Receiver};

/// What the twin answered.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }
}

pub async fn call<V: AsRef<str>>(
    twin: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, V)],
    body: impl Into<Body>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, value.as_ref());
    }
    let response = twin
        .clone()
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// The payment page at `path`, as a browser opens it.
pub async fn open_page(twin: &Router, path: &str) -> Answer {
    call::<&str>(twin, Method::GET, path, &[], Body::empty()).await
}

/// The payment page at `path` submitted with `form`, e.g. `method=qris&action=pay`.
pub async fn submit_page(twin: &Router, path: &str, form: &'static str) -> Answer {
    call(
        twin,
        Method::POST,
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    )
    .await
}

/// Asserts that `page` shows every one of `needles`.
pub fn assert_shows(page: &Answer, needles: &[&str]) {
    for needle in needles {
        assert!(
            page.text.contains(needle),
            "{needle} missing from {}",
            page.text
        );
    }
}

/// Calls the control endpoint `action` of the transaction with `reference`.
pub async fn control(twin: &Router, reference: &str, action: &str, body: Value) -> Answer {
    call(
        twin,
        Method::POST,
        &format!("/_twin/transactions/{reference}/{action}"),
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

/// Waits for a notification to `receiver` (started refusing two) to be taken at the third
/// attempt, checks no retry follows, and returns the three attempts.
pub async fn taken_at_the_third_attempt(receiver: &Receiver) -> Vec<Received> {
    let received = receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(receiver.received().len(), 3, "no retry after the 2xx");
    let answers: Vec<u16> = received.iter().map(|r| r.answered.as_u16()).collect();
    assert_eq!(answers, [500, 500, 200]);
    received
}
