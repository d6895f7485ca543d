//! `POST /api/webhooks/midtrans` and `POST /api/webhooks/doku`: the gateways' notifications.
//!
//! The signature is checked over the raw bytes before anything else (401, nothing recorded);
//! a signed body that is not a notification is 400; then the report is settled
//! ([`settle`](super::settle)): 200 once applied, 200 `duplicate: true` for a repeat, 404 for
//! an order Kilat never made, and non-2xx for anything the gateway should retry (another
//! delivery holds the event, or the database failed). The body limit is the webhook class's
//! (`http_layers::WEBHOOK_BODY_LIMIT`). Not rate limited: only a correctly signed request gets
//! past the first check, and the gateways must never be turned away.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::{
    Billing, CLAIM_STALE_AFTER, DOKU_WEBHOOK_PATH, MIDTRANS_WEBHOOK_PATH, doku,
    gateway::{GatewayClient, GatewayReport},
    midtrans,
    settle::{self, Report, Settled},
};

/// The gateways give up on an answer after 5 s; a notification not settled by then is
/// answered 503 (and rolled back), so their retry settles it.
const ANSWER_WITHIN: Duration = Duration::from_secs(4);

pub fn router<S: Clone + Send + Sync + 'static>(billing: Arc<Billing>) -> Router<S> {
    Router::new()
        .route(MIDTRANS_WEBHOOK_PATH, post(from_midtrans))
        .route(DOKU_WEBHOOK_PATH, post(from_doku))
        .with_state(billing)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn not_this_gateway() -> Response {
    answer(
        StatusCode::NOT_FOUND,
        json!({ "error": "this gateway is not the one configured (PAYMENT_PROVIDER)" }),
    )
}

async fn from_midtrans(
    State(billing): State<Arc<Billing>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let GatewayClient::Midtrans(client) = &billing.gateway else {
        return not_this_gateway();
    };
    let notification = match midtrans::verify_notification(&body, client.server_key()) {
        Ok(notification) => notification,
        Err(midtrans::NotificationError::BadSignature) => return bad_signature(),
        Err(error @ midtrans::NotificationError::Malformed(_)) => return malformed(&error),
    };
    let payload = with_headers(notification.payload, &headers);
    settle_and_answer(
        &billing,
        &notification.report,
        &notification.event_id,
        &payload,
    )
    .await
}

async fn from_doku(
    State(billing): State<Arc<Billing>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let GatewayClient::Doku(client) = &billing.gateway else {
        return not_this_gateway();
    };
    let notification = match doku::verify_notification(
        &headers,
        &body,
        DOKU_WEBHOOK_PATH,
        client.client_id(),
        client.secret_key(),
    ) {
        Ok(notification) => notification,
        Err(doku::NotificationError::BadSignature) => return bad_signature(),
        Err(error @ doku::NotificationError::Malformed(_)) => return malformed(&error),
    };
    let payload = with_headers(notification.payload, &headers);
    settle_and_answer(
        &billing,
        &notification.report,
        &notification.event_id,
        &payload,
    )
    .await
}

fn bad_signature() -> Response {
    tracing::warn!("refused a gateway notification with a bad signature");
    answer(
        StatusCode::UNAUTHORIZED,
        json!({ "error": "invalid signature" }),
    )
}

fn malformed(error: &dyn std::error::Error) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        json!({ "error": error.to_string() }),
    )
}

/// The notification as kept in the ledger: its body, and the headers that came with it
/// (signatures included, for investigations; cookies and credentials have no business here).
fn with_headers(body: Value, headers: &HeaderMap) -> Value {
    let kept: serde_json::Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "cookie" | "authorization" | "proxy-authorization"
            )
        })
        .filter_map(|(name, value)| {
            Some((
                name.to_string(),
                Value::from(value.to_str().ok()?.chars().take(512).collect::<String>()),
            ))
        })
        .collect();
    json!({ "body": body, "headers": kept })
}

async fn settle_and_answer(
    billing: &Billing,
    report: &GatewayReport,
    event_id: &str,
    payload: &Value,
) -> Response {
    let settled = tokio::time::timeout(
        ANSWER_WITHIN,
        settle::settle(
            &billing.pool,
            CLAIM_STALE_AFTER,
            Report {
                report,
                event_id,
                payload,
                source: "webhook",
            },
        ),
    )
    .await;
    match settled {
        Ok(Ok(Settled::Applied { status, .. })) => answer(
            StatusCode::OK,
            json!({ "status": "ok", "payment_status": status.as_db() }),
        ),
        Ok(Ok(Settled::Duplicate)) => {
            answer(StatusCode::OK, json!({ "status": "ok", "duplicate": true }))
        }
        Ok(Ok(Settled::UnknownOrder)) => answer(
            StatusCode::NOT_FOUND,
            json!({ "error": "no payment has this order id" }),
        ),
        Ok(Ok(Settled::InProgress)) => answer(
            StatusCode::CONFLICT,
            json!({ "error": "this notification is being processed; retry later" }),
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, order = %report.order_id, "settling a gateway notification failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "the notification could not be processed; retry later" }),
            )
        }
        Err(_) => {
            tracing::error!(order = %report.order_id, "settling a gateway notification took too long");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "the notification could not be processed in time; retry later" }),
            )
        }
    }
}
