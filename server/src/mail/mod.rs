//! Email through Resend's API (`reference/providers.md`), or the local twin that speaks it.
//!
//! Application mail is never sent from a request: it is queued in the [`outbox`] in the
//! transaction of the event that causes it, rendered by [`templates`], and sent by the
//! [`worker`] (retried, never twice: `Idempotency-Key` = the queued row's id).

pub mod outbox;
pub mod templates;
pub mod worker;

pub use worker::OutboxSettings;

use serde::{Deserialize, Serialize};

/// One message to send.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    /// Resend accepts one address or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub to: Vec<String>,
    pub subject: String,
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail provider refused the message ({status} {name}): {message}")]
    Rejected {
        status: u16,
        /// Resend's error name (`validation_error`, `invalid_idempotent_request`, …); empty
        /// when the answer had none.
        name: String,
        message: String,
    },
    #[error("the mail provider could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
}

/// A Resend client. `base_url` is `https://api.resend.com`, or the local twin's address.
#[derive(Clone)]
pub struct Mailer {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

#[derive(Deserialize)]
struct Sent {
    id: String,
}

#[derive(Deserialize)]
struct ResendError {
    #[serde(default)]
    name: String,
    message: String,
}

impl Mailer {
    /// `http` is the server's shared outbound client ([`crate::outbound::http_client`]), whose
    /// user agent Resend requires.
    pub fn new(
        http: reqwest::Client,
        base_url: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: api_key.into(),
        }
    }

    /// Sends `email`. `idempotency_key` makes a retried send deliver once (Resend keeps keys 24 h).
    pub async fn send(&self, email: &Email, idempotency_key: &str) -> Result<String, MailError> {
        let response = self
            .http
            .post(format!("{}/emails", self.base_url))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", idempotency_key)
            .json(email)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response.json::<Sent>().await?.id);
        }
        let (name, message) = response
            .json::<ResendError>()
            .await
            .map(|e| (e.name, e.message))
            .unwrap_or_else(|_| {
                (
                    String::new(),
                    status
                        .canonical_reason()
                        .unwrap_or("unknown error")
                        .to_string(),
                )
            });
        Err(MailError::Rejected {
            status: status.as_u16(),
            name,
            message,
        })
    }
}
