//! Persistent rate limits: `consume_rate_limit` decides atomically under concurrency, counts
//! down, starts a fresh window once the old one ends, and `cleanup_rate_limit_buckets` removes
//! only buckets that are both idle and over.

use std::{sync::Arc, time::Duration};

use sqlx::{
    PgExecutor, PgPool,
    types::chrono::{DateTime, Utc},
};

use super::{MANY_CONNECTIONS, assert_sqlstate, wide_pool};
use crate::helpers::TestDb;

/// (allowed, remaining, reset_at)
type Decision = (bool, i32, DateTime<Utc>);

async fn consume<'e>(db: impl PgExecutor<'e>, key: &str, max: i32, window: i32) -> Decision {
    sqlx::query_as("select allowed, remaining, reset_at from public.consume_rate_limit($1, $2, $3)")
        .bind(key)
        .bind(max)
        .bind(window)
        .fetch_one(db)
        .await
        .expect("consume_rate_limit runs")
}

async fn bucket_count(pool: &PgPool, key: &str) -> i32 {
    sqlx::query_scalar("select count from public.rate_limit_buckets where key = $1")
        .bind(key)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn keys(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select key from public.rate_limit_buckets order by key")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_calls_at_limit_fifty_allow_exactly_fifty() {
    const CONNECTIONS: usize = 50;
    const CALLS_EACH: usize = 4;
    let _many = MANY_CONNECTIONS.lock().await;
    let db = TestDb::migrated().await;
    let pool = wide_pool(&db, CONNECTIONS as u32).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(CONNECTIONS));

    // 50 sessions released together, each firing 4 calls back to back: 200 calls in all.
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (pool, barrier) = (pool.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut conn = pool.acquire().await.expect("a connection of its own");
                barrier.wait().await;
                let mut decisions = Vec::with_capacity(CALLS_EACH);
                for _ in 0..CALLS_EACH {
                    decisions.push(consume(&mut *conn, "concurrent:key", 50, 3600).await);
                }
                decisions
            })
        })
        .collect();
    let mut decisions = Vec::new();
    for task in tasks {
        decisions.extend(task.await.expect("the task completes"));
    }
    pool.close().await;

    assert_eq!(decisions.len(), 200);
    let mut remaining_when_allowed: Vec<i32> =
        decisions.iter().filter(|d| d.0).map(|d| d.1).collect();
    assert_eq!(remaining_when_allowed.len(), 50, "exactly 50 allowed");
    // Each allowed call saw a different count: no two read the same value.
    remaining_when_allowed.sort_unstable();
    assert_eq!(remaining_when_allowed, (0..50).collect::<Vec<_>>());
    assert!(decisions.iter().filter(|d| !d.0).all(|d| d.1 == 0));
    let reset = decisions[0].2;
    assert!(decisions.iter().all(|d| d.2 == reset), "one window");
    assert_eq!(
        bucket_count(&db.pool, "concurrent:key").await,
        51,
        "capped at max + 1"
    );
}

#[tokio::test]
async fn remaining_counts_down_to_zero_within_one_window() {
    let db = TestDb::migrated().await;
    let key = "waitlist:ip:203.0.113.1";
    let started: DateTime<Utc> = sqlx::query_scalar("select clock_timestamp()")
        .fetch_one(&db.pool)
        .await
        .unwrap();

    let mut reset = None;
    for call in 1..=5 {
        let (allowed, remaining, reset_at) = consume(&db.pool, key, 5, 60).await;
        assert!(allowed, "call {call}");
        assert_eq!(remaining, 5 - call, "call {call}");
        assert_eq!(*reset.get_or_insert(reset_at), reset_at, "same window");
    }
    let reset = reset.unwrap();
    let window_ms = (reset - started).num_milliseconds();
    assert!(
        (59_000..=61_000).contains(&window_ms),
        "the window ends about a minute after the first call: {window_ms} ms"
    );
    for call in 6..=8 {
        assert_eq!(
            consume(&db.pool, key, 5, 60).await,
            (false, 0, reset),
            "call {call}"
        );
    }
    assert_eq!(bucket_count(&db.pool, key).await, 6, "capped at max + 1");

    // Another key has its own count.
    let (allowed, remaining, _) = consume(&db.pool, "waitlist:ip:203.0.113.2", 5, 60).await;
    assert!(allowed);
    assert_eq!(remaining, 4);
}

#[tokio::test]
async fn a_new_window_allows_again() {
    let db = TestDb::migrated().await;
    let key = "payment:user:short";
    let (first, _, reset) = consume(&db.pool, key, 2, 1).await;
    let (second, _, _) = consume(&db.pool, key, 2, 1).await;
    let (third, remaining, _) = consume(&db.pool, key, 2, 1).await;
    assert_eq!((first, second, third, remaining), (true, true, false, 0));

    tokio::time::sleep(Duration::from_millis(1200)).await;

    let (allowed, remaining, new_reset) = consume(&db.pool, key, 2, 1).await;
    assert!(allowed, "the next window allows again");
    assert_eq!(remaining, 1, "and counts from one");
    assert!(
        (new_reset - reset).num_milliseconds() >= 1000,
        "{new_reset} starts after {reset}"
    );
    assert_eq!(bucket_count(&db.pool, key).await, 1);
}

#[tokio::test]
async fn invalid_limits_are_refused() {
    let db = TestDb::migrated().await;
    for (max, window) in [(0, 60), (-1, 60), (5, 0), (5, -10)] {
        let result = sqlx::query("select * from public.consume_rate_limit('k', $1, $2)")
            .bind(max)
            .bind(window)
            .execute(&db.pool)
            .await;
        assert_sqlstate(result, "22023", &format!("max {max}, window {window}"));
    }
    assert!(keys(&db.pool).await.is_empty());
}

#[tokio::test]
async fn cleanup_removes_only_idle_buckets_whose_window_has_ended() {
    let db = TestDb::migrated().await;
    sqlx::raw_sql(
        "insert into public.rate_limit_buckets (key, window_start, window_seconds, count, updated_at) values
           ('old:1', now() - interval '3 days', 60, 3, now() - interval '3 days'),
           ('old:2', now() - interval '2 days', 3600, 1, now() - interval '2 days'),
           -- idle for days, but its week-long window is still running: its limit must hold.
           ('long:window', now() - interval '3 days', 604800, 9, now() - interval '3 days');",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    consume(&db.pool, "fresh", 5, 60).await;

    let deleted: i64 =
        sqlx::query_scalar("select public.cleanup_rate_limit_buckets(interval '1 day')")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(keys(&db.pool).await, ["fresh", "long:window"]);

    let again: i64 = sqlx::query_scalar("select public.cleanup_rate_limit_buckets()")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_sqlstate(
        sqlx::query("select public.cleanup_rate_limit_buckets(interval '-1 day')")
            .execute(&db.pool)
            .await,
        "22023",
        "a negative age",
    );
}
