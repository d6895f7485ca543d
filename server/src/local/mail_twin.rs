//! A local Resend: accepts `POST /emails` as Resend does and keeps the messages for the
//! development mailbox page (`/dev/mailbox`).
//!
//! Idempotency as Resend's: a request with an `Idempotency-Key` seen in the last 24 hours is
//! answered with the first message's id and mails nothing; the same key with another message
//! is refused 409 `invalid_idempotent_request`.
//!
//! An outage switch, for tests and for trying the outbox's retries by hand:
//! `POST /resend/_twin/outage {"failures": N}` makes the next N sends answer Resend's 500
//! (`{"statusCode":500,"name":"internal_server_error",…}`) without keeping the message.
//! `"status"` picks another refusal (422 `validation_error`, 429 `rate_limit_exceeded`, 503),
//! and `"delivered": true` keeps each message but still answers the error, as when the answer
//! is lost on the way back. `{"failures": 0}` ends the outage.
//!
//! A slow provider: `POST /resend/_twin/latency {"ms": N}` holds every answer N milliseconds
//! (the message is kept first), so sends overlap as they do against the real service.
//!
//! ```sh
//! curl -X POST localhost:54321/resend/_twin/outage -H 'content-type: application/json' -d '{"failures": 5}'
//! ```

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::mail::Email;

/// A message the twin accepted.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub email: Email,
}

/// What a key answered first, for a repeat of it.
struct Remembered {
    id: Uuid,
    email: Email,
}

/// The refusals the outage switch still has to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// How many sends to refuse.
    pub failures: u32,
    /// The refusal: 500 (the default), 422, 429 or 503.
    #[serde(default = "Outage::default_status")]
    pub status: u16,
    /// Keep the message all the same (the answer is lost, not the send).
    #[serde(default)]
    pub delivered: bool,
}

impl Outage {
    fn default_status() -> u16 {
        500
    }

    /// Resend's error name and message for the refusal.
    fn words(self) -> Option<(&'static str, &'static str)> {
        Some(match self.status {
            500 => ("internal_server_error", "An unexpected error occurred."),
            503 => (
                "service_unavailable",
                "The service is temporarily unavailable.",
            ),
            429 => (
                "rate_limit_exceeded",
                "Too many requests. You can only make 2 requests per second.",
            ),
            422 => (
                "validation_error",
                "The local twin was told to refuse this message.",
            ),
            _ => return None,
        })
    }
}

#[derive(Default)]
struct Inner {
    /// Newest last; at most [`CAPACITY`].
    messages: VecDeque<ReceivedEmail>,
    /// Idempotency keys of the last 24 hours (at most [`KEYS_KEPT`]).
    keys: HashMap<String, Remembered>,
    /// The same keys, oldest first, so forgetting expired ones costs nothing per send.
    key_order: VecDeque<(DateTime<Utc>, String)>,
    /// Sends asked for, per idempotency key (`""` for none), whatever the answer.
    requests: HashMap<String, u32>,
    outage: Option<Outage>,
    /// How long each answer is held.
    latency: std::time::Duration,
}

/// Every message the twin accepted, newest last, and its switches. Cheap to clone; shared with
/// the mailbox page.
#[derive(Clone, Default)]
pub struct Mailbox {
    inner: Arc<Mutex<Inner>>,
}

/// How many messages the mailbox keeps; older ones are dropped (their keys are kept 24 h).
const CAPACITY: usize = 500;
/// How long Resend remembers an idempotency key.
const KEY_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// The most keys the twin remembers (a local stand-in's memory stays bounded however much
/// mail a benchmark sends); the oldest are forgotten first.
const KEYS_KEPT: usize = 100_000;

/// Why a send was not accepted.
enum Refusal {
    /// The key came with another message.
    KeyReused,
}

