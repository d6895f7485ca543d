use app::domain::{
    AiUsageKind, AppRole, PaymentProvider, PaymentStatus, Plan, SubscriptionStatus,
    WebhookEventStatus,
};

use crate::helpers::TestDb;

/// The labels of `public.<type_name>` in declaration order.
async fn labels(db: &TestDb, type_name: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select e.enumlabel::text from pg_enum e
         join pg_type t on t.oid = e.enumtypid
         join pg_namespace n on n.oid = t.typnamespace
         where n.nspname = 'public' and t.typname = $1
         order by e.enumsortorder",
    )
    .bind(type_name)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

fn rust_labels<T: Copy>(all: &[T], as_db: fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|&v| as_db(v).to_string()).collect()
}

#[tokio::test]
async fn rust_enums_mirror_the_database_enums_exactly() {
    let db = TestDb::migrated().await;
    let cases = [
        (Plan::DB_TYPE, rust_labels(Plan::ALL, Plan::as_db)),
        (
            SubscriptionStatus::DB_TYPE,
            rust_labels(SubscriptionStatus::ALL, SubscriptionStatus::as_db),
        ),
        (
            PaymentStatus::DB_TYPE,
            rust_labels(PaymentStatus::ALL, PaymentStatus::as_db),
        ),
        (
            PaymentProvider::DB_TYPE,
            rust_labels(PaymentProvider::ALL, PaymentProvider::as_db),
        ),
        (AppRole::DB_TYPE, rust_labels(AppRole::ALL, AppRole::as_db)),
        (
            AiUsageKind::DB_TYPE,
            rust_labels(AiUsageKind::ALL, AiUsageKind::as_db),
        ),
        (
            WebhookEventStatus::DB_TYPE,
            rust_labels(WebhookEventStatus::ALL, WebhookEventStatus::as_db),
        ),
    ];
    for (type_name, rust) in cases {
        assert_eq!(labels(&db, type_name).await, rust, "public.{type_name}");
    }
}
