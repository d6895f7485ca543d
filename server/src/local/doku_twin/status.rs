//! `GET /orders/v1/status/{invoice_number}`, signed without a `Digest`: the latest
//! notification's shape (`order`, `transaction {status, date, original_request_id}`,
//! `service`, `acquirer`, `channel`, the channel's block), `PENDING` with null channel ids
//! before any, and DOKU's `order.status` (`ORDER_GENERATED`, `ORDER_EXPIRED`).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, Uri},
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{Twin, error::DokuError, signed};

pub(super) async fn status(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, DokuError> {
    // The path as called beneath `/doku`: what the caller signed as `Request-Target`.
    signed::verify(&headers, &twin.config, uri.path(), None, Utc::now())?;
    let answer = twin
        .book
        .with(&invoice_number, |t| t.status_answer())
        .ok_or(DokuError::UnknownInvoice)?;
    Ok(Json(answer).into_response())
}
