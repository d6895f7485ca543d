//! The server's typed wrappers around the database's service RPCs.

use std::time::Duration;

use app::domain::{AppRole, PaymentProvider};
use kilat_server::{
    admin::metrics::{dashboard_metrics, months},
    auth::roles::{RequestedBy, RoleChangeError, is_admin, set_user_role},
    billing::webhook_ledger::{self, Claim, Delivery},
    ratelimit,
};
use uuid::Uuid;

use crate::helpers::TestDb;

#[tokio::test]
async fn role_changes_are_typed_and_refusals_are_explained() {
    let db = TestDb::migrated().await;
    let (ana, budi) = (
        db.add_user("ana@kilat.id").await,
        db.add_user("budi@kilat.id").await,
    );
    let system = RequestedBy::default();

    let change = set_user_role(&db.pool, ana, AppRole::Admin, &system)
        .await
        .unwrap();
    assert_eq!(
        (change.previous, change.assigned, change.changed),
        (Some(AppRole::Member), AppRole::Admin, true)
    );
    assert!(is_admin(&db.pool, ana).await.unwrap());
    assert!(!is_admin(&db.pool, budi).await.unwrap());

    let by_budi = RequestedBy {
        actor: Some((budi, "budi@kilat.id")),
        ..Default::default()
    };
    let refused = set_user_role(&db.pool, ana, AppRole::Member, &by_budi)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RoleChangeError::NotAnAdmin),
        "{refused:?}"
    );

    let by_ana = RequestedBy {
        actor: Some((ana, "ana@kilat.id")),
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("test"),
    };
    let refused = set_user_role(&db.pool, ana, AppRole::Member, &by_ana)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RoleChangeError::SelfDemotion),
        "{refused:?}"
    );
    let refused = set_user_role(&db.pool, Uuid::new_v4(), AppRole::Admin, &by_ana)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RoleChangeError::UnknownUser),
        "{refused:?}"
    );

    let again = set_user_role(&db.pool, ana, AppRole::Admin, &system)
        .await
        .unwrap();
    assert!(
        !again.changed,
        "granting a role someone has changes nothing"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from public.audit_logs where action = 'role.changed'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1, "one real change, one audit entry");
}

#[tokio::test]
async fn a_webhook_delivery_is_claimed_once_and_finished_by_its_holder() {
    let db = TestDb::migrated().await;
    let payload = serde_json::json!({"order_id": "KK-1", "transaction_status": "settlement"});
    let delivery = Delivery {
        provider: PaymentProvider::Midtrans,
        event_id: "KK-1:settlement:200",
        event_type: "settlement",
        order_id: Some("KK-1"),
        payload: &payload,
    };
    let stale = Duration::from_secs(300);
    let Claim::Claimed { token, attempts } = webhook_ledger::claim(&db.pool, &delivery, stale)
        .await
        .unwrap()
    else {
        panic!("the first delivery claims the event");
    };
    assert_eq!(attempts, 1);
    assert_eq!(
        webhook_ledger::claim(&db.pool, &delivery, stale)
            .await
            .unwrap(),
        Claim::InProgress
    );
    assert!(
        !webhook_ledger::finish(
            &db.pool,
            PaymentProvider::Midtrans,
            delivery.event_id,
            Uuid::new_v4(),
            Ok(())
        )
        .await
        .unwrap()
    );
    assert!(
        webhook_ledger::finish(
            &db.pool,
            PaymentProvider::Midtrans,
            delivery.event_id,
            token,
            Ok(())
        )
        .await
        .unwrap()
    );
    assert_eq!(
        webhook_ledger::claim(&db.pool, &delivery, stale)
            .await
            .unwrap(),
        Claim::Duplicate
    );
}

#[tokio::test]
async fn a_rate_limit_counts_down_then_refuses() {
    let db = TestDb::migrated().await;
    let window = Duration::from_secs(3600);
    for remaining in (0..3).rev() {
        let decision = ratelimit::consume(&db.pool, "contact:203.0.113.9", 3, window)
            .await
            .unwrap();
        assert!(decision.allowed);
        assert_eq!(decision.remaining, remaining);
    }
    let refused = ratelimit::consume(&db.pool, "contact:203.0.113.9", 3, window)
        .await
        .unwrap();
    assert!(!refused.allowed);
    assert!(refused.reset_at > chrono::Utc::now());
    assert!(
        ratelimit::consume(&db.pool, "contact:198.51.100.1", 3, window)
            .await
            .unwrap()
            .allowed,
        "keys are separate"
    );
    assert_eq!(
        ratelimit::cleanup(&db.pool, Duration::ZERO).await.unwrap(),
        0,
        "live windows are kept"
    );
}

