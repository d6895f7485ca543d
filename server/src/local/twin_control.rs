//! What the payment twins' `/_twin/` control endpoints share: how their JSON bodies are read
//! (an empty body takes every default, an unknown field is refused) and how they refuse, in
//! the gateways' own error shape `{"error_messages": [...]}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::json;

use crate::local::payment_notifier::MAX_BURST;

/// The control endpoints' refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No transaction has the reference; the message says so in the twin's words.
    #[error("{0}")]
    UnknownReference(&'static str),
    /// Not possible in the transaction's state.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            ControlError::UnknownReference(_) => StatusCode::NOT_FOUND,
            ControlError::Conflict(_) => StatusCode::CONFLICT,
            ControlError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error_messages": [self.to_string()]}))).into_response()
    }
}

/// A control endpoint's JSON options (unknown fields refused by `T`).
pub fn options<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ControlError::Invalid(format!("invalid body: {e}")))
}

/// `text` as `parse` reads it, when given; one it does not read is refused, naming `what` it
/// is and listing the `choices`.
pub fn one_of<T>(
    what: &str,
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
    choices: &str,
) -> Result<Option<T>, ControlError> {
    text.map(|text| {
        parse(text)
            .ok_or_else(|| ControlError::Invalid(format!("unknown {what} {text:?}: use {choices}")))
    })
    .transpose()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionOptions {
    method: Option<String>,
    notify: Option<bool>,
}

/// An action endpoint's `{"method", "notify"}`: the method as `method` reads it, and whether
/// to notify (by default yes).
pub fn action_options<M>(
    body: &[u8],
    method: impl FnOnce(Option<&str>) -> Result<Option<M>, ControlError>,
) -> Result<(Option<M>, bool), ControlError> {
    let options: ActionOptions = options(body)?;
    Ok((
        method(options.method.as_deref())?,
        options.notify.unwrap_or(true),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyOptions {
    times: Option<u64>,
    status: Option<String>,
}

/// A notify endpoint's `{"times", "status"}`: how many times to send at once (1 to
/// [`MAX_BURST`], by default 1), and the status as `status` reads it.
pub fn notify_options<S>(
    body: &[u8],
    status: impl FnOnce(Option<&str>) -> Result<Option<S>, ControlError>,
) -> Result<(usize, Option<S>), ControlError> {
    let options: NotifyOptions = options(body)?;
    let times = options
        .times
        .map_or(Some(1), |times| usize::try_from(times).ok())
        .filter(|times| (1..=MAX_BURST).contains(times))
        .ok_or_else(|| ControlError::Invalid(format!("times must be between 1 and {MAX_BURST}")))?;
    Ok((times, status(options.status.as_deref())?))
}
