//! Housekeeping on a timer: expired browser sessions and idle rate-limit buckets are deleted.
//!
//! Every server process runs the sweep. That is safe without coordination: each sweep is one
//! idempotent `delete … where <expired>` per table, so two processes sweeping at once only
//! delete the same rows once between them (PostgreSQL's row locks make the second delete skip
//! what the first removed), and a missed sweep is caught up by the next one.

use std::time::Duration;

use app::admin::system::BackgroundJob;
use sqlx::PgPool;

use super::job_runs::RunRecorder;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// Rate-limit buckets idle this long after their window ended are deleted.
const IDLE_BUCKET_AGE: Duration = Duration::from_secs(60 * 60);

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub rate_limit_buckets: u64,
}

/// Deletes the browser sessions whose expiry has passed (tower-sessions never deletes them
/// itself: it only ignores them when loading).
pub async fn delete_expired_sessions(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query("delete from kilat_private.sessions where expiry_date < now()")
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected())
}

/// One sweep of every table; a failure in one does not stop the other (the first failure is
/// what it returns).
pub async fn sweep(pool: &PgPool) -> Result<Swept, sqlx::Error> {
    let sessions = delete_expired_sessions(pool)
        .await
        .inspect_err(|error| tracing::warn!(%error, "deleting expired sessions failed"));
    let rate_limit_buckets = crate::ratelimit::cleanup(pool, IDLE_BUCKET_AGE)
        .await
        .inspect_err(|error| tracing::warn!(%error, "deleting idle rate-limit buckets failed"));
    let swept = Swept {
        sessions: sessions?,
        rate_limit_buckets: rate_limit_buckets?,
    };
    if swept != Swept::default() {
        tracing::info!(
            sessions = swept.sessions,
            rate_limit_buckets = swept.rate_limit_buckets,
            "deleted expired rows"
        );
    }
    Ok(swept)
}

/// Sweeps now and then every `interval`, until the runtime stops.
pub fn spawn_sweeper(pool: PgPool, interval: Duration) -> tokio::task::JoinHandle<()> {
    let mut runs = RunRecorder::new(pool.clone(), BackgroundJob::Housekeeping);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            runs.finished(sweep(&pool).await.map(drop)).await;
        }
    })
}
