//! The overview's figures, read with the server's own connection (they span every person).

use sqlx::PgExecutor;

/// The dashboard cards: revenue (whole rupiah, PAID payments only) and subscriptions in force
/// (`public.admin_dashboard_metrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardMetrics {
    pub revenue_idr: i64,
    pub paid_payments: i64,
    pub pending_payments: i64,
    pub active_free: i64,
    pub active_basic: i64,
    pub active_pro: i64,
    pub active_ultimate: i64,
}

pub async fn dashboard_metrics(db: impl PgExecutor<'_>) -> Result<DashboardMetrics, sqlx::Error> {
    sqlx::query_as!(
        DashboardMetrics,
        r#"select m.revenue_idr as "revenue_idr!", m.paid_payments as "paid_payments!",
                  m.pending_payments as "pending_payments!",
                  m.active_free as "active_free!", m.active_basic as "active_basic!",
                  m.active_pro as "active_pro!", m.active_ultimate as "active_ultimate!"
           from public.admin_dashboard_metrics() m"#,
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

/// The last `months` calendar months in `zone`, this one included, every month present
/// (`public.admin_monthly_figures`: months that are over are computed once and kept).
pub async fn months(
    db: impl PgExecutor<'_>,
    zone: &str,
    months: i32,
) -> Result<Vec<Month>, sqlx::Error> {
    sqlx::query_as!(
        Month,
        r#"select m.starts as "starts!", m.signups as "signups!",
                  m.paying_users as "paying_users!", m.revenue_idr as "revenue_idr!"
           from public.admin_monthly_figures($1, $2) m"#,
        zone,
        months,
    )
    .fetch_all(db)
    .await
}