#[tokio::test]
async fn dashboard_metrics_count_paid_revenue_and_active_plans() {
    let db = TestDb::migrated().await;
    let ana = db.add_user("ana@kilat.id").await;
    sqlx::query(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at) values
           ($1, 'PRO', 99000, 'MIDTRANS', 'KK-a', 'PAID', now()),
           ($1, 'BASIC', 49000, 'MIDTRANS', 'KK-b', 'FAILED', null),
           ($1, 'PRO', 99000, 'DOKU', 'KK-c', 'PAID',
            (date_trunc('month', now() at time zone 'Asia/Jakarta') - interval '2 months' + interval '10 days')
              at time zone 'Asia/Jakarta')",
    )
    .bind(ana)
    .execute(&db.pool)
    .await
    .unwrap();
    let metrics = dashboard_metrics(&db.pool).await.unwrap();
    assert_eq!(metrics.revenue_idr, 198_000);
    assert_eq!(metrics.paid_payments, 2);
    assert_eq!(metrics.active_free, 1, "the new user's FREE subscription");

    let months = months(&db.pool, "Asia/Jakarta", 12).await.unwrap();
    assert_eq!(months.len(), 12, "every month, empty ones too");
    let this = &months[11];
    assert_eq!(
        (this.signups, this.paying_users, this.revenue_idr),
        (1, 1, 99_000)
    );
    let earlier = &months[9];
    assert_eq!(
        (earlier.signups, earlier.paying_users, earlier.revenue_idr),
        (0, 1, 99_000)
    );
    assert!(months.iter().all(|month| month.starts.ends_with("-01")));
    assert!(
        months
            .windows(2)
            .all(|pair| pair[0].starts < pair[1].starts)
    );
}

/// The revenue of the month `back` months before this one (in WIB), as the overview has it.
async fn revenue_months_back(db: &TestDb, back: usize) -> i64 {
    let months = months(&db.pool, "Asia/Jakarta", 12).await.unwrap();
    months[11 - back].revenue_idr
}

