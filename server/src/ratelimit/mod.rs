//! One rate limiter for every capability: named policies ([`Policy`]: a limit, a window and
//! what is counted — the client's address, the user, or address + email) checked against one
//! of two stores.
//!
//! - PostgreSQL (the default): `consume_rate_limit`, one atomic upsert, so every server instance
//!   on the database counts against the same limit.
//! - Memory ([`MemoryStore`]): this process only (`RATE_LIMIT_STORE=memory`).
//!
//! When the database fails (or does not answer within [`DB_CHECK_TIMEOUT`]) at the moment of a
//! check, that check is counted in memory instead, continuing from the last count the database
//! gave this process, and a warning is logged when the outage starts (and a note when it ends).
//! For [`DB_RETRY_AFTER`] after a failure, checks go straight to memory rather than each
//! waiting for the timeout. An outage neither lifts the limits nor takes the route down.
//!
//! Every limited answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the window ends); a refusal is 429 with `Retry-After`.
//! A route takes a policy in one line — `.route_layer(limiter.per_ip(&policies.google))` — and a
//! service calls [`RateLimiter::check`] with the [`Subject`] it knows.

mod http;
pub mod memory;
pub mod policy;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, postgres::types::PgInterval};

pub use self::{
    http::{LimitLayer, Refused},
    memory::MemoryStore,
    policy::{AuthPolicies, KeyKind, Policy, Quota, RateLimitSettings, StoreKind, Subject},
};

/// How long a check waits for the database before counting in memory instead.
pub const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failed check, how long checks count in memory before asking the database again.
pub const DB_RETRY_AFTER: Duration = Duration::from_secs(1);

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

