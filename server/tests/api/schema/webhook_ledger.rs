//! The webhook ledger: `claim_webhook_event` lets exactly one delivery of an event apply its
//! effects, answers repeats of a processed event as duplicates, lets stale and failed claims be
//! taken over, and `finish_webhook_event` only listens to the current claim holder.

use std::sync::Arc;

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::{MANY_CONNECTIONS, assert_sqlstate, wide_pool};
use crate::helpers::TestDb;

/// (outcome, claim token, attempts)
type Claim = (String, Option<Uuid>, i32);

/// Claims MIDTRANS event `event_id` with the default stale timeout (5 minutes) or `stale_after`.
async fn claim<'e>(db: impl PgExecutor<'e>, event_id: &str, stale_after: Option<&str>) -> Claim {
    let sql = match stale_after {
        None => {
            "select outcome, claim_token, attempts
             from public.claim_webhook_event('MIDTRANS', $1, 'settlement', 'KK-1', $2)"
        }
        Some(_) => {
            "select outcome, claim_token, attempts
             from public.claim_webhook_event('MIDTRANS', $1, 'settlement', 'KK-1', $2, $3::text::interval)"
        }
    };
    let mut query = sqlx::query_as::<_, Claim>(sql)
        .bind(event_id)
        .bind(serde_json::json!({ "event": event_id }));
    if let Some(stale_after) = stale_after {
        query = query.bind(stale_after);
    }
    query.fetch_one(db).await.expect("claim_webhook_event runs")
}

async fn finish(
    pool: &PgPool,
    event_id: &str,
    token: Uuid,
    succeeded: bool,
    error: Option<&str>,
) -> bool {
    sqlx::query_scalar("select public.finish_webhook_event('MIDTRANS', $1, $2, $3, $4)")
        .bind(event_id)
        .bind(token)
        .bind(succeeded)
        .bind(error)
        .fetch_one(pool)
        .await
        .expect("finish_webhook_event runs")
}

/// (status, claim token, attempts, last error, processed_at is set)
type Row = (String, Option<Uuid>, i32, Option<String>, bool);

async fn row(pool: &PgPool, event_id: &str) -> Row {
    sqlx::query_as(
        "select status::text, claim_token, attempts, last_error, processed_at is not null
         from public.webhook_events where provider = 'MIDTRANS' and event_id = $1",
    )
    .bind(event_id)
    .fetch_one(pool)
    .await
    .expect("the event has exactly one row")
}

/// `n` claims of `event_id` at once, each on its own connection, released together.
async fn concurrent_claims(db: &TestDb, event_id: &str, n: usize) -> Vec<Claim> {
    let pool = wide_pool(db, n as u32).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (pool, barrier, event_id) = (pool.clone(), barrier.clone(), event_id.to_string());
            tokio::spawn(async move {
                let mut conn = pool.acquire().await.expect("a connection of its own");
                barrier.wait().await;
                claim(&mut *conn, &event_id, None).await
            })
        })
        .collect();
    let mut claims = Vec::with_capacity(n);
    for task in tasks {
        claims.push(task.await.expect("the claim task completes"));
    }
    pool.close().await;
    claims
}

