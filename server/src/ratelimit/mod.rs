//! One rate limiter for every capability: named policies ([`Policy`]: a limit, a window and
//! what is counted — the client's address, the user, or address + email) checked against one
//! of two stores.
//!
//! - PostgreSQL (the default): `consume_rate_limit`, one atomic upsert, so every server instance
//!   on the database counts against the same limit. Checks arriving together share one
//!   statement (`coalesce`): under load the database commits once for many requests.
//! - Memory ([`MemoryStore`]): this process only (`RATE_LIMIT_STORE=memory`).
//!
//! When the database fails (or does not answer within [`DB_CHECK_TIMEOUT`]) at the moment of a
//! check, that check is counted in memory instead, continuing from the last count the database
//! gave this process, and a warning is logged when the outage starts (and a note when it ends).
//! After a failure, checks go straight to memory rather than each waiting for the timeout, and
//! every [`DB_RETRY_AFTER`] one of them asks the database again. An outage neither lifts the
//! limits nor takes the route down.
//!
//! Every limited answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the window ends); a refusal is 429 with `Retry-After`.
//! A route takes a policy in one line — `.route_layer(limiter.per_ip(&policies.google))` — and a
//! service calls [`RateLimiter::check`] with the [`Subject`] it knows.

mod coalesce;
mod http;
pub mod memory;
pub mod policy;

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, postgres::types::PgInterval};

use self::coalesce::Coalescer;
pub use self::{
    http::{LimitLayer, Refused},
    memory::MemoryStore,
    policy::{AuthPolicies, KeyKind, Policy, Quota, RateLimitSettings, StoreKind, Subject},
};

/// How long a check waits for the database before counting in memory instead.
/// As long as the pool waits for a free connection, so that a busy database is not mistaken for
/// a failed one (which would count in this process only).
pub const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed check, how long checks count in memory before asking the database again.
pub const DB_RETRY_AFTER: Duration = Duration::from_secs(2);

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
    // Checked at run time (every integration test of a limited route runs it; see
    // `several_keys_in_one_round_trip_count_like_one_at_a_time`), not by `query!`.
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
    /// Started on the first check (it needs the runtime): concurrent checks share statements.
    coalescer: OnceLock<Coalescer>,
    memory: MemoryStore,
    db_timeout: Duration,
    outage: Outage,
}

/// Whether the database is failing, so that an outage is logged once when it starts and once
/// when it ends, and checks during it do not each wait for the timeout: after a failure, checks
/// count in memory; every [`DB_RETRY_AFTER`] one check at a time asks the database again.
#[derive(Default)]
struct Outage {
    state: Mutex<OutageState>,
}

#[derive(Default)]
struct OutageState {
    /// When the last database check failed; `None` while the database answers.
    failed_at: Option<Instant>,
    /// When the check now asking the database again started.
    probe_since: Option<Instant>,
}

impl Outage {
    fn state(&self) -> std::sync::MutexGuard<'_, OutageState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether this check should count in memory without asking the database. A probe that
    /// never finished (its request was dropped) stops counting as one after `timeout`.
    fn skip_database(&self, timeout: Duration) -> bool {
        self.skip_database_at(timeout, Instant::now())
    }

    fn skip_database_at(&self, timeout: Duration, now: Instant) -> bool {
        let mut state = self.state();
        let Some(failed_at) = state.failed_at else {
            return false;
        };
        if now.saturating_duration_since(failed_at) < DB_RETRY_AFTER
            || state
                .probe_since
                .is_some_and(|since| now.saturating_duration_since(since) < timeout)
        {
            return true;
        }
        state.probe_since = Some(now);
        false
    }

    fn began(&self, error: &dyn std::fmt::Display) {
        self.began_at(error, Instant::now());
    }

    fn began_at(&self, error: &dyn std::fmt::Display, now: Instant) {
        let mut state = self.state();
        if state.failed_at.is_none() {
            tracing::warn!(
                %error,
                "rate limits: the database failed; counting in memory until it answers again"
            );
        } else {
            tracing::debug!(%error, "rate limits: the database still fails");
        }
        state.failed_at = Some(now);
        state.probe_since = None;
    }

