//! The twin through its routes, as Kilat's DOKU client, a browser and a webhook see it.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Method, StatusCode, header},
};
use chrono::Utc;
use serde_json::{Value, json};

use super::{DokuTwinConfig, TIMESTAMP_FORMAT, Twin, router};
use crate::{
    billing::signatures::{doku_digest, doku_signature, doku_signature_matches},
    local::{
        payment_notifier::test_receiver::{Received, Receiver},
        twin_test_support::{
            Answer, assert_shows, call, control, open_page, submit_page, taken_at_the_third_attempt,
        },
    },
};

const CLIENT_ID: &str = "BRN-0001-1700000000001";
const SECRET_KEY: &str = "SK-twin-tests-secret";
const WEBHOOK: &str = "/api/webhooks/doku";
const PUBLIC_URL: &str = "http://127.0.0.1:54321/doku";

fn twin(receiver: &Receiver) -> Router {
    router(config(receiver))
}

fn config(receiver: &Receiver) -> DokuTwinConfig {
    DokuTwinConfig {
        client_id: CLIENT_ID.into(),
        secret_key: SECRET_KEY.into(),
        notification_url: receiver.url(WEBHOOK),
        notification_target_path: WEBHOOK.into(),
        public_url: PUBLIC_URL.into(),
        http: reqwest::Client::new(),
        retry_delays: vec![Duration::from_millis(10); 3],
    }
}

/// The four headers a merchant sends, signed for `target` (and `body`'s digest, if any).
fn signed(
    request_id: &str,
    target: &str,
    body: Option<&[u8]>,
    secret: &str,
) -> Vec<(&'static str, String)> {
    let timestamp = Utc::now().format(TIMESTAMP_FORMAT).to_string();
    let digest = body.map(doku_digest);
    let signature = doku_signature(
        CLIENT_ID,
        request_id,
        &timestamp,
        target,
        digest.as_deref(),
        secret,
    );
    vec![
        ("client-id", CLIENT_ID.to_string()),
        ("request-id", request_id.to_string()),
        ("request-timestamp", timestamp),
        ("signature", signature),
    ]
}

async fn checkout(twin: &Router, request_id: &str, body: &Value) -> Answer {
    let bytes = body.to_string().into_bytes();
    let mut headers = signed(request_id, "/checkout/v1/payment", Some(&bytes), SECRET_KEY);
    headers.push(("content-type", "application/json".into()));
    call(twin, Method::POST, "/checkout/v1/payment", &headers, bytes).await
}

