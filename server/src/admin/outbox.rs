//! The mail outbox as an admin reads it (`public.mail_outbox`): messages by status, newest first,
//! paged by keyset over `(created_at, id)`, with their attempts and last error; and a dead
//! message put back in the queue.
//!
//! A retry makes the message pending and due now, keeps its attempts and its last error (the
//! record of what went wrong), and restarts the give-up bound from now (`requeued_at`, see
//! `20261204000021_restart_mail_give_up_on_retry.sql`): otherwise the worker would give an old
//! message up again before sending it. It sends under the same idempotency key as before.

use app::admin::{
    AdminError, Page,
    records::{MailRetry, MailStatus, OutboxMessage},
};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    access::Admin,
    cursor::{self, Cursor},
    failed,
};
use crate::{
    audit::{self, AuditAction, AuditEntry},
    mail::outbox::CHANNEL,
};

fn status(word: &str) -> Result<MailStatus, AdminError> {
    MailStatus::parse(word).ok_or_else(|| {
        tracing::error!(word, "the outbox holds a status the app does not know");
        AdminError::Unavailable
    })
}

/// One row of the list, as read.
struct MessageRow {
    id: Uuid,
    kind: String,
    recipient: String,
    subject: Option<String>,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    last_attempt_at: Option<OffsetDateTime>,
    next_attempt_at: OffsetDateTime,
    sent_at: Option<OffsetDateTime>,
    dead_at: Option<OffsetDateTime>,
    requeued_at: Option<OffsetDateTime>,
}

/// Where a list starts: before every row (no message is queued in the year 9999).
fn top_of_list() -> Cursor<Uuid> {
    Cursor {
        at: OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT),
        id: Uuid::max(),
    }
}

/// One page of messages with `status` (`None`: any), newest first, after cursor `after`.
///
/// A statement per case, each with its index: by status
/// (`mail_outbox_status_created_at_idx`) or not (`mail_outbox_created_at_idx`); the keyset
/// condition is always there (the first page starts from [`top_of_list`]), so it is always an
/// index condition.
pub async fn list(
    pool: &PgPool,
    _admin: &Admin,
    status_filter: Option<MailStatus>,
    after: Option<&str>,
) -> Result<Page<OutboxMessage>, AdminError> {
    let after = Cursor::<Uuid>::decode(after)
        .map_err(|_| AdminError::BadRequest)?
        .unwrap_or_else(top_of_list);
    let limit = cursor::PAGE_QUERY_LIMIT;
    let rows =
        match status_filter {
            Some(wanted) => sqlx::query_as!(
                MessageRow,
                r#"select id, kind, recipient, subject, status, attempts, last_error, created_at,
                          last_attempt_at, next_attempt_at, sent_at, dead_at, requeued_at
                   from public.mail_outbox
                   where status = $1 and (created_at, id) < ($2, $3)
                   order by created_at desc, id desc
                   limit $4"#,
                wanted.as_db(),
                after.at,
                after.id,
                limit,
            )
            .fetch_all(pool)
            .await,
            None => sqlx::query_as!(
                MessageRow,
                r#"select id, kind, recipient, subject, status, attempts, last_error, created_at,
                          last_attempt_at, next_attempt_at, sent_at, dead_at, requeued_at
                   from public.mail_outbox
                   where (created_at, id) < ($1, $2)
                   order by created_at desc, id desc
                   limit $3"#,
                after.at,
                after.id,
                limit,
            )
            .fetch_all(pool)
            .await,
        }
        .map_err(failed)?;
    let seconds = |at: Option<OffsetDateTime>| at.map(OffsetDateTime::unix_timestamp);
    cursor::page(
        rows,
        |row| Cursor {
            at: row.created_at,
            id: row.id,
        },
        |row| {
            Ok(OutboxMessage {
                id: row.id.to_string(),
                kind: row.kind,
                recipient: row.recipient,
                subject: row.subject,
                status: status(&row.status)?,
                attempts: row.attempts,
                last_error: row.last_error,
                queued_at: row.created_at.unix_timestamp(),
                last_attempt_at: seconds(row.last_attempt_at),
                next_attempt_at: row.next_attempt_at.unix_timestamp(),
                sent_at: seconds(row.sent_at),
                dead_at: seconds(row.dead_at),
                requeued_at: seconds(row.requeued_at),
            })
        },
    )
}

/// Puts dead message `id` back in the queue, due now, audited `mail.retried` (target
/// `mail:<id>`, before and after) in the same transaction; wakes the workers. A message that
/// is not dead is left as it is, and nothing is audited.
pub async fn retry(pool: &PgPool, admin: &Admin, id: Uuid) -> Result<MailRetry, AdminError> {
    let mut tx = pool.begin().await.map_err(failed)?;
    // Only a dead row matches: of two admins retrying at once, the second waits for the first's
    // row lock, then sees a pending row and changes nothing.
    let requeued = sqlx::query!(
        r#"update public.mail_outbox m
           set status = 'pending', dead_at = null, next_attempt_at = now(), requeued_at = now()
           from (select id, dead_at from public.mail_outbox where id = $1 for update) before
           where m.id = before.id and m.status = 'dead'
           returning m.kind, m.attempts, m.last_error, before.dead_at"#,
        id,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(failed)?;
    let Some(requeued) = requeued else {
        let current =
            sqlx::query_scalar!("select status from public.mail_outbox where id = $1", id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(failed)?;
        return match current {
            None => Ok(MailRetry::Missing),
            Some(word) => Ok(MailRetry::NotDead(status(&word)?)),
        };
    };
    let target = id.to_string();
    audit::record(
        &mut *tx,
        &admin.audit_context(),
        AuditEntry {
            action: AuditAction::MailRetried,
            target_type: "mail",
            target_id: &target,
            metadata: json!({
                "kind": requeued.kind,
                "attempts": requeued.attempts,
                "last_error": requeued.last_error,
                "before": {
                    "status": MailStatus::Dead.as_db(),
                    "dead_at": requeued.dead_at.map(OffsetDateTime::unix_timestamp),
                },
                "after": { "status": MailStatus::Pending.as_db() },
            }),
        },
    )
    .await
    .map_err(failed)?;
    // Delivered on commit: every instance's worker looks at once instead of at its next poll.
    sqlx::query!("select pg_notify($1, '')", CHANNEL)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(MailRetry::Requeued)
}
