//! `server seed-demo`: believable data for a local admin dashboard — people across plans,
//! months of payments through both gateways (some failed, expired, refunded), webhook events
//! (some failed, to replay), waitlist sign-ups, AI usage, mail and audit entries. The data is
//! made by one SQL script (`demo_data.sql`) in one transaction; it refuses to run twice.

use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// How much to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    pub users: u32,
    pub payments: u32,
    pub audit_entries: u32,
    pub waitlist: u32,
}

impl Default for DemoSize {
    fn default() -> Self {
        Self {
            users: 2_000,
            payments: 6_000,
            audit_entries: 20_000,
            waitlist: 800,
        }
    }
}

/// Fills `pool`'s database (migrated) with demo data of `size`, then vacuums and analyses it, so
/// the admin pages read their indexes alone from the first visit (as autovacuum would leave a
/// database that grew over a year).
pub async fn seed(pool: &PgPool, size: DemoSize) -> Result<(), sqlx::Error> {
    // Its own connection, without the slow-statement warning: the script is one long statement
    // on purpose, and the warning would print all of it.
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .disable_statement_logging();
    let mut conn = PgConnection::connect_with(&options).await?;
    let mut tx = conn.begin().await?;
    sqlx::query(
        "select set_config('kilat.demo_users', $1, true), set_config('kilat.demo_payments', $2, true),
                set_config('kilat.demo_audit', $3, true), set_config('kilat.demo_waitlist', $4, true)",
    )
    .bind(size.users.to_string())
    .bind(size.payments.to_string())
    .bind(size.audit_entries.to_string())
    .bind(size.waitlist.to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(include_str!("demo_data.sql"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::raw_sql("vacuum (analyze)").execute(&mut conn).await?;
    conn.close().await
}