/// Creates `invoice` for Rp 99.000 returning to a callback page; the page's token.
async fn create(twin: &Router, invoice: &str) -> String {
    let answer = checkout(
        twin,
        &format!("create-{invoice}"),
        &json!({
            "order": {
                "amount": 99000,
                "invoice_number": invoice,
                "callback_url": "http://127.0.0.1:3000/billing/finish",
                "line_items": [{"name": "Kilat Pro", "price": 99000, "quantity": 1}],
            },
            "payment": {"payment_due_date": 60},
            "customer": {"id": "u-1", "name": "Ayu", "email": "ayu@example.id"},
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["message"], json!(["SUCCESS"]));
    let token = body["response"]["payment"]["token_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        body["response"]["payment"]["url"],
        format!("{PUBLIC_URL}/checkout-link-v2/{token}")
    );
    token
}

async fn status_of(twin: &Router, invoice: &str) -> Answer {
    let path = format!("/orders/v1/status/{invoice}");
    let headers = signed("status-1", &path, None, SECRET_KEY);
    call(twin, Method::GET, &path, &headers, Body::empty()).await
}

/// Checks `notification` exactly as our webhook must: the signature recomputed over the raw
/// bytes received, with our route's path as the target.
fn assert_signed(notification: &Received) -> Value {
    assert_eq!(notification.path, WEBHOOK);
    assert_eq!(notification.header("content-type"), "application/json");
    assert_eq!(notification.header("client-id"), CLIENT_ID);
    let timestamp = notification.header("request-timestamp");
    assert!(
        chrono::NaiveDateTime::parse_from_str(timestamp, TIMESTAMP_FORMAT).is_ok(),
        "{timestamp}"
    );
    assert!(doku_signature_matches(
        notification.header("signature"),
        notification.header("client-id"),
        notification.header("request-id"),
        timestamp,
        WEBHOOK,
        Some(&doku_digest(&notification.body)),
        SECRET_KEY,
    ));
    notification.json()
}

#[tokio::test]
async fn a_checkout_answers_in_dokus_shape() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let answer = checkout(
        &twin,
        "req-shape",
        &json!({"order": {"amount": 99000, "invoice_number": "INV-shape"},
                "payment": {"payment_due_date": 30, "payment_method_types": ["QRIS"]}}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let response = &answer.json()["response"];
    assert_eq!(response["order"]["amount"], "99000");
    assert_eq!(response["order"]["invoice_number"], "INV-shape");
    assert_eq!(response["order"]["currency"], "IDR");
    assert!(response["order"]["session_id"].is_string());
    assert_eq!(response["payment"]["payment_method_types"], json!(["QRIS"]));
    assert_eq!(response["payment"]["payment_due_date"], 30);
    let expired_date = response["payment"]["expired_date"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(expired_date, "%Y%m%d%H%M%S").is_ok(),
        "{expired_date}"
    );
    assert!(response["uuid"].is_u64());
    assert_eq!(response["headers"]["request_id"], "req-shape");
    assert_eq!(response["headers"]["client_id"], CLIENT_ID);

    let token = response["payment"]["token_id"].as_str().unwrap();
    let page = open_page(&twin, &format!("/checkout-link-v2/{token}")).await;
    assert!(page.text.contains(r#"data-testid="doku-method-QRIS""#));
    assert!(
        !page.text.contains("doku-method-CREDIT_CARD"),
        "only the requested methods"
    );
}

async fn post_checkout(twin: &Router, headers: Vec<(&'static str, String)>, body: &[u8]) -> Answer {
    call(
        twin,
        Method::POST,
        "/checkout/v1/payment",
        &headers,
        body.to_vec(),
    )
    .await
}

#[tokio::test]
async fn calls_with_wrong_or_missing_headers_are_refused() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let body = json!({"order": {"amount": 1000, "invoice_number": "INV-auth"}}).to_string();
    let body = body.as_bytes();
    let target = "/checkout/v1/payment";
    let good = signed("req-auth", target, Some(body), SECRET_KEY);

    let answer = post_checkout(
        &twin,
        signed("req-auth", target, Some(body), "SK-wrong"),
        body,
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        json!({"error_messages": ["Invalid Header Signature"]})
    );

    let tampered = br#"{"order":{"amount":1,"invoice_number":"INV-auth"}}"#;
    let answer = post_checkout(&twin, good.clone(), tampered).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    // The path on DOKU's host is what is signed, not the stand-in's prefixed path.
    let prefixed = signed(
        "req-auth",
        "/doku/checkout/v1/payment",
        Some(body),
        SECRET_KEY,
    );
    assert_eq!(
        post_checkout(&twin, prefixed, body).await.status,
        StatusCode::UNAUTHORIZED
    );

    let mut other_client = good.clone();
    other_client[0].1 = "BRN-0001-other".into();
    assert_eq!(
        post_checkout(&twin, other_client, body).await.status,
        StatusCode::UNAUTHORIZED
    );

    let missing: Vec<_> = good
        .iter()
        .filter(|(n, _)| *n != "request-id")
        .cloned()
        .collect();
    let answer = post_checkout(&twin, missing, body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error_messages": ["Missing required header: Request-Id"]})
    );

    let mut stale = good.clone();
    stale[2].1 = "2020-08-11T08:45:42Z".into();
    assert_eq!(
        post_checkout(&twin, stale, body).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut malformed = good.clone();
    malformed[2].1 = "2020-08-11 08:45:42".into();
    assert_eq!(
        post_checkout(&twin, malformed, body).await.status,
        StatusCode::BAD_REQUEST
    );

    let too_long = signed(&"r".repeat(129), target, Some(body), SECRET_KEY);
    assert_eq!(
        post_checkout(&twin, too_long, body).await.status,
        StatusCode::BAD_REQUEST
    );

    let too_big = vec![b' '; 100 * 1024];
    let headers = signed("req-big", target, Some(&too_big), SECRET_KEY);
    assert_eq!(
        post_checkout(&twin, headers, &too_big).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    assert_eq!(
        post_checkout(&twin, good, body).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn invalid_checkouts_and_a_reused_invoice_number_are_refused() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let invalid = checkout(
        &twin,
        "req-invalid",
        &json!({"order": {"amount": 99000, "invoice_number": "INV-bad",
                          "line_items": [{"name": "Pro", "price": 1, "quantity": 1}]}}),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        invalid.json(),
        json!({"error_messages": ["order.amount must equal the total of order.line_items"]})
    );
    create(&twin, "INV-reused").await;
    let again = checkout(
        &twin,
        "req-again",
        &json!({"order": {"amount": 5000, "invoice_number": "INV-reused"}}),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json(),
        json!({"error_messages": ["order.invoice_number is already used"]})
    );
}

#[tokio::test]
async fn paying_on_the_page_sends_a_signed_success_and_returns_to_the_callback() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let token = create(&twin, "INV-page").await;
    let page_path = format!("/checkout-link-v2/{token}");

    let page = open_page(&twin, &page_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_shows(
        &page,
        &[
            "DOKU Checkout sandbox stand-in (local development)",
            "INV-page",
            "Rp 99.000",
            r#"data-testid="doku-pay""#,
            r#"data-testid="doku-fail""#,
            r#"data-testid="doku-expire""#,
            r#"data-testid="doku-method-VIRTUAL_ACCOUNT_BCA""#,
            r#"data-testid="doku-method-QRIS""#,
            r#"data-testid="doku-method-CREDIT_CARD""#,
        ],
    );

    let paid = submit_page(&twin, &page_path, "method=VIRTUAL_ACCOUNT_BCA&action=pay").await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers[header::LOCATION],
        "http://127.0.0.1:3000/billing/finish"
    );

    let received = receiver.wait_for(1).await;
    let body = assert_signed(&received[0]);
    assert_eq!(
        body["order"],
        json!({"invoice_number": "INV-page", "amount": 99000})
    );
    assert_eq!(body["transaction"]["status"], "SUCCESS");
    assert_eq!(
        body["transaction"]["original_request_id"],
        "create-INV-page"
    );
    assert_eq!(body["channel"]["id"], "VIRTUAL_ACCOUNT_BCA");
    assert!(body["virtual_account_info"]["virtual_account_number"].is_string());

    let finished = open_page(&twin, &page_path).await;
    assert!(finished.text.contains(r#"data-testid="doku-state">Paid<"#));
    assert!(!finished.text.contains("doku-pay"));
}

#[tokio::test]
async fn a_refused_notification_is_retried_with_the_same_request_id_and_a_fresh_signature() {
    let receiver = Receiver::start(2).await;
    let twin = twin(&receiver);
    create(&twin, "INV-retry").await;
    control(&twin, "INV-retry", "pay", json!({"method": "QRIS"})).await;
    let received = taken_at_the_third_attempt(&receiver).await;
    for attempt in &received {
        assert_signed(attempt);
        assert_eq!(
            attempt.header("request-id"),
            received[0].header("request-id")
        );
        assert_eq!(attempt.body, received[0].body);
    }
}

#[tokio::test]
async fn the_status_api_is_signed_without_a_digest_and_follows_the_order() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "INV-status").await;

    let pending = status_of(&twin, "INV-status").await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.text);
    let body = pending.json();
    assert_eq!(body["transaction"]["status"], "PENDING");
    assert_eq!(
        body["transaction"]["original_request_id"],
        "create-INV-status"
    );
    assert_eq!(body["channel"]["id"], Value::Null);

    control(&twin, "INV-status", "fail", json!({})).await;
    control(&twin, "INV-status", "pay", json!({"method": "CREDIT_CARD"})).await;
    let body = status_of(&twin, "INV-status").await.json();
    assert_eq!(body["transaction"]["status"], "SUCCESS");
    assert_eq!(body["channel"]["id"], "CREDIT_CARD");

    let unknown = status_of(&twin, "INV-none").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.json()["error_messages"].is_array());

    let path = "/orders/v1/status/INV-status";
    let with_digest = signed("status-2", path, Some(b""), SECRET_KEY);
    let refused = call(&twin, Method::GET, path, &with_digest, Body::empty()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn letting_it_expire_on_the_page_sends_expired() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let token = create(&twin, "INV-expire").await;
    let expired = submit_page(
        &twin,
        &format!("/checkout-link-v2/{token}"),
        "method=QRIS&action=expire",
    )
    .await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    let body = assert_signed(&receiver.wait_for(1).await[0]);
    assert_eq!(body["transaction"]["status"], "EXPIRED");
    assert_eq!(body["channel"]["id"], "QRIS");
    let status = status_of(&twin, "INV-expire").await.json();
    assert_eq!(status["transaction"]["status"], "EXPIRED");
    assert_eq!(status["order"]["status"], "ORDER_EXPIRED");
}

#[tokio::test]
async fn an_order_past_its_due_date_expires_on_its_timer() {
    let receiver = Receiver::start(0).await;
    let (state, twin) = super::serve(config(&receiver));
    create(&twin, "INV-timer").await;
    // The shortest due date is a minute; the timer is set again for an order already due.
    let due = Utc::now();
    state
        .book
        .with("INV-timer", |t| t.order.expires_at = due)
        .unwrap();
    state.schedule_expiry("INV-timer".into(), due, Twin::expire_if_due);
    let body = assert_signed(&receiver.wait_for(1).await[0]);
    assert_eq!(body["transaction"]["status"], "EXPIRED");
    assert_eq!(body["channel"]["id"], Value::Null, "no method was chosen");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn notify_resends_the_same_notification_or_a_late_failed_after_success() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "INV-dup").await;
    assert_eq!(
        control(&twin, "INV-dup", "notify", json!({})).await.status,
        StatusCode::CONFLICT
    );
    control(&twin, "INV-dup", "fail", json!({"method": "CREDIT_CARD"})).await;
    control(
        &twin,
        "INV-dup",
        "pay",
        json!({"method": "VIRTUAL_ACCOUNT_BCA"}),
    )
    .await;
    let first = receiver.wait_for(2).await;
    let failed_id = first[0].header("request-id").to_string();
    let success_id = first[1].header("request-id").to_string();
    assert_ne!(failed_id, success_id);

    let answer = control(&twin, "INV-dup", "notify", json!({"times": 3})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["transaction_status"], "SUCCESS");
    assert_eq!(body["request_id"], success_id.as_str());
    assert_eq!(body["deliveries"].as_array().unwrap().len(), 3);
    let received = receiver.received();
    assert_eq!(received.len(), 5);
    for resent in &received[2..] {
        assert_signed(resent);
        assert_eq!(resent.header("request-id"), success_id);
        assert_eq!(resent.body, first[1].body);
    }

    let late = control(&twin, "INV-dup", "notify", json!({"status": "FAILED"})).await;
    assert_eq!(late.json()["request_id"], failed_id.as_str());
    assert_eq!(receiver.received()[5].body, first[0].body);

    for (body, status) in [
        (json!({"status": "EXPIRED"}), StatusCode::CONFLICT),
        (json!({"status": "PENDING"}), StatusCode::BAD_REQUEST),
        (json!({"times": 0}), StatusCode::BAD_REQUEST),
        (json!({"times": "many"}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            control(&twin, "INV-dup", "notify", body).await.status,
            status
        );
    }
    assert_eq!(
        control(&twin, "INV-dup", "expire", json!({})).await.status,
        StatusCode::CONFLICT,
        "a paid order is final"
    );
}

#[tokio::test]
async fn paying_without_notify_changes_the_state_and_sends_nothing() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "INV-lost").await;
    let answer = control(&twin, "INV-lost", "pay", json!({"notify": false})).await;
    assert_eq!(
        answer.json(),
        json!({"invoice_number": "INV-lost", "transaction_status": "SUCCESS", "notified": []})
    );
    assert_eq!(
        status_of(&twin, "INV-lost").await.json()["transaction"]["status"],
        "SUCCESS"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn an_unknown_page_token_is_a_404_page() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let page = open_page(&twin, "/checkout-link-v2/nope").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(
        control(&twin, "INV-none", "pay", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
}
