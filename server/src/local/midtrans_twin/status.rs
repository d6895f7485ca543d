//! Core API's `GET /v2/{id}/status`, by order id or transaction id: the latest notification's
//! fields with `status_message: "Success, transaction is found"` (an expired transaction is
//! HTTP 200 with `status_code: "407"`). A Snap token with no method chosen yet, like an
//! unknown id, is a 404: Core learns of a Snap transaction only when the payer picks a method.

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};

use super::{Twin, error::CoreError};

pub(super) async fn status(
    State(twin): State<Twin>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, CoreError> {
    if !twin.authorized(&headers) {
        return Err(CoreError::Unauthorized);
    }
    let answer = twin
        .book
        .with(&id, |t| t.status_answer())
        .or_else(|| {
            let order_id = twin.book.find(|t| t.transaction_id.to_string() == id)?;
            twin.book.with(&order_id, |t| t.status_answer())
        })
        .flatten()
        .ok_or(CoreError::NotFound)?;
    Ok(Json(answer).into_response())
}
