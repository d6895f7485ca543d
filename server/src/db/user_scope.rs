//! Work done on someone's behalf runs as them: as the Postgres role their Supabase JWT grants,
//! with its claims, the way Supabase's own APIs (PostgREST, Storage) run every request. So the
//! RLS policies that guard Supabase's public API guard our own queries too: a bug that asks for
//! someone else's row gets nothing.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

/// The Postgres roles Supabase's APIs switch to, named by the `role` claim of the caller's JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRole {
    /// The anon key, or no sign-in at all.
    Anon,
    /// A signed-in user's access token.
    Authenticated,
    /// The service-role key: bypasses RLS.
    ServiceRole,
}

impl ApiRole {
    /// The role a JWT's `role` claim names, when it is one of the three API roles.
    pub fn from_claim(role: &str) -> Option<Self> {
        match role {
            "anon" => Some(Self::Anon),
            "authenticated" => Some(Self::Authenticated),
            "service_role" => Some(Self::ServiceRole),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anon => "anon",
            Self::Authenticated => "authenticated",
            Self::ServiceRole => "service_role",
        }
    }
}

/// Opens a transaction as the `authenticated` role with `claims` (the user's verified access
/// token claims, at least `sub` and `role`) as `request.jwt.claims`, exactly as PostgREST does.
/// Both settings end with the transaction.
pub async fn begin_as_user(
    pool: &PgPool,
    claims: &serde_json::Value,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    begin_as(pool, ApiRole::Authenticated, claims, &[]).await
}

/// Opens a transaction as `role` with `claims` as `request.jwt.claims`, and each of
/// `settings` (name, value) set too — the request context an API exposes to policies, such as
/// Storage's `request.method` or `storage.operation`. Everything ends with the transaction.
pub async fn begin_as(
    pool: &PgPool,
    role: ApiRole,
    claims: &serde_json::Value,
    settings: &[(&str, &str)],
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    act_as(&mut tx, role, claims, settings).await?;
    Ok(tx)
}

/// Switches the open transaction on `conn` to `role`, `claims` and `settings` (see
/// [`begin_as`]): for work inside one transaction that must be done partly as someone else, as
/// Storage looks an object up as the service role before deleting it as the caller.
pub async fn act_as(
    conn: &mut PgConnection,
    role: ApiRole,
    claims: &serde_json::Value,
    settings: &[(&str, &str)],
) -> Result<(), sqlx::Error> {
    let (names, values): (Vec<&str>, Vec<&str>) = settings.iter().copied().unzip();
    // `true`: local to the transaction, so a pooled connection never carries them further.
    sqlx::query(
        "select set_config('role', $1, true),
                set_config('request.jwt.claims', $2, true),
                (select count(set_config(name, value, true))
                   from unnest($3::text[], $4::text[]) as setting (name, value))",
    )
    .bind(role.as_str())
    .bind(claims.to_string())
    .bind(names)
    .bind(values)
    .execute(conn)
    .await?;
    Ok(())
}
