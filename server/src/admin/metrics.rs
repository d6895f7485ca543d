use sqlx::PgExecutor;

/// The dashboard cards: revenue (whole rupiah, PAID payments only) and subscriptions in force.
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
        r#"select revenue_idr as "revenue_idr!", paid_payments as "paid_payments!",
                  pending_payments as "pending_payments!", active_free as "active_free!",
                  active_basic as "active_basic!", active_pro as "active_pro!",
                  active_ultimate as "active_ultimate!"
           from public.admin_dashboard_metrics()"#
    )
    .fetch_one(db)
    .await
}
