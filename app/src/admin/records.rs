//! The admin records: the audit trail (`/admin/audit`), the waitlist (`/admin/waitlist`), the
//! mail outbox (`/admin/mail`) and AI usage (`/admin/ai`), with the CSV exports' addresses.

use serde::{Deserialize, Serialize};

use crate::domain::Plan;

/// `GET` with the [`AuditFilter`] as its query string: the filtered trail as CSV, every row.
pub const AUDIT_CSV_PATH: &str = "/admin/audit.csv";
/// `GET`: the whole waitlist as CSV, newest first.
pub const WAITLIST_CSV_PATH: &str = "/admin/waitlist.csv";

/// How many days the AI usage chart shows, today included.
pub const AI_USAGE_DAYS: usize = 30;
/// How many people the AI usage page ranks.
pub const AI_TOP_USERS: usize = 10;

/// The audit trail's filters as an admin typed them; empty or absent is "any". The server
/// reads them (and refuses what it cannot use with [`super::AdminError::InvalidFilter`]):
/// - `actor`: an email (any case) or a user id;
/// - `action`: exactly, e.g. `payment.success`;
/// - `target`: `type:id` (`payment:KK-1`, `user:<uuid>`) or an id of any type;
/// - `from`, `to`: `YYYY-MM-DD`, whole days in WIB (Asia/Jakarta), both included.
///
/// The same names are the query string of [`AUDIT_CSV_PATH`] (see [`AuditFilter::csv_href`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl AuditFilter {
    /// The CSV export of the entries this filter shows.
    pub fn csv_href(&self) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let query = pairs
            .iter()
            .filter_map(|(name, value)| {
                let value = value.as_deref()?.trim();
                (!value.is_empty())
                    .then(|| format!("{name}={}", crate::components::island::query_encode(value)))
            })
            .collect::<Vec<_>>()
            .join("&");
        if query.is_empty() {
            AUDIT_CSV_PATH.to_string()
        } else {
            format!("{AUDIT_CSV_PATH}?{query}")
        }
    }
}

/// One audit entry, all of it: who, what, to what, from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// `None`: the system (webhooks, bootstrap, the CLI).
    pub actor_id: Option<String>,
    /// The actor's address when it happened.
    pub actor_email: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// The entry's details as indented JSON.
    pub metadata: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One waitlist signup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// Where the signup came from (a page, a campaign tag).
    pub source: Option<String>,
    /// Unix seconds.
    pub joined_at: i64,
}

/// A page of the waitlist and how long the whole list is (whatever the search).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistView {
    pub total: i64,
    pub page: super::Page<WaitlistEntry>,
}

/// Where a message in the outbox stands (`mail_outbox.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MailStatus {
    /// Waiting to be sent, or between attempts.
    Pending,
    /// The provider accepted it.
    Sent,
    /// Refused for good, or still unsent at the give-up bound: an admin may retry it.
    Dead,
}

impl MailStatus {
    pub const ALL: [MailStatus; 3] = [MailStatus::Pending, MailStatus::Sent, MailStatus::Dead];

    /// The column's word.
    pub fn as_db(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Dead => "dead",
        }
    }

    /// From the column's word (or a page's address).
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_db() == word)
    }
}

/// One message in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: String,
    /// The template: `waitlist_confirmation`, `contact_message`, `welcome`, `invoice`,
    /// `renewal_reminder`.
    pub kind: String,
    pub recipient: String,
    /// `None` until the worker rendered it (mail queued as facts).
    pub subject: Option<String>,
    pub status: MailStatus,
    /// Sends started so far.
    pub attempts: i32,
    /// The provider's (or the network's) last refusal, kept after a later success.
    pub last_error: Option<String>,
    /// Unix seconds, all of them.
    pub queued_at: i64,
    pub last_attempt_at: Option<i64>,
    /// When a worker may take it next (pending mail only means something).
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    pub dead_at: Option<i64>,
    /// When an admin last put it back in the queue.
    pub requeued_at: Option<i64>,
}

/// What retrying a message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailRetry {
    /// It was dead and is pending again, due now (audited).
    Requeued,
    /// It was not dead, so nothing changed: sent already, or still being tried.
    NotDead(MailStatus),
    /// No such message.
    Missing,
}

/// AI usage across everyone: the last [`AI_USAGE_DAYS`] days and this month's heaviest users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiUsageReport {
    /// Oldest first, every day present (zero when nothing was used), today last.
    pub days: Vec<AiDay>,
    /// The same days by provider and model, most tokens first.
    pub models: Vec<AiModelUsage>,
    /// This calendar month (WIB), most tokens first, at most [`AI_TOP_USERS`].
    pub top_users: Vec<AiTopUser>,
    /// The first day of this month, `YYYY-MM-DD`.
    pub month_starts: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiDay {
    /// `YYYY-MM-DD`, a calendar day in WIB.
    pub day: String,
    pub tokens: i64,
    /// Finished AI calls.
    pub calls: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiModelUsage {
    pub provider: String,
    pub model: String,
    pub tokens: i64,
    pub calls: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiTopUser {
    pub user_id: String,
    pub email: String,
    pub name: Option<String>,
    /// The plan in force now (what their quota counts against).
    pub plan: Plan,
    pub tokens: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_link_carries_the_filters_that_are_set() {
        assert_eq!(AuditFilter::default().csv_href(), AUDIT_CSV_PATH);
        let filter = AuditFilter {
            actor: Some(" Ana+x@Kilat.id ".into()),
            action: Some("payment.success".into()),
            target: Some("payment:KK 1&x=2".into()),
            from: Some("".into()),
            to: Some("2026-12-31".into()),
        };
        assert_eq!(
            filter.csv_href(),
            "/admin/audit.csv?actor=Ana%2Bx%40Kilat.id&action=payment.success\
             &target=payment%3AKK%201%26x%3D2&to=2026-12-31"
        );
    }

    #[test]
    fn mail_statuses_read_back_from_their_words() {
        for status in MailStatus::ALL {
            assert_eq!(MailStatus::parse(status.as_db()), Some(status));
        }
        assert_eq!(MailStatus::parse("Dead"), None);
    }
}
