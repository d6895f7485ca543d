//! Counters in this process's memory: the same fixed windows as `consume_rate_limit`, exact
//! within one process, and what every check falls back to while the database is unreachable.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::Utc;

use super::RateLimitDecision;

/// Sweep ended windows once the map holds this many keys (and then at twice what is left).
const FIRST_SWEEP_AT: usize = 4096;

struct Bucket {
    window_start: Instant,
    window: Duration,
    count: u32,
}

impl Bucket {
    fn ends(&self) -> Instant {
        self.window_start + self.window
    }
}

#[derive(Default)]
struct Buckets {
    by_key: HashMap<String, Bucket>,
    sweep_at: usize,
}

/// Fixed-window counters per key, kept in this process.
#[derive(Default)]
pub struct MemoryStore {
    buckets: Mutex<Buckets>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request for `key` against `limit` per `window`: a window starts at the key's
    /// first request, and the count stops just past the limit (as in the database).
    pub fn consume(&self, key: &str, limit: u32, window: Duration) -> RateLimitDecision {
        self.consume_at(key, limit, window, Instant::now())
    }

    fn consume_at(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> RateLimitDecision {
        let limit = limit.max(1);
        let window = window.max(Duration::from_secs(1));
        // Never held across an await; a poisoned lock only means another check panicked.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.by_key.len() >= buckets.sweep_at.max(FIRST_SWEEP_AT) {
            buckets.by_key.retain(|_, bucket| bucket.ends() > now);
            buckets.sweep_at = buckets.by_key.len() * 2;
        }
        let bucket = buckets.by_key.entry(key.to_string()).or_insert(Bucket {
            window_start: now,
            window,
            count: 0,
        });
        if bucket.window != window || now >= bucket.ends() {
            *bucket = Bucket {
                window_start: now,
                window,
                count: 0,
            };
        }
        bucket.count = (bucket.count + 1).min(limit.saturating_add(1));
        let left = bucket.ends().saturating_duration_since(now);
        RateLimitDecision {
            allowed: bucket.count <= limit,
            remaining: limit.saturating_sub(bucket.count),
            reset_at: Utc::now()
                + chrono::Duration::from_std(left).unwrap_or(chrono::Duration::zero()),
        }
    }

    /// Keeps what the database decided for `key`, so that a check falling back to memory in an
    /// outage continues from the last count this process saw instead of a fresh budget.
    pub fn remember(&self, key: &str, limit: u32, window: Duration, decision: &RateLimitDecision) {
        let left = (decision.reset_at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return;
        }
        let limit = limit.max(1);
        let window = window.max(Duration::from_secs(1));
        let count = if decision.allowed {
            limit.saturating_sub(decision.remaining)
        } else {
            limit.saturating_add(1)
        };
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The policy's window, placed so that it ends when the database's does.
        let elapsed = window.saturating_sub(left);
        let window_start = now.checked_sub(elapsed).unwrap_or(now);
        buckets.by_key.insert(
            key.to_string(),
            Bucket {
                window_start,
                window,
                count,
            },
        );
    }

    /// How many keys are tracked (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .by_key
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn exact_under_concurrency() {
        let store = Arc::new(MemoryStore::new());
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .filter(|_| store.consume("k", 137, Duration::from_secs(60)).allowed)
                        .count()
                })
            })
            .collect();
        let allowed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(allowed, 137);
    }

    #[test]
    fn remaining_counts_down_and_the_window_resets() {
        let store = MemoryStore::new();
        let start = Instant::now();
        let window = Duration::from_secs(60);
        let remaining: Vec<(bool, u32)> = (0..5)
            .map(|i| {
                let d = store.consume_at("k", 3, window, start + Duration::from_secs(i));
                (d.allowed, d.remaining)
            })
            .collect();
        assert_eq!(
            remaining,
            [(true, 2), (true, 1), (true, 0), (false, 0), (false, 0)]
        );
        let late = store.consume_at("k", 3, window, start + Duration::from_secs(59));
        assert!(!late.allowed, "the window is fixed from the first request");
        let secs_left = (late.reset_at - Utc::now()).num_milliseconds();
        assert!((0..=1_000).contains(&secs_left), "{secs_left}");

        let next = store.consume_at("k", 3, window, start + Duration::from_secs(60));
        assert!(next.allowed, "a new window starts when the old one ends");
        assert_eq!(next.remaining, 2);
        assert!(
            store.consume_at("other", 3, window, start).allowed,
            "keys are apart"
        );
    }

    #[test]
    fn a_remembered_database_decision_is_continued_in_memory() {
        let store = MemoryStore::new();
        let window = Duration::from_secs(900);
        let reset_at = Utc::now() + chrono::Duration::seconds(600);
        store.remember(
            "k",
            3,
            window,
            &RateLimitDecision {
                allowed: true,
                remaining: 1,
                reset_at,
            },
        );
        let next = store.consume("k", 3, window);
        assert!(next.allowed);
        assert_eq!(next.remaining, 0);
        let left = (next.reset_at - reset_at).num_milliseconds().abs();
        assert!(left < 1_000, "the window ends when the database's does");
        assert!(!store.consume("k", 3, window).allowed);

        store.remember(
            "refused",
            3,
            window,
            &RateLimitDecision {
                allowed: false,
                remaining: 0,
                reset_at,
            },
        );
        assert!(!store.consume("refused", 3, window).allowed);
    }

    #[test]
    fn a_changed_window_starts_afresh() {
        let store = MemoryStore::new();
        let now = Instant::now();
        assert!(
            store
                .consume_at("k", 1, Duration::from_secs(60), now)
                .allowed
        );
        assert!(
            !store
                .consume_at("k", 1, Duration::from_secs(60), now)
                .allowed
        );
        assert!(
            store
                .consume_at("k", 1, Duration::from_secs(30), now)
                .allowed
        );
    }

    #[test]
    fn ended_windows_are_swept_so_memory_stays_bounded() {
        let store = MemoryStore::new();
        let now = Instant::now();
        for i in 0..FIRST_SWEEP_AT {
            store.consume_at(&format!("old-{i}"), 1, Duration::from_secs(1), now);
        }
        assert_eq!(store.len(), FIRST_SWEEP_AT);
        let later = now + Duration::from_secs(2);
        store.consume_at("new", 1, Duration::from_secs(1), later);
        assert_eq!(store.len(), 1);
    }
}
