//! The twin through its routes, as Kilat's Midtrans client, a browser and a webhook see it.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Method, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use super::{MidtransTwinConfig, router};
use crate::{
    billing::signatures::midtrans_signature_matches,
    local::{
        payment_notifier::test_receiver::{Received, Receiver},
        twin_test_support::{
            Answer, assert_shows, call, control, open_page, submit_page, taken_at_the_third_attempt,
        },
    },
};

const SERVER_KEY: &str = "SB-Mid-server-twin-tests";
const WEBHOOK: &str = "/api/webhooks/midtrans";
const PUBLIC_URL: &str = "http://127.0.0.1:54321/midtrans";

fn twin(receiver: &Receiver) -> Router {
    router(MidtransTwinConfig {
        server_key: SERVER_KEY.into(),
        notification_url: receiver.url(WEBHOOK),
        public_url: PUBLIC_URL.into(),
        http: reqwest::Client::new(),
        retry_delays: vec![Duration::from_millis(10); 3],
    })
}

fn basic(key: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:")))
}

async fn snap(twin: &Router, body: Value) -> Answer {
    let auth = basic(SERVER_KEY);
    call(
        twin,
        Method::POST,
        "/snap/v1/transactions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    )
    .await
}

/// Creates `order_id` for Rp 99.000 returning to a finish page; the page's token.
async fn create(twin: &Router, order_id: &str) -> String {
    let answer = snap(
        twin,
        json!({
            "transaction_details": {"order_id": order_id, "gross_amount": 99000},
            "item_details": [{"id": "PRO", "price": 99000, "quantity": 1, "name": "Kilat Pro"}],
            "customer_details": {"first_name": "Ayu", "email": "ayu@example.id"},
            "callbacks": {"finish": "http://127.0.0.1:3000/billing/finish"},
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let body = answer.json();
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(
        body["redirect_url"],
        format!("{PUBLIC_URL}/snap/v4/redirection/{token}")
    );
    token
}

async fn status_of(twin: &Router, id: &str) -> Answer {
    let auth = basic(SERVER_KEY);
    call(
        twin,
        Method::GET,
        &format!("/v2/{id}/status"),
        &[("authorization", &auth)],
        Body::empty(),
    )
    .await
}

/// Checks `notification` as our webhook must: every value a string, and the signature over
/// the raw fields.
fn assert_signed(notification: &Received) -> Value {
    assert_eq!(notification.path, WEBHOOK);
    assert_eq!(notification.header("content-type"), "application/json");
    assert_eq!(notification.header("user-agent"), "Veritrans");
    let body = notification.json();
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is not a string in {body}"))
            .to_string()
    };
    assert!(midtrans_signature_matches(
        &field("signature_key"),
        &field("order_id"),
        &field("status_code"),
        &field("gross_amount"),
        SERVER_KEY,
    ));
    for name in [
        "transaction_time",
        "transaction_id",
        "payment_type",
        "currency",
        "fraud_status",
        "status_message",
        "merchant_id",
    ] {
        field(name);
    }
    body
}

#[tokio::test]
async fn snap_refuses_a_missing_or_wrong_server_key() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let body = json!({"transaction_details": {"order_id": "KK-1", "gross_amount": 99000}});
    for auth in [
        None,
        Some(basic("SB-Mid-server-wrong")),
        Some("Basic !!!".into()),
    ] {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        let answer = call(
            &twin,
            Method::POST,
            "/snap/v1/transactions",
            &headers,
            body.to_string(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            answer.json()["error_messages"][0],
            "Access denied due to unauthorized transaction, please check client or server key"
        );
    }
}

#[tokio::test]
async fn snap_refuses_invalid_transactions_with_its_messages() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let answer = snap(
        &twin,
        json!({
            "transaction_details": {"order_id": "KK-1", "gross_amount": 99000},
            "item_details": [{"price": 49000, "quantity": 1, "name": "Basic"}],
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error_messages": ["transaction_details.gross_amount is not equal to the sum of item_details"]})
    );
    let auth = basic(SERVER_KEY);
    let malformed = call(
        &twin,
        Method::POST,
        "/snap/v1/transactions",
        &[("authorization", &auth)],
        "{\"transaction_details\":",
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.json()["error_messages"].is_array());
    let too_big = call(
        &twin,
        Method::POST,
        "/snap/v1/transactions",
        &[("authorization", &auth)],
        vec![b' '; 100 * 1024],
    )
    .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_reused_order_id_is_refused() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "KK-reused").await;
    let again = snap(
        &twin,
        json!({"transaction_details": {"order_id": "KK-reused", "gross_amount": 10000}}),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json(),
        json!({"error_messages": ["transaction_details.order_id sudah digunakan"]})
    );
}

#[tokio::test]
async fn paying_by_bank_transfer_on_the_page_notifies_pending_then_settlement() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let token = create(&twin, "KK-page-1").await;
    let page_path = format!("/snap/v4/redirection/{token}");

    let page = open_page(&twin, &page_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_shows(
        &page,
        &[
            "Midtrans sandbox stand-in (local development)",
            "KK-page-1",
            "Rp 99.000",
            r#"data-testid="midtrans-pay""#,
            r#"data-testid="midtrans-deny""#,
            r#"data-testid="midtrans-expire""#,
            r#"data-testid="midtrans-method-bank_transfer""#,
            r#"data-testid="midtrans-method-qris""#,
            r#"data-testid="midtrans-method-gopay""#,
            r#"data-testid="midtrans-method-credit_card""#,
        ],
    );

    let paid = submit_page(&twin, &page_path, "method=bank_transfer&action=pay").await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers[header::LOCATION],
        "http://127.0.0.1:3000/billing/finish?order_id=KK-page-1&status_code=200&transaction_status=settlement"
    );

    let received = receiver.wait_for(2).await;
    let pending = assert_signed(&received[0]);
    let settlement = assert_signed(&received[1]);
    assert_eq!(pending["transaction_status"], "pending");
    assert_eq!(pending["status_code"], "201");
    assert_eq!(settlement["transaction_status"], "settlement");
    assert_eq!(settlement["status_code"], "200");
    assert_eq!(settlement["fraud_status"], "accept");
    assert_eq!(settlement["gross_amount"], "99000.00");
    assert_eq!(settlement["payment_type"], "bank_transfer");
    assert_eq!(settlement["currency"], "IDR");
    assert_eq!(settlement["va_numbers"][0]["bank"], "bca");
    assert_eq!(pending["transaction_id"], settlement["transaction_id"]);
    let settled_at = settlement["settlement_time"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(settled_at, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{settled_at}"
    );

    let finished = open_page(&twin, &page_path).await;
    assert!(
        finished
            .text
            .contains(r#"data-testid="midtrans-state">Paid<"#)
    );
    assert!(
        !finished.text.contains("midtrans-pay"),
        "no buttons once final"
    );
    let again = submit_page(&twin, &page_path, "method=qris&action=pay").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(receiver.received().len(), 2, "nothing more sent");
}

#[tokio::test]
async fn a_card_payment_is_captured_with_fraud_status_accept() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "KK-card").await;
    let paid = control(&twin, "KK-card", "pay", json!({"method": "credit_card"})).await;
    assert_eq!(
        paid.json(),
        json!({"order_id": "KK-card", "transaction_status": "capture", "status_code": "200", "notified": ["capture"]})
    );
    let capture = assert_signed(&receiver.wait_for(1).await[0]);
    assert_eq!(capture["transaction_status"], "capture");
    assert_eq!(capture["fraud_status"], "accept");
    assert_eq!(capture["payment_type"], "credit_card");
}

#[tokio::test]
async fn a_refused_notification_is_retried_until_a_2xx() {
    let receiver = Receiver::start(2).await;
    let twin = twin(&receiver);
    create(&twin, "KK-retry").await;
    control(
        &twin,
        "KK-retry",
        "pay",
        json!({"method": "gopay", "settle": false}),
    )
    .await;
    let received = taken_at_the_third_attempt(&receiver).await;
    assert!(
        received.iter().all(|r| r.body == received[0].body),
        "same bytes each time"
    );
}

#[tokio::test]
async fn the_status_api_answers_in_the_notification_shape() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "KK-status").await;

    let unknown_yet = status_of(&twin, "KK-status").await;
    assert_eq!(unknown_yet.status, StatusCode::NOT_FOUND);
    let body = unknown_yet.json();
    assert_eq!(body["status_code"], "404");
    assert_eq!(body["status_message"], "Transaction doesn't exist.");
    assert!(body["id"].is_string());
    assert_eq!(
        status_of(&twin, "KK-nope").await.status,
        StatusCode::NOT_FOUND
    );

    control(&twin, "KK-status", "pay", json!({"method": "qris"})).await;
    let answer = status_of(&twin, "KK-status").await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["transaction_status"], "settlement");
    assert_eq!(body["status_code"], "200");
    assert_eq!(body["status_message"], "Success, transaction is found");
    assert_eq!(body["payment_type"], "qris");
    let transaction_id = body["transaction_id"].as_str().unwrap();
    assert_eq!(
        status_of(&twin, transaction_id).await.json()["order_id"],
        "KK-status"
    );

    let refused = call(
        &twin,
        Method::GET,
        "/v2/KK-status/status",
        &[("authorization", &basic("SB-Mid-server-wrong"))],
        Body::empty(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["status_code"], "401");
}

