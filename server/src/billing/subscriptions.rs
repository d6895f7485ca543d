//! The subscription rules. Paying for the plan you have extends it by a month from the current
//! period's end; paying for another plan starts that plan now, for a month. Cancelling keeps
//! the plan to the period's end; resuming undoes that. A plan past its period's end goes back
//! to FREE ([`lapse_due`], run by every instance). Months are calendar months
//! (PostgreSQL's `interval '1 month'`: 31 January + 1 month is 28 or 29 February).

use app::domain::Plan;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, AuditAction, AuditContext, AuditEntry};

/// A subscription as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub plan: Plan,
    pub status: app::domain::SubscriptionStatus,
    pub current_period_end: Option<OffsetDateTime>,
    pub cancel_at_period_end: bool,
}

/// `user`'s subscription (every account has one, made at sign-up).
pub async fn of_user(pool: &PgPool, user: Uuid) -> Result<Option<Subscription>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select plan::text as "plan!", status::text as "status!", current_period_end, cancel_at_period_end
           from public.subscriptions where user_id = $1"#,
        user
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        Some(Subscription {
            plan: row.plan.parse().ok()?,
            status: row.status.parse().ok()?,
            current_period_end: row.current_period_end,
            cancel_at_period_end: row.cancel_at_period_end,
        })
    }))
}

/// Why a cancel or resume did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefused {
    #[error("there is no paid plan in force to cancel or resume")]
    NoPaidPlan,
}

/// Keeps `user`'s paid plan to the end of its period, then lets it lapse. Idempotent: a second
/// cancel changes nothing (and writes no second entry).
pub async fn cancel_at_period_end(
    pool: &PgPool,
    user: Uuid,
    context: &AuditContext<'_>,
) -> Result<(), CancelError> {
    set_cancel(pool, user, true, context).await
}

/// Undoes [`cancel_at_period_end`] while the period lasts.
pub async fn resume(
    pool: &PgPool,
    user: Uuid,
    context: &AuditContext<'_>,
) -> Result<(), CancelError> {
    set_cancel(pool, user, false, context).await
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error(transparent)]
    Refused(#[from] ChangeRefused),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

async fn set_cancel(
    pool: &PgPool,
    user: Uuid,
    cancel: bool,
    context: &AuditContext<'_>,
) -> Result<(), CancelError> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query!(
        r#"select plan::text as "plan!", cancel_at_period_end, current_period_end
           from public.subscriptions
           where user_id = $1 and plan <> 'FREE' and status = 'active' and current_period_end > now()
           for update"#,
        user
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChangeRefused::NoPaidPlan)?;
    if current.cancel_at_period_end == cancel {
        return Ok(());
    }
    sqlx::query!(
        "update public.subscriptions
         set cancel_at_period_end = $2, canceled_at = case when $2 then now() else null end
         where user_id = $1",
        user,
        cancel
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        context,
        AuditEntry {
            action: if cancel {
                AuditAction::SubscriptionCanceled
            } else {
                AuditAction::SubscriptionResumed
            },
            target_type: "subscription",
            target_id: &user.to_string(),
            metadata: json!({
                "plan": current.plan,
                "period_end": current.current_period_end.map(|end| end.unix_timestamp()),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves paid subscriptions whose period has ended back to FREE, audited
/// `subscription.lapsed`; returns how many. Safe to run from many processes at once: each row
/// is taken with `for update skip locked` and re-checked, so it changes once.
pub async fn lapse_due(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query!(
        r#"select user_id, plan::text as "plan!", current_period_end, cancel_at_period_end
           from public.subscriptions
           where plan <> 'FREE' and current_period_end <= now()
           order by current_period_end
           limit 500
           for update skip locked"#
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in &due {
        sqlx::query!(
            "update public.subscriptions
             set plan = 'FREE', status = 'active', current_period_start = null,
                 current_period_end = null, cancel_at_period_end = false, canceled_at = null
             where user_id = $1",
            row.user_id
        )
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &AuditContext::default(),
            AuditEntry {
                action: AuditAction::SubscriptionLapsed,
                target_type: "subscription",
                target_id: &row.user_id.to_string(),
                metadata: json!({
                    "from_plan": row.plan,
                    "period_end": row.current_period_end.map(|end| end.unix_timestamp()),
                    "why": if row.cancel_at_period_end { "canceled" } else { "not renewed" },
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len() as u64)
}
