//! The server functions of the admin records: the audit trail, the waitlist, the mail outbox
//! and AI usage. Like every admin call, a caller who is not an admin gets HTTP 404 and nothing
//! else. The CSV exports are plain `GET` routes (`records::AUDIT_CSV_PATH`,
//! `records::WAITLIST_CSV_PATH`), not server functions: a browser downloads them.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::api::{answer, console};
use super::records::{
    AiUsageReport, AuditFilter, AuditRecord, MailRetry, MailStatus, OutboxMessage, WaitlistView,
};
use super::{AdminError, Page};

/// Audit entries matching `filter`, newest first, after cursor `after` (`None`: the first
/// page). A filter the server cannot use is [`AdminError::InvalidFilter`]; a cursor it did not
/// make is [`AdminError::BadRequest`].
#[server]
pub async fn load_audit_trail(
    filter: AuditFilter,
    after: Option<String>,
) -> Result<Option<Page<AuditRecord>>, AdminError> {
    answer(console()?.audit_trail(filter, after).await)
}

/// Waitlist signups whose address contains `search` (empty: all), newest first, and the
/// list's size.
#[server]
pub async fn load_waitlist(
    search: Option<String>,
    after: Option<String>,
) -> Result<Option<WaitlistView>, AdminError> {
    answer(console()?.waitlist(search.unwrap_or_default(), after).await)
}

/// Messages in the outbox with `status` (`None`: any), newest first.
#[server]
pub async fn load_mail_outbox(
    status: Option<MailStatus>,
    after: Option<String>,
) -> Result<Option<Page<OutboxMessage>>, AdminError> {
    answer(console()?.mail_outbox(status, after).await)
}

/// Puts dead message `id` back in the queue (audited); anything else is left as it is and
/// the answer says why.
#[server]
pub async fn retry_mail(id: String) -> Result<Option<MailRetry>, AdminError> {
    answer(console()?.retry_mail(id).await)
}

#[server]
pub async fn load_ai_usage() -> Result<Option<AiUsageReport>, AdminError> {
    answer(console()?.ai_usage().await)
}
