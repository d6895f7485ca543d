//! The webhook ledger: every verified gateway notification is claimed here before its effects
//! are applied, so a notification delivered twice (or concurrently) takes effect once.

use std::time::Duration;

use app::domain::PaymentProvider;
use sqlx::{PgExecutor, postgres::types::PgInterval};
use uuid::Uuid;

/// One delivery of a gateway notification, identified by `(provider, event_id)`.
pub struct Delivery<'a> {
    pub provider: PaymentProvider,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub order_id: Option<&'a str>,
    pub payload: &'a serde_json::Value,
}

/// What a claim got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This delivery holds the event: apply its effects, then [`finish`] with the token.
    Claimed { token: Uuid, attempts: i32 },
    /// Already processed: answer 200 `duplicate` and do nothing.
    Duplicate,
    /// Another delivery holds a live claim: answer non-2xx so the gateway retries later.
    InProgress,
}

/// Claims `delivery`: the first claim wins; a failed event, or one whose claim is older than
/// `stale_after` (its holder crashed), is taken over with a new token.
pub async fn claim(
    db: impl PgExecutor<'_>,
    delivery: &Delivery<'_>,
    stale_after: Duration,
) -> Result<Claim, sqlx::Error> {
    let stale_after = PgInterval::try_from(stale_after).map_err(sqlx::Error::Encode)?;
    let row = sqlx::query!(
        r#"select outcome as "outcome!", claim_token, attempts as "attempts!"
           from public.claim_webhook_event(($1::text)::public.payment_provider, $2, $3, $4, $5, $6)"#,
        delivery.provider.as_db(),
        delivery.event_id,
        delivery.event_type,
        delivery.order_id,
        delivery.payload,
        stale_after,
    )
    .fetch_one(db)
    .await?;
    Ok(match (row.outcome.as_str(), row.claim_token) {
        ("claimed", Some(token)) => Claim::Claimed {
            token,
            attempts: row.attempts,
        },
        ("duplicate", _) => Claim::Duplicate,
        _ => Claim::InProgress,
    })
}

/// Marks a claimed event processed (`Ok`) or failed (`Err(reason)`). Returns false when the
/// claim was taken over meanwhile: the caller must then roll back what it did. Run it in the
/// same transaction as the effects.
pub async fn finish(
    db: impl PgExecutor<'_>,
    provider: PaymentProvider,
    event_id: &str,
    token: Uuid,
    outcome: Result<(), &str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select public.finish_webhook_event(($1::text)::public.payment_provider, $2, $3, $4, $5) as "finished!""#,
        provider.as_db(),
        event_id,
        token,
        outcome.is_ok(),
        outcome.err(),
    )
    .fetch_one(db)
    .await
}