/// [`consume`] for several `(key, limit, window)` at once, in one statement (one round trip),
/// answered in order. Each key is still counted by its own atomic upsert; keys are counted in
/// sorted order, so two calls over the same keys never wait on each other's rows in a cycle.
pub async fn consume_many(
    db: impl PgExecutor<'_>,
    checks: &[(&str, u32, Duration)],
) -> Result<Vec<RateLimitDecision>, sqlx::Error> {
    let mut order: Vec<usize> = (0..checks.len()).collect();
    order.sort_by_key(|&i| checks[i].0);
    let keys: Vec<&str> = order.iter().map(|&i| checks[i].0).collect();
    let limits: Vec<i32> = order
        .iter()
        .map(|&i| i32::try_from(checks[i].1.max(1)).unwrap_or(i32::MAX))
        .collect();
    let windows: Vec<i32> = order
        .iter()
        .map(|&i| i32::try_from(checks[i].2.as_secs().max(1)).unwrap_or(i32::MAX))
        .collect();
    let rows: Vec<(bool, i32, DateTime<Utc>)> = sqlx::query_as(
        "select r.allowed, r.remaining, r.reset_at
         from unnest($1::text[], $2::int4[], $3::int4[]) with ordinality
           as c(key, max_requests, window_seconds, position)
         cross join lateral public.consume_rate_limit(c.key, c.max_requests, c.window_seconds) as r
         order by c.position",
    )
    .bind(&keys)
    .bind(&limits)
    .bind(&windows)
    .fetch_all(db)
    .await?;
    if rows.len() != checks.len() {
        return Err(sqlx::Error::Protocol(format!(
            "consume_rate_limit answered {} rows for {} keys",
            rows.len(),
            checks.len()
        )));
    }
    let mut decisions = vec![None; checks.len()];
    for (&i, (allowed, remaining, reset_at)) in order.iter().zip(rows) {
        decisions[i] = Some(RateLimitDecision {
            allowed,
            remaining: u32::try_from(remaining).unwrap_or(0),
            reset_at,
        });
    }
    Ok(decisions.into_iter().flatten().collect())
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

/// The limiter: a store, and the memory counters it falls back to.
pub struct RateLimiter {
    /// `None`: memory only.
    pool: Option<PgPool>,
    memory: MemoryStore,
    db_timeout: Duration,
    outage: Outage,
}

/// Whether the database is failing, so that an outage is logged once when it starts and once
/// when it ends, and checks during it do not each wait for the timeout.
#[derive(Default)]
struct Outage {
    /// When the last database check failed; `None` while the database answers.
    last_failure: Mutex<Option<Instant>>,
}

impl Outage {
    fn state(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Just failed: count in memory without asking the database again for a moment.
    fn resting(&self) -> bool {
        self.state()
            .is_some_and(|failed| failed.elapsed() < DB_RETRY_AFTER)
    }

    fn began(&self, error: &dyn std::fmt::Display) {
        let mut state = self.state();
        if state.is_none() {
            tracing::warn!(
                %error,
                "rate limits: the database failed; counting in memory until it answers again"
            );
        } else {
            tracing::debug!(%error, "rate limits: the database still fails");
        }
        *state = Some(Instant::now());
    }

    fn ended(&self) {
        let mut state = self.state();
        if state.take().is_some() {
            tracing::info!("rate limits: the database answers again; counting there");
        }
    }
}

/// What the policies of one check decided, as the client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub allowed: bool,
    /// The limit of the policy that decided (`X-RateLimit-Limit`).
    pub limit: u32,
    /// Requests left under that policy (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// Seconds until its window ends (`X-RateLimit-Reset`; `Retry-After` on a refusal).
    pub reset_secs: u64,
}

impl RateLimit {
    /// `Ok` when allowed, else the refusal; both carry the headers to send.
    pub fn admit(self) -> Result<RateLimit, Refused> {
        if self.allowed {
            Ok(self)
        } else {
            Err(Refused(self))
        }
    }

    /// When to try again: at least a second.
    pub fn retry_after_secs(&self) -> u64 {
        self.reset_secs.max(1)
    }

    fn from_decision(decision: RateLimitDecision, limit: u32) -> Self {
        let left = (decision.reset_at - Utc::now()).num_milliseconds().max(0);
        Self {
            allowed: decision.allowed,
            limit,
            remaining: decision.remaining,
            // Rounded up: "0" would invite a retry that is still refused.
            reset_secs: u64::try_from(left).unwrap_or(0).div_ceil(1000),
        }
    }

    /// Of two policies' answers, the one the client must heed: a refusal over an allowance (the
    /// refusal lasting longest), else the one with the fewest requests left.
    fn stricter(self, other: RateLimit) -> RateLimit {
        match (self.allowed, other.allowed) {
            (true, false) => other,
            (false, true) => self,
            (false, false) if other.reset_secs > self.reset_secs => other,
            (false, false) => self,
            (true, true)
                if (other.remaining, std::cmp::Reverse(other.reset_secs))
                    < (self.remaining, std::cmp::Reverse(self.reset_secs)) =>
            {
                other
            }
            (true, true) => self,
        }
    }
}

impl RateLimiter {
    /// Counters in PostgreSQL through `pool`, in memory while it fails.
    pub fn postgres(pool: PgPool) -> Self {
        Self {
            pool: Some(pool),
            memory: MemoryStore::new(),
            db_timeout: DB_CHECK_TIMEOUT,
            outage: Outage::default(),
        }
    }

    /// Counters in this process only.
    pub fn in_memory() -> Self {
        Self {
            pool: None,
            memory: MemoryStore::new(),
            db_timeout: DB_CHECK_TIMEOUT,
            outage: Outage::default(),
        }
    }

    /// The limiter `RATE_LIMIT_STORE` asks for.
    pub fn from_settings(settings: &RateLimitSettings, pool: PgPool) -> Self {
        match settings.store {
            StoreKind::Postgres => Self::postgres(pool),
            StoreKind::Memory => Self::in_memory(),
        }
    }

    /// How long a check waits for the database before counting in memory.
    pub fn with_db_timeout(mut self, timeout: Duration) -> Self {
        self.db_timeout = timeout;
        self
    }

    /// Counts one request from `subject` against every policy (each keeps its own counter) and
    /// returns the answer the client must heed. Never fails: see the module's fallback rule.
    pub async fn check(&self, policies: &[Policy], subject: &Subject<'_>) -> RateLimit {
        let checks: Vec<(String, Quota)> = policies
            .iter()
            .map(|policy| (subject.key(policy), policy.quota))
            .collect();
        self.consume(&checks)
            .await
            .into_iter()
            .zip(policies)
            .map(|(decision, policy)| RateLimit::from_decision(decision, policy.quota.limit))
            .reduce(RateLimit::stricter)
            .unwrap_or(RateLimit {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset_secs: 0,
            })
    }

    /// One decision per check, in order: from the database in one round trip, or from memory.
    async fn consume(&self, checks: &[(String, Quota)]) -> Vec<RateLimitDecision> {
        if let Some(pool) = &self.pool
            && !checks.is_empty()
            && !self.outage.resting()
        {
            let batch: Vec<(&str, u32, Duration)> = checks
                .iter()
                .map(|(key, quota)| (key.as_str(), quota.limit, quota.window))
                .collect();
            let checked = tokio::time::timeout(self.db_timeout, consume_many(pool, &batch)).await;
            match checked {
                Ok(Ok(decisions)) => {
                    self.outage.ended();
                    for ((key, quota), decision) in checks.iter().zip(&decisions) {
                        self.memory
                            .remember(key, quota.limit, quota.window, decision);
                    }
                    return decisions;
                }
                Ok(Err(error)) => self.outage.began(&error),
                Err(_) => self.outage.began(&format_args!(
                    "no answer within {} ms",
                    self.db_timeout.as_millis()
                )),
            }
        }
        checks
            .iter()
            .map(|(key, quota)| self.memory.consume(key, quota.limit, quota.window))
            .collect()
    }

    /// A layer that limits a route by client address under `policies` (one line per route).
    pub fn per_ip(self: &Arc<Self>, policies: &[Policy]) -> LimitLayer {
        LimitLayer::new(self.clone(), policies)
    }
}
