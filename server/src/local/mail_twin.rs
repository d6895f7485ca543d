//! A local Resend: accepts `POST /emails` as Resend does and keeps the messages for the
//! development mailbox page.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
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

/// An accepted message and the idempotency key it came with.
type Stored = (Option<String>, ReceivedEmail);

/// Every message the twin accepted, newest last. Cheap to clone; shared with the mailbox page.
#[derive(Clone, Default)]
pub struct Mailbox {
    messages: Arc<Mutex<Vec<Stored>>>,
}

/// How many messages the mailbox keeps; older ones are dropped.
const CAPACITY: usize = 500;

impl Mailbox {
    /// Messages, newest first.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        let messages = self.messages.lock().expect("mailbox lock");
        messages.iter().rev().map(|(_, m)| m.clone()).collect()
    }

    /// Stores `email` unless `idempotency_key` was seen; returns the message's id either way.
    fn accept(&self, email: Email, idempotency_key: Option<String>) -> Uuid {
        let mut messages = self.messages.lock().expect("mailbox lock");
        if let Some(key) = &idempotency_key
            && let Some((_, earlier)) = messages.iter().find(|(k, _)| k.as_ref() == Some(key))
        {
            return earlier.id;
        }
        let received = ReceivedEmail {
            id: Uuid::new_v4(),
            received_at: Utc::now(),
            email,
        };
        let id = received.id;
        messages.push((idempotency_key, received));
        if messages.len() > CAPACITY {
            messages.remove(0);
        }
        id
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

/// Resend's `POST /emails`, mounted wherever the twin's base URL points.
pub fn router(mailbox: Mailbox) -> Router {
    Router::new()
        .route("/emails", post(send))
        .with_state(mailbox)
}

fn resend_error(status: StatusCode, name: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "name": name, "message": message})),
    )
        .into_response()
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
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let id = mailbox.accept(email, key);
    (StatusCode::OK, Json(json!({"id": id}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::links_in;

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
}