impl Mailbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("mailbox lock")
    }

    /// Messages, newest first.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        self.lock().messages.iter().rev().cloned().collect()
    }

    /// How many sends came with `idempotency_key`, whatever they were answered.
    pub fn requests_with_key(&self, idempotency_key: &str) -> u32 {
        self.lock()
            .requests
            .get(idempotency_key)
            .copied()
            .unwrap_or(0)
    }

    /// How many sends came at all.
    pub fn requests(&self) -> u32 {
        self.lock().requests.values().sum()
    }

    /// Refuses the next `outage.failures` sends (0 ends an outage).
    pub fn set_outage(&self, outage: Outage) {
        self.lock().outage = (outage.failures > 0).then_some(outage);
    }

    /// Holds every answer for `latency` (zero: answers at once).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.lock().latency = latency;
    }

    /// Counts a send, and takes one refusal of the outage if one is on.
    fn arrive(&self, idempotency_key: Option<&str>) -> Option<Outage> {
        let mut inner = self.lock();
        *inner
            .requests
            .entry(idempotency_key.unwrap_or_default().to_string())
            .or_default() += 1;
        let outage = inner.outage?;
        inner.outage = (outage.failures > 1).then_some(Outage {
            failures: outage.failures - 1,
            ..outage
        });
        Some(outage)
    }

    /// Stores `email` unless `idempotency_key` was seen in the last 24 hours; returns the
    /// message's id either way, or refuses a key that came with another message.
    fn accept(&self, email: Email, idempotency_key: Option<String>) -> Result<Uuid, Refusal> {
        let mut inner = self.lock();
        let now = Utc::now();
        while let Some((at, _)) = inner.key_order.front()
            && (now - *at >= KEY_LIFETIME || inner.key_order.len() > KEYS_KEPT)
        {
            let (_, key) = inner.key_order.pop_front().expect("a front element");
            inner.keys.remove(&key);
        }
        if let Some(key) = &idempotency_key
            && let Some(earlier) = inner.keys.get(key)
        {
            return if earlier.email == email {
                Ok(earlier.id)
            } else {
                Err(Refusal::KeyReused)
            };
        }
        let received = ReceivedEmail {
            id: Uuid::new_v4(),
            received_at: now,
            email,
        };
        let id = received.id;
        if let Some(key) = idempotency_key {
            inner.key_order.push_back((now, key.clone()));
            inner.keys.insert(
                key,
                Remembered {
                    id,
                    email: received.email.clone(),
                },
            );
        }
        inner.messages.push_back(received);
        if inner.messages.len() > CAPACITY {
            inner.messages.pop_front();
        }
        Ok(id)
    }
}

impl app::ports::DevMailbox for Mailbox {
    fn messages(&self) -> Vec<app::ports::CaughtEmail> {
        Mailbox::messages(self)
            .into_iter()
            .map(|received| app::ports::CaughtEmail {
                id: received.id.to_string(),
                received_at: received.received_at.to_rfc3339(),
                links: links_in(&received.email.text),
                from: received.email.from,
                to: received.email.to,
                subject: received.email.subject,
                text: received.email.text,
            })
            .collect()
    }
}

/// The http(s) links in a plain-text message, in order.
fn links_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')'))
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(str::to_string)
        .collect()
}

/// Resend's `POST /emails`, mounted wherever the twin's base URL points, and the outage switch
/// at `/_twin/outage`.
pub fn router(mailbox: Mailbox) -> Router {
    Router::new()
        .route("/emails", post(send))
        .route("/_twin/outage", post(set_outage))
        .route("/_twin/latency", post(set_latency))
        .with_state(mailbox)
}

fn resend_error(status: StatusCode, name: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "name": name, "message": message})),
    )
        .into_response()
}

