//! DOKU's error answers: `{"error_messages": [...]}` with the HTTP status. The control
//! endpoints answer in the same shape
//! ([`ControlError`](crate::local::twin_control::ControlError)).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// DOKU's refusals of a merchant's call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum DokuError {
    /// A required header is missing or empty.
    #[error("Missing required header: {0}")]
    MissingHeader(&'static str),
    #[error("Invalid Client-Id")]
    UnknownClient,
    #[error("Request-Id must be at most 128 characters")]
    RequestIdTooLong,
    #[error("Invalid Request-Timestamp format, use yyyy-MM-ddTHH:mm:ssZ (UTC)")]
    TimestampFormat,
    #[error("Request-Timestamp is more than {0} minutes away from the current time")]
    TimestampOutOfRange(u64),
    #[error("Invalid Header Signature")]
    BadSignature,
    /// The body's problems, each in its own message.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("Invoice number not found")]
    UnknownInvoice,
}

impl IntoResponse for DokuError {
    fn into_response(self) -> Response {
        let status = match self {
            DokuError::UnknownClient | DokuError::BadSignature => StatusCode::UNAUTHORIZED,
            DokuError::UnknownInvoice => StatusCode::NOT_FOUND,
            DokuError::MissingHeader(_)
            | DokuError::RequestIdTooLong
            | DokuError::TimestampFormat
            | DokuError::TimestampOutOfRange(_)
            | DokuError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        let messages = match self {
            DokuError::Invalid(messages) => messages,
            other => vec![other.to_string()],
        };
        (status, Json(json!({ "error_messages": messages }))).into_response()
    }
}
