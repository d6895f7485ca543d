//! `server seed-demo` and the overview's figures over what it makes: each figure equals a plain
//! SQL count written independently of the server's queries.

use app::{
    admin::AdminOverview,
    domain::{Plan, PlanCatalogue},
};
use kilat_server::admin::metrics::{dashboard_metrics, months};

use crate::{cli::server, helpers::TestDb};

const ZONE: &str = "Asia/Jakarta";

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn demo_data_fills_the_overview_and_every_figure_equals_independent_sql() {
    let db = TestDb::migrated().await;
    let seed = || {
        server()
            .args([
                "seed-demo",
                "--users",
                "300",
                "--payments",
                "900",
                "--audit-entries",
                "3000",
                "--waitlist",
                "40",
            ])
            .env("DATABASE_URL", db.url())
            .output()
            .unwrap()
    };
    let seeded = seed();
    assert!(seeded.status.success(), "{seeded:?}");
    assert!(String::from_utf8_lossy(&seeded.stdout).contains("demo data made"));
    assert_eq!(scalar(&db, "select count(*) from auth.users").await, 300);
    assert_eq!(
        scalar(&db, "select count(*) from public.payments").await,
        900
    );
    assert_eq!(
        scalar(&db, "select count(*) from public.audit_logs").await,
        3000
    );
    assert_eq!(
        scalar(&db, "select count(*) from public.waitlist").await,
        40
    );
    for table in ["webhook_events", "ai_usage", "mail_outbox"] {
        assert!(
            scalar(&db, &format!("select count(*) from public.{table}")).await > 0,
            "{table}"
        );
    }
    assert!(
        scalar(
            &db,
            "select count(*) from public.webhook_events where status = 'failed'"
        )
        .await
            > 0,
        "failed events to replay"
    );
    let again = seed();
    assert!(
        !again.status.success(),
        "a second run is refused: {again:?}"
    );
    assert_eq!(scalar(&db, "select count(*) from auth.users").await, 300);
    let production = server()
        .arg("seed-demo")
        .env("APP_ENV", "production")
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert_eq!(production.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&production.stderr).contains("never runs in production"));

    let figures = dashboard_metrics(&db.pool).await.unwrap();
    let months = months(&db.pool, ZONE, 12).await.unwrap();
    assert_eq!(
        figures.revenue_idr,
        scalar(
            &db,
            "select coalesce(sum(amount), 0)::bigint from public.payments where status = 'PAID'"
        )
        .await
    );
    assert!(figures.revenue_idr > 0);
    assert_eq!(
        months.last().unwrap().revenue_idr,
        scalar(
            &db,
            "select coalesce(sum(amount), 0)::bigint from public.payments where status = 'PAID'
               and paid_at >= date_trunc('month', now() at time zone 'Asia/Jakarta') at time zone 'Asia/Jakarta'"
        )
        .await
    );
    let in_force = |plan: &str| {
        format!(
            "select count(*) from public.subscriptions where plan = '{plan}' and status = 'active'
               and (current_period_end is null or current_period_end > now())"
        )
    };
    let active = [
        (Plan::Free, figures.active_free),
        (Plan::Basic, figures.active_basic),
        (Plan::Pro, figures.active_pro),
        (Plan::Ultimate, figures.active_ultimate),
    ];
    let mut recurring = 0;
    for (plan, count) in active {
        assert_eq!(
            count,
            scalar(&db, &in_force(plan.as_db())).await,
            "{plan:?}"
        );
        recurring += count * PlanCatalogue::default().monthly_price_idr(plan);
    }
    assert!(figures.active_pro > 0);
    assert_eq!(
        AdminOverview::recurring_revenue(&active, &PlanCatalogue::default()),
        recurring
    );

    let window = "(date_trunc('month', now() at time zone 'Asia/Jakarta') - interval '11 months') at time zone 'Asia/Jakarta'";
    assert_eq!(
        months.iter().map(|month| month.revenue_idr).sum::<i64>(),
        scalar(&db, &format!("select coalesce(sum(amount), 0)::bigint from public.payments where status = 'PAID' and paid_at >= {window}")).await
    );
    assert_eq!(
        months.iter().map(|month| month.signups).sum::<i64>(),
        scalar(
            &db,
            &format!("select count(*) from auth.users where created_at >= {window}")
        )
        .await,
        "a sign-up is counted in the month of its account"
    );
    assert!(
        months.iter().filter(|month| month.revenue_idr > 0).count() >= 6,
        "{months:?}"
    );
}
