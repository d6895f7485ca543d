//! DOKU's check of a merchant's call: `Client-Id`, `Request-Id`, `Request-Timestamp` and
//! `Signature` headers, the signature over the path called (and the body's digest, for
//! calls with a body).

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::{DokuTwinConfig, TIMESTAMP_FORMAT, TIMESTAMP_TOLERANCE, error::DokuError};
use crate::{
    billing::signatures::{doku_digest, doku_signature_matches},
    crypto::constant_time_eq,
};

/// DOKU's limit on `Request-Id`.
const REQUEST_ID_MAX: usize = 128;

/// A call whose headers and signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SignedCall {
    pub(super) client_id: String,
    pub(super) request_id: String,
    pub(super) timestamp: String,
    pub(super) signature: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, DokuError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(DokuError::MissingHeader(name))
}

/// Checks a call to `target` (the path on DOKU's host) with `body` (`None` for a GET).
pub(super) fn verify(
    headers: &HeaderMap,
    config: &DokuTwinConfig,
    target: &str,
    body: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<SignedCall, DokuError> {
    let client_id = header(headers, "Client-Id")?;
    let request_id = header(headers, "Request-Id")?;
    let timestamp = header(headers, "Request-Timestamp")?;
    let signature = header(headers, "Signature")?;
    if config.client_id.is_empty()
        || !constant_time_eq(client_id.as_bytes(), config.client_id.as_bytes())
    {
        return Err(DokuError::UnknownClient);
    }
    if request_id.chars().count() > REQUEST_ID_MAX {
        return Err(DokuError::RequestIdTooLong);
    }
    let sent_at = NaiveDateTime::parse_from_str(timestamp, TIMESTAMP_FORMAT)
        .map_err(|_| DokuError::TimestampFormat)?
        .and_utc();
    let tolerance = TIMESTAMP_TOLERANCE.as_secs();
    if (now - sent_at).num_seconds().unsigned_abs() > tolerance {
        return Err(DokuError::TimestampOutOfRange(tolerance / 60));
    }
    let digest = body.map(doku_digest);
    if !doku_signature_matches(
        signature,
        client_id,
        request_id,
        timestamp,
        target,
        digest.as_deref(),
        &config.secret_key,
    ) {
        return Err(DokuError::BadSignature);
    }
    Ok(SignedCall {
        client_id: client_id.to_string(),
        request_id: request_id.to_string(),
        timestamp: timestamp.to_string(),
        signature: signature.to_string(),
    })
}
