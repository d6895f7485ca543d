//! Work done on a user's behalf runs as that user, so the RLS policies that guard Supabase's
//! public API guard our own queries too: a bug that asks for someone else's row gets nothing.

use sqlx::{PgPool, Postgres, Transaction};

/// Opens a transaction as the `authenticated` role with `claims` (the user's verified access
/// token claims, at least `sub` and `role`) as `request.jwt.claims`, exactly as PostgREST does.
/// Both settings end with the transaction.
pub async fn begin_as_user(
    pool: &PgPool,
    claims: &serde_json::Value,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "select set_config('role', 'authenticated', true) as role,
                set_config('request.jwt.claims', $1, true) as claims",
        claims.to_string()
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(tx)
}