fn outcomes(claims: &[Claim], outcome: &str) -> Vec<Claim> {
    claims.iter().filter(|c| c.0 == outcome).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_claims_of_one_event_yield_exactly_one_claim() {
    let _many = MANY_CONNECTIONS.lock().await;
    let db = TestDb::migrated().await;

    let claims = concurrent_claims(&db, "evt-race", 50).await;

    let claimed = outcomes(&claims, "claimed");
    assert_eq!(claimed.len(), 1, "{claims:?}");
    let in_progress = outcomes(&claims, "in_progress");
    assert_eq!(in_progress.len(), 49, "{claims:?}");
    assert!(in_progress.iter().all(|c| c.1.is_none()), "{in_progress:?}");
    let token = claimed[0].1.expect("the winner gets a token");
    assert_eq!(
        row(&db.pool, "evt-race").await,
        ("processing".into(), Some(token), 1, None, false)
    );
    assert!(finish(&db.pool, "evt-race", token, true, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_takeovers_of_a_stale_claim_yield_exactly_one_claim() {
    let _many = MANY_CONNECTIONS.lock().await;
    let db = TestDb::migrated().await;
    let (_, crashed, _) = claim(&db.pool, "evt-stale-race", None).await;
    // The holder crashed an hour ago.
    sqlx::query(
        "update public.webhook_events set locked_at = now() - interval '1 hour'
         where event_id = 'evt-stale-race'",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let claims = concurrent_claims(&db, "evt-stale-race", 50).await;

    let claimed = outcomes(&claims, "claimed");
    assert_eq!(claimed.len(), 1, "{claims:?}");
    assert_eq!(outcomes(&claims, "in_progress").len(), 49, "{claims:?}");
    let token = claimed[0].1.unwrap();
    assert_ne!(Some(token), crashed);
    assert_eq!(claimed[0].2, 2);
    assert!(!finish(&db.pool, "evt-stale-race", crashed.unwrap(), true, None).await);
    assert_eq!(
        row(&db.pool, "evt-stale-race").await,
        ("processing".into(), Some(token), 2, None, false)
    );
}

#[tokio::test]
async fn the_first_claim_wins_and_a_processed_event_is_a_duplicate() {
    let db = TestDb::migrated().await;

    let (outcome, token, attempts) = claim(&db.pool, "evt-1", None).await;
    assert_eq!((outcome.as_str(), attempts), ("claimed", 1));
    let token = token.expect("a claim carries a token");

    assert_eq!(
        claim(&db.pool, "evt-1", None).await,
        ("in_progress".into(), None, 1),
        "a repeat while the first is processing"
    );
    assert!(
        !finish(&db.pool, "evt-1", Uuid::new_v4(), true, None).await,
        "a wrong token cannot finish"
    );
    assert!(finish(&db.pool, "evt-1", token, true, None).await);
    assert_eq!(
        row(&db.pool, "evt-1").await,
        ("processed".into(), Some(token), 1, None, true)
    );

    assert_eq!(
        claim(&db.pool, "evt-1", None).await,
        ("duplicate".into(), None, 1)
    );
    assert_eq!(
        claim(&db.pool, "evt-1", Some("0 seconds")).await,
        ("duplicate".into(), None, 1),
        "a processed event is never taken over, however stale"
    );
    assert!(
        !finish(&db.pool, "evt-1", token, false, Some("late")).await,
        "a finished claim cannot be finished again"
    );
    assert_eq!(
        row(&db.pool, "evt-1").await,
        ("processed".into(), Some(token), 1, None, true)
    );
}

#[tokio::test]
async fn a_stale_processing_claim_is_reclaimable_and_its_old_holder_cannot_finish() {
    let db = TestDb::migrated().await;
    let (_, first, _) = claim(&db.pool, "evt-stale", None).await;
    let first = first.unwrap();

    assert_eq!(
        claim(&db.pool, "evt-stale", None).await,
        ("in_progress".into(), None, 1),
        "not stale under the default five minutes"
    );
    let (outcome, second, attempts) = claim(&db.pool, "evt-stale", Some("0 seconds")).await;
    assert_eq!((outcome.as_str(), attempts), ("claimed", 2));
    let second = second.unwrap();
    assert_ne!(first, second);

    assert!(!finish(&db.pool, "evt-stale", first, true, None).await);
    assert!(!finish(&db.pool, "evt-stale", first, false, Some("gave up")).await);
    assert_eq!(
        row(&db.pool, "evt-stale").await,
        ("processing".into(), Some(second), 2, None, false),
        "the row still belongs to the new holder"
    );
    assert!(finish(&db.pool, "evt-stale", second, true, None).await);
    assert_eq!(
        row(&db.pool, "evt-stale").await,
        ("processed".into(), Some(second), 2, None, true)
    );
}

#[tokio::test]
async fn a_failed_event_is_reclaimable_and_only_the_new_holder_can_finish() {
    let db = TestDb::migrated().await;
    let (_, first, _) = claim(&db.pool, "evt-failed", None).await;
    let first = first.unwrap();
    assert!(
        finish(
            &db.pool,
            "evt-failed",
            first,
            false,
            Some("subscription update failed")
        )
        .await
    );
    assert_eq!(
        row(&db.pool, "evt-failed").await,
        (
            "failed".into(),
            Some(first),
            1,
            Some("subscription update failed".into()),
            true
        )
    );

    // A failed event is taken over at once, without waiting for any stale timeout.
    let (outcome, second, attempts) = claim(&db.pool, "evt-failed", None).await;
    assert_eq!((outcome.as_str(), attempts), ("claimed", 2));
    let second = second.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        row(&db.pool, "evt-failed").await,
        (
            "processing".into(),
            Some(second),
            2,
            Some("subscription update failed".into()),
            false
        ),
        "the previous error is kept until this attempt finishes"
    );

    assert!(!finish(&db.pool, "evt-failed", first, true, None).await);
    assert!(finish(&db.pool, "evt-failed", second, true, None).await);
    assert_eq!(
        row(&db.pool, "evt-failed").await,
        ("processed".into(), Some(second), 2, None, true)
    );
}

#[tokio::test]
async fn events_are_keyed_by_provider_and_a_negative_stale_timeout_is_refused() {
    let db = TestDb::migrated().await;
    assert_eq!(claim(&db.pool, "evt-same", None).await.0, "claimed");
    let doku: String = sqlx::query_scalar(
        "select outcome from public.claim_webhook_event('DOKU', 'evt-same', 'SUCCESS', null, '{}')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        doku, "claimed",
        "the same id from another gateway is another event"
    );

    let negative = sqlx::query(
        "select * from public.claim_webhook_event('DOKU', 'evt-neg', 'SUCCESS', null, '{}', interval '-1 second')",
    )
    .execute(&db.pool)
    .await;
    assert_sqlstate(negative, "22023", "a negative stale timeout");
    let rows: i64 = sqlx::query_scalar("select count(*) from public.webhook_events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}
