//! Midtrans' error answers. Snap answers `{"error_messages": [...]}`; Core answers
//! `{"status_code": "<code>", "status_message": "...", "id": "<uuid>"}` with the same HTTP
//! status. The control endpoints answer in Snap's shape
//! ([`ControlError`](crate::local::twin_control::ControlError)).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use uuid::Uuid;

/// Snap's refusals of `POST /snap/v1/transactions`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum SnapError {
    #[error("the server key is missing or wrong")]
    Unauthorized,
    #[error("the transaction is not valid: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl IntoResponse for SnapError {
    fn into_response(self) -> Response {
        match self {
            SnapError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error_messages": [
                    "Access denied due to unauthorized transaction, please check client or server key",
                    "Visit https://snap-docs.midtrans.com/#request-headers for more details"
                ]})),
            )
                .into_response(),
            SnapError::Invalid(messages) => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error_messages": messages})),
            )
                .into_response(),
        }
    }
}

/// Core API's refusals of `GET /v2/{id}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum CoreError {
    #[error("the server key is missing or wrong")]
    Unauthorized,
    #[error("no such transaction")]
    NotFound,
}

impl IntoResponse for CoreError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            CoreError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unknown Merchant server_key/id"),
            CoreError::NotFound => (StatusCode::NOT_FOUND, "Transaction doesn't exist."),
        };
        (
            status,
            Json(json!({
                "status_code": status.as_u16().to_string(),
                "status_message": message,
                "id": Uuid::new_v4(),
            })),
        )
            .into_response()
    }
}
