//! Rate limits kept in PostgreSQL, so every server instance counts against the same limit.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, postgres::types::PgInterval};

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitDecision {
    pub allowed: bool,
    /// Requests left in the current window.
    pub remaining: u32,
    /// When the current window ends.
    pub reset_at: DateTime<Utc>,
}

/// Counts one request for `key` against `limit` per `window` (a fixed window that starts at the
/// key's first request), in one atomic statement.
pub async fn consume(
    db: impl PgExecutor<'_>,
    key: &str,
    limit: u32,
    window: Duration,
) -> Result<RateLimitDecision, sqlx::Error> {
    let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
    let window = i32::try_from(window.as_secs().max(1)).unwrap_or(i32::MAX);
    let row = sqlx::query!(
        r#"select allowed as "allowed!", remaining as "remaining!", reset_at as "reset_at!: DateTime<Utc>"
           from public.consume_rate_limit($1, $2, $3)"#,
        key,
        limit,
        window,
    )
    .fetch_one(db)
    .await?;
    Ok(RateLimitDecision {
        allowed: row.allowed,
        remaining: u32::try_from(row.remaining).unwrap_or(0),
        reset_at: row.reset_at,
    })
}

/// Deletes buckets whose window ended and that were idle for `older_than`; returns how many.
pub async fn cleanup(db: impl PgExecutor<'_>, older_than: Duration) -> Result<u64, sqlx::Error> {
    let older_than = PgInterval::try_from(older_than).map_err(sqlx::Error::Encode)?;
    let deleted = sqlx::query_scalar!(
        r#"select public.cleanup_rate_limit_buckets($1) as "deleted!""#,
        older_than
    )
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(deleted).unwrap_or(0))
}