    fn ended(&self) {
        let mut state = self.state();
        state.probe_since = None;
        if state.failed_at.take().is_some() {
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
            coalescer: OnceLock::new(),
            memory: MemoryStore::new(),
            db_timeout: DB_CHECK_TIMEOUT,
            outage: Outage::default(),
        }
    }

    /// Counters in this process only.
    pub fn in_memory() -> Self {
        Self {
            pool: None,
            coalescer: OnceLock::new(),
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
        let answer = self
            .consume(&checks)
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
            });
        if !answer.allowed {
            // The request's span names the route and the request id; the key holds the address.
            tracing::info!(
                policy = policies.first().map_or("", |policy| policy.name),
                limit = answer.limit,
                retry_after_secs = answer.retry_after_secs(),
                "refused by a rate limit"
            );
        }
        answer
    }

    /// One decision per check, in order: from the database (in one statement, shared with the
    /// checks running at the same moment), or from memory.
    async fn consume(&self, checks: &[(String, Quota)]) -> Vec<RateLimitDecision> {
        if let Some(pool) = &self.pool
            && !checks.is_empty()
            && !self.outage.skip_database(self.db_timeout)
        {
            let coalescer = self
                .coalescer
                .get_or_init(|| Coalescer::start(pool.clone()));
            let batch = checks
                .iter()
                .map(|(key, quota)| (key.clone(), quota.limit, quota.window))
                .collect();
            match tokio::time::timeout(self.db_timeout, coalescer.consume(batch)).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn during_an_outage_one_check_at_a_time_asks_the_database_again() {
        let outage = Outage::default();
        let timeout = Duration::from_secs(5);
        let t0 = Instant::now();
        assert!(!outage.skip_database_at(timeout, t0), "healthy: ask");
        outage.began_at(&"refused", t0);
        assert!(outage.skip_database_at(timeout, t0 + Duration::from_secs(1)));
        let retry = t0 + DB_RETRY_AFTER;
        assert!(!outage.skip_database_at(timeout, retry), "the probe asks");
        assert!(outage.skip_database_at(timeout, retry), "the others wait");
        assert!(
            !outage.skip_database_at(timeout, retry + timeout),
            "a probe that never finished no longer counts"
        );
        outage.began_at(&"still refused", retry + timeout);
        assert!(outage.skip_database_at(timeout, retry + timeout));
        outage.ended();
        assert!(!outage.skip_database_at(timeout, retry + timeout));
        assert!(!outage.skip_database_at(timeout, retry + timeout));
    }

    #[test]
    fn the_stricter_answer_is_the_refusal_or_the_fewest_left() {
        let answer = |allowed, remaining, reset_secs| RateLimit {
            allowed,
            limit: 10,
            remaining,
            reset_secs,
        };
        let refused_long = answer(false, 0, 900);
        let refused_short = answer(false, 0, 60);
        let low = answer(true, 1, 60);
        let high = answer(true, 5, 900);
        assert_eq!(low.stricter(refused_short), refused_short);
        assert_eq!(refused_short.stricter(refused_long), refused_long);
        assert_eq!(refused_long.stricter(refused_short), refused_long);
        assert_eq!(high.stricter(low), low);
        assert_eq!(low.stricter(high), low);
        assert_eq!(
            answer(true, 1, 60).stricter(answer(true, 1, 900)),
            answer(true, 1, 900),
            "equally few left: the longer wait"
        );
    }

    #[test]
    fn headers_say_the_limit_what_is_left_and_when_to_retry() {
        let allowed = RateLimit {
            allowed: true,
            limit: 10,
            remaining: 3,
            reset_secs: 42,
        };
        let headers: Vec<String> = allowed
            .headers()
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect();
        assert_eq!(
            headers,
            [
                "x-ratelimit-limit: 10",
                "x-ratelimit-remaining: 3",
                "x-ratelimit-reset: 42"
            ]
        );
        let refused = RateLimit {
            allowed: false,
            remaining: 0,
            reset_secs: 0,
            ..allowed
        };
        assert!(
            refused
                .headers()
                .iter()
                .any(|(name, value)| name == "retry-after" && value == "1"),
            "never Retry-After: 0"
        );
    }
}