#[tokio::test]
async fn letting_it_expire_on_the_page_notifies_pending_then_expire() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let token = create(&twin, "KK-expire").await;
    let expired = submit_page(
        &twin,
        &format!("/snap/v4/redirection/{token}"),
        "method=qris&action=expire",
    )
    .await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert!(
        expired.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("status_code=407&transaction_status=expire")
    );
    let received = receiver.wait_for(2).await;
    assert_eq!(assert_signed(&received[0])["transaction_status"], "pending");
    let expire = assert_signed(&received[1]);
    assert_eq!(expire["transaction_status"], "expire");
    assert_eq!(expire["status_code"], "407");
    let status = status_of(&twin, "KK-expire").await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.json()["status_code"], "407");
}

/// `start_time` such that the transaction expires `seconds` from now (1-minute expiry).
fn expiring_in(seconds: i64) -> String {
    let start = chrono::Utc::now() - chrono::Duration::seconds(60 - seconds);
    crate::local::hosted_checkout::jakarta(start)
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

#[tokio::test]
async fn a_pending_transaction_expires_on_its_timer_and_an_unchosen_one_lapses_silently() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    for order_id in ["KK-timer-pending", "KK-timer-open"] {
        let answer = snap(
            &twin,
            json!({
                "transaction_details": {"order_id": order_id, "gross_amount": 25000},
                "expiry": {"start_time": expiring_in(2), "unit": "minute", "duration": 1},
            }),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    control(
        &twin,
        "KK-timer-pending",
        "pay",
        json!({"method": "bank_transfer", "settle": false}),
    )
    .await;
    let received = receiver.wait_for(2).await;
    let expire = assert_signed(&received[1]);
    assert_eq!(expire["order_id"], "KK-timer-pending");
    assert_eq!(expire["transaction_status"], "expire");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "a lapsed Snap token sends nothing"
    );
    assert_eq!(
        status_of(&twin, "KK-timer-open").await.status,
        StatusCode::NOT_FOUND
    );
    let refused = control(&twin, "KK-timer-open", "pay", json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn notify_resends_the_latest_or_an_older_status_n_times_at_once() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "KK-dup").await;
    let nothing_yet = control(&twin, "KK-dup", "notify", json!({})).await;
    assert_eq!(nothing_yet.status, StatusCode::CONFLICT);

    control(&twin, "KK-dup", "pay", json!({"method": "bank_transfer"})).await;
    let first_two = receiver.wait_for(2).await;

    let answer = control(&twin, "KK-dup", "notify", json!({"times": 3})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["transaction_status"], "settlement");
    let deliveries = body["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d["status"] == 200));
    let received = receiver.received();
    assert_eq!(received.len(), 5);
    assert!(received[2..].iter().all(|r| r.body == first_two[1].body));

    let older = control(&twin, "KK-dup", "notify", json!({"status": "pending"})).await;
    assert_eq!(older.json()["transaction_status"], "pending");
    let received = receiver.received();
    assert_eq!(
        received[5].body, first_two[0].body,
        "the pending, after the settlement"
    );

    for (body, status) in [
        (json!({"status": "deny"}), StatusCode::CONFLICT),
        (json!({"status": "refund"}), StatusCode::BAD_REQUEST),
        (json!({"times": 0}), StatusCode::BAD_REQUEST),
        (json!({"times": 101}), StatusCode::BAD_REQUEST),
        (json!({"surprise": true}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            control(&twin, "KK-dup", "notify", body).await.status,
            status
        );
    }
    assert_eq!(
        control(&twin, "KK-none", "notify", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn paying_without_notify_changes_the_state_and_sends_nothing() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    create(&twin, "KK-lost").await;
    let answer = control(
        &twin,
        "KK-lost",
        "pay",
        json!({"method": "qris", "notify": false}),
    )
    .await;
    assert_eq!(answer.json()["notified"], json!([]));
    assert_eq!(
        status_of(&twin, "KK-lost").await.json()["transaction_status"],
        "settlement"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn the_override_header_sends_notifications_elsewhere() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let auth = basic(SERVER_KEY);
    let elsewhere = receiver.url("/elsewhere");
    let answer = call(
        &twin,
        Method::POST,
        "/snap/v1/transactions",
        &[
            ("authorization", auth.as_str()),
            ("x-override-notification", &elsewhere),
        ],
        json!({"transaction_details": {"order_id": "KK-override", "gross_amount": 1000}})
            .to_string(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    control(&twin, "KK-override", "deny", json!({})).await;
    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].path, "/elsewhere");
    assert_eq!(received[0].json()["transaction_status"], "deny");
    assert_eq!(received[0].json()["status_code"], "202");
}

#[tokio::test]
async fn an_unknown_page_token_is_a_404_page() {
    let receiver = Receiver::start(0).await;
    let twin = twin(&receiver);
    let page = open_page(&twin, "/snap/v4/redirection/nope").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text.contains("Payment page not found"));
    let token = create(&twin, "KK-form").await;
    let bad = submit_page(
        &twin,
        &format!("/snap/v4/redirection/{token}"),
        "action=pay&method=cash",
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
