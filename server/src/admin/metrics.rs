//! The overview's figures, read with the server's own connection (they span every person).

use sqlx::PgExecutor;

/// The dashboard cards: revenue (whole rupiah, PAID payments only) and subscriptions in force
/// (`public.admin_dashboard_metrics`), with this month's revenue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardMetrics {
    pub revenue_idr: i64,
    pub revenue_this_month_idr: i64,
    pub paid_payments: i64,
    pub pending_payments: i64,
    pub active_free: i64,
    pub active_basic: i64,
    pub active_pro: i64,
    pub active_ultimate: i64,
}

/// Months start at midnight in `zone` (an IANA name the database knows).
pub async fn dashboard_metrics(
    db: impl PgExecutor<'_>,
    zone: &str,
) -> Result<DashboardMetrics, sqlx::Error> {
    sqlx::query_as!(
        DashboardMetrics,
        r#"select m.revenue_idr as "revenue_idr!",
                  (select coalesce(sum(p.amount), 0)::bigint from public.payments p
                    where p.status = 'PAID'
                      and p.paid_at >= date_trunc('month', now() at time zone $1) at time zone $1)
                    as "revenue_this_month_idr!",
                  m.paid_payments as "paid_payments!", m.pending_payments as "pending_payments!",
                  m.active_free as "active_free!", m.active_basic as "active_basic!",
                  m.active_pro as "active_pro!", m.active_ultimate as "active_ultimate!"
           from public.admin_dashboard_metrics() m"#,
        zone,
    )
    .fetch_one(db)
    .await
}

/// One calendar month's figures, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// The month's first day, `YYYY-MM-01`, in the zone asked for.
    pub starts: String,
    /// Accounts made in the month (each has a profile from its first moment).
    pub signups: i64,
    /// People with a payment that became PAID in the month.
    pub paying_users: i64,
    pub revenue_idr: i64,
}

/// The last `months` calendar months in `zone`, this one included, every month present.
pub async fn months(
    db: impl PgExecutor<'_>,
    zone: &str,
    months: i32,
) -> Result<Vec<Month>, sqlx::Error> {
    sqlx::query_as!(
        Month,
        // Months are counted on the local calendar (a month's length depends on which it is),
        // then each bound is placed in time.
        r#"with series as (
             select m as local_start, m at time zone $1 as starts,
                    (m + interval '1 month') at time zone $1 as ends
             from generate_series(date_trunc('month', now() at time zone $1) - make_interval(months => $2 - 1),
                                  date_trunc('month', now() at time zone $1), interval '1 month') m
           )
           select to_char(s.local_start, 'YYYY-MM-DD') as "starts!",
                  (select count(*) from public.profiles u
                    where u.created_at >= s.starts and u.created_at < s.ends) as "signups!",
                  paid.paying_users as "paying_users!", paid.revenue_idr as "revenue_idr!"
           from series s
           -- One pass over each month's paid payments for both figures.
           cross join lateral (
             select count(distinct p.user_id) as paying_users,
                    coalesce(sum(p.amount), 0)::bigint as revenue_idr
             from public.payments p
             where p.status = 'PAID' and p.paid_at >= s.starts and p.paid_at < s.ends
           ) paid
           order by s.starts"#,
        zone,
        months,
    )
    .fetch_all(db)
    .await
}