/// The same, summed from the payments.
async fn revenue_months_back_in_sql(db: &TestDb, back: i32) -> i64 {
    sqlx::query_scalar(
        "select coalesce(sum(amount), 0)::bigint from public.payments
         where status = 'PAID'
           and paid_at >= (date_trunc('month', now() at time zone 'Asia/Jakarta') - make_interval(months => $1)) at time zone 'Asia/Jakarta'
           and paid_at < (date_trunc('month', now() at time zone 'Asia/Jakarta') - make_interval(months => $1 - 1)) at time zone 'Asia/Jakarta'",
    )
    .bind(back)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

const TWO_MONTHS_AGO: &str = "(date_trunc('month', now() at time zone 'Asia/Jakarta') - interval '2 months' + interval '3 days') at time zone 'Asia/Jakarta'";

#[tokio::test]
async fn closed_months_are_kept_and_forgotten_when_a_change_touches_them() {
    let db = TestDb::migrated().await;
    let ana = db.add_user("ana@kilat.id").await;
    let paid_then: Uuid = sqlx::query_scalar(&format!(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
         values ($1, 'PRO', 99000, 'MIDTRANS', 'KK-old', 'PAID', {TWO_MONTHS_AGO}) returning id"
    ))
    .bind(ana)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(revenue_months_back(&db, 2).await, 99_000);
    assert_eq!(
        dashboard_metrics(&db.pool).await.unwrap().revenue_idr,
        99_000
    );
    let kept: Vec<(String, i64)> = sqlx::query_as(
        "select zone, count(*) from kilat_private.admin_closed_periods group by zone order by zone",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        kept,
        [("Asia/Jakarta".to_string(), 11), ("UTC".to_string(), 1)],
        "the eleven months that are over, and all time before this UTC month"
    );

    // What is kept is what the overview reads (a figure planted in the kept row shows).
    sqlx::query("update kilat_private.admin_closed_periods set revenue_idr = 1 where revenue_idr = 99000 and zone = 'Asia/Jakarta'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(revenue_months_back(&db, 2).await, 1);

    // A refund touches that month: it is summed again.
    sqlx::query("update public.payments set status = 'REFUNDED' where id = $1")
        .bind(paid_then)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(revenue_months_back(&db, 2).await, 0);
    assert_eq!(dashboard_metrics(&db.pool).await.unwrap().revenue_idr, 0);

    // A payment written paid in the past, and an account moved back in time, too.
    sqlx::query(&format!(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
         values ($1, 'BASIC', 49000, 'DOKU', 'KK-late', 'PAID', {TWO_MONTHS_AGO})"
    ))
    .bind(ana)
    .execute(&db.pool)
    .await
    .unwrap();
    assert_eq!(revenue_months_back(&db, 2).await, 49_000);
    let signups_then = |months: &[kilat_server::admin::metrics::Month]| months[9].signups;
    assert_eq!(
        signups_then(&months(&db.pool, "Asia/Jakarta", 12).await.unwrap()),
        0
    );
    sqlx::query(&format!(
        "update public.profiles set created_at = {TWO_MONTHS_AGO} where id = $1"
    ))
    .bind(ana)
    .execute(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        signups_then(&months(&db.pool, "Asia/Jakarta", 12).await.unwrap()),
        1
    );
    // Deleting the account takes its sign-up away; its payment stays, nobody's now.
    assert_eq!(
        months(&db.pool, "Asia/Jakarta", 12).await.unwrap()[9].paying_users,
        1
    );
    sqlx::query("delete from auth.users where id = $1")
        .bind(ana)
        .execute(&db.pool)
        .await
        .unwrap();
    let after = months(&db.pool, "Asia/Jakarta", 12).await.unwrap();
    assert_eq!(
        (
            signups_then(&after),
            after[9].paying_users,
            after[9].revenue_idr
        ),
        (0, 0, 49_000)
    );
    assert_eq!(
        dashboard_metrics(&db.pool).await.unwrap().revenue_idr,
        49_000
    );

    // Truncating forgets everything kept.
    sqlx::query("truncate public.payments cascade")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(revenue_months_back(&db, 2).await, 0);
    assert_eq!(dashboard_metrics(&db.pool).await.unwrap().revenue_idr, 0);

    // A view in a repeatable-read transaction sums closed months without keeping them (its one
    // snapshot could miss a change the lock made it wait for).
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("set transaction isolation level repeatable read")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        months(&mut *tx, "Asia/Makassar", 12).await.unwrap().len(),
        12
    );
    tx.commit().await.unwrap();
    let kept: i64 = sqlx::query_scalar(
        "select count(*) from kilat_private.admin_closed_periods where zone = 'Asia/Makassar'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(kept, 0);
}

/// Refunds racing the overview's first look at a month: whatever the interleaving, the month it
/// keeps is the month as committed (a fill never keeps a figure a refund made stale).
#[tokio::test]
async fn refunds_racing_the_first_look_at_a_month_leave_no_stale_figure() {
    const PAYMENTS: usize = 40;
    let db = TestDb::migrated().await;
    let ana = db.add_user("ana@kilat.id").await;
    let ids: Vec<Uuid> = sqlx::query_scalar(&format!(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
         select $1, 'PRO', 1000 * n, 'MIDTRANS', 'KK-race-' || n, 'PAID', {TWO_MONTHS_AGO}
         from generate_series(1, {PAYMENTS}) n returning id"
    ))
    .bind(ana)
    .fetch_all(&db.pool)
    .await
    .unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for (n, id) in ids.into_iter().enumerate() {
        let pool = db.pool.clone();
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(3 * n as u64)).await;
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("update public.payments set status = 'REFUNDED' where id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
            // Still open while the overview looks.
            tokio::time::sleep(Duration::from_millis(5)).await;
            tx.commit().await.unwrap();
        });
    }
    for n in 0..PAYMENTS {
        let pool = db.pool.clone();
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(3 * n as u64 + 1)).await;
            months(&pool, "Asia/Jakarta", 12).await.unwrap();
            dashboard_metrics(&pool).await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(revenue_months_back_in_sql(&db, 2).await, 0);
    assert_eq!(revenue_months_back(&db, 2).await, 0);
    assert_eq!(dashboard_metrics(&db.pool).await.unwrap().revenue_idr, 0);
}