fn outage_error(outage: Outage) -> Response {
    let (name, message) = outage.words().unwrap_or(("internal_server_error", ""));
    resend_error(
        StatusCode::from_u16(outage.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        name,
        message,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Latency {
    ms: u64,
}

async fn set_latency(State(mailbox): State<Mailbox>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Latency>(&body) {
        Ok(latency) if latency.ms <= 60_000 => {
            mailbox.set_latency(std::time::Duration::from_millis(latency.ms));
            (StatusCode::OK, Json(json!({ "ms": latency.ms }))).into_response()
        }
        _ => resend_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "expected {\"ms\": N} with N from 0 to 60000",
        ),
    }
}

async fn set_outage(State(mailbox): State<Mailbox>, body: axum::body::Bytes) -> Response {
    let outage: Outage = match serde_json::from_slice(&body) {
        Ok(outage) => outage,
        Err(e) => {
            return resend_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                &format!(
                    "expected {{\"failures\": N, \"status\"?: 500, \"delivered\"?: false}}: {e}"
                ),
            );
        }
    };
    if outage.words().is_none() {
        return resend_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "`status` must be 500, 503, 429 or 422.",
        );
    }
    mailbox.set_outage(outage);
    (StatusCode::OK, Json(outage)).into_response()
}

async fn send(
    State(mailbox): State<Mailbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_none_or(str::is_empty) {
        return resend_error(
            StatusCode::UNAUTHORIZED,
            "missing_api_key",
            "Missing API key in the authorization header.",
        );
    }
    if !headers.contains_key(header::USER_AGENT) {
        return resend_error(
            StatusCode::FORBIDDEN,
            "missing_user_agent",
            "A User-Agent header is required.",
        );
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let outage = mailbox.arrive(key.as_deref());
    if let Some(outage) = outage
        && !outage.delivered
    {
        return outage_error(outage);
    }
    let email: Email = match serde_json::from_slice(&body) {
        Ok(email) => email,
        Err(e) => {
            return resend_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                &e.to_string(),
            );
        }
    };
    if email.to.is_empty()
        || email.to.iter().any(|to| !to.contains('@'))
        || !email.from.contains('@')
    {
        return resend_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "`from` and every `to` must be email addresses.",
        );
    }
    let id = match mailbox.accept(email, key) {
        Ok(id) => id,
        Err(Refusal::KeyReused) => {
            return resend_error(
                StatusCode::CONFLICT,
                "invalid_idempotent_request",
                "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
            );
        }
    };
    let latency = mailbox.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(outage) = outage {
        return outage_error(outage);
    }
    (StatusCode::OK, Json(json!({"id": id}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::links_in;
    use crate::mail::Email;

    #[test]
    fn finds_every_link_in_a_plain_text_message() {
        let text = "Confirm: http://127.0.0.1:54321/auth/v1/verify?token=abc&type=signup\n\
                    (or <https://kilat.id/help>), not ftp://x";
        assert_eq!(
            links_in(text),
            [
                "http://127.0.0.1:54321/auth/v1/verify?token=abc&type=signup",
                "https://kilat.id/help"
            ]
        );
    }

    fn email(subject: &str) -> Email {
        Email {
            from: "Kilat <no-reply@kilat.local>".into(),
            to: vec!["ana@kilat.test".into()],
            subject: subject.into(),
            html: String::new(),
            text: "hi".into(),
            reply_to: None,
        }
    }

    #[test]
    fn a_key_answers_its_first_message_and_refuses_another_as_resend_does() {
        let mailbox = super::Mailbox::default();
        let first = mailbox.accept(email("a"), Some("k".into())).ok().unwrap();
        assert_eq!(
            mailbox.accept(email("a"), Some("k".into())).ok(),
            Some(first)
        );
        assert!(mailbox.accept(email("b"), Some("k".into())).is_err());
        assert_ne!(mailbox.accept(email("a"), None).ok(), Some(first));
        assert_eq!(mailbox.messages().len(), 2);
    }

    #[test]
    fn the_outage_refuses_as_many_sends_as_it_was_told() {
        let mailbox = super::Mailbox::default();
        mailbox.set_outage(super::Outage {
            failures: 2,
            status: 500,
            delivered: false,
        });
        assert!(mailbox.arrive(Some("a")).is_some());
        assert!(mailbox.arrive(Some("a")).is_some());
        assert!(mailbox.arrive(Some("a")).is_none());
        assert_eq!(mailbox.requests_with_key("a"), 3);
        assert_eq!(mailbox.requests(), 3);
    }
}
