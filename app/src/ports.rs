//! What the UI needs from the backend, as small traits the server implements and provides as
//! Leptos context. Server functions stay thin: read input, call a port, map errors.

use serde::{Deserialize, Serialize};

/// A message caught by the local mail twin (development only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtEmail {
    pub id: String,
    /// RFC 3339.
    pub received_at: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    /// Every http(s) link in the message, in order, to click.
    pub links: Vec<String>,
}

/// The local mail twin's mailbox; provided only in local mode.
#[cfg(feature = "ssr")]
pub trait DevMailbox: Send + Sync {
    /// Messages, newest first.
    fn messages(&self) -> Vec<CaughtEmail>;
}
