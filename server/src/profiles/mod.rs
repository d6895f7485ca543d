//! Profiles: what people say about themselves (their name now, their avatar next). Each change
//! runs as the person, with their verified token claims, so the RLS policies and column grants
//! that guard Supabase's REST API decide what may change; the audit entry is written by the
//! server in the same transaction.

pub mod avatar;

use app::{i18n::Locale, identity::FullName};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    audit::{self, AuditAction, AuditContext, AuditEntry},
    db::user_scope::begin_as_user,
};

/// Sets the name of the user whose `claims` these are (`sub`), audited with before and after
/// when it changed. `Ok(false)` when that user has no profile.
pub async fn update_full_name(
    pool: &PgPool,
    claims: &serde_json::Value,
    context: &AuditContext<'_>,
    full_name: Option<&FullName>,
) -> Result<bool, sqlx::Error> {
    let Some(user_id) = subject(claims) else {
        return Ok(false);
    };
    let new_name = full_name.map(FullName::as_str);
    let mut tx = begin_as_user(pool, claims).await?;
    let Some(before) = sqlx::query_scalar!(
        "select full_name from public.profiles where id = $1",
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    sqlx::query!(
        "update public.profiles set full_name = $2 where id = $1",
        user_id,
        new_name
    )
    .execute(&mut *tx)
    .await?;
    if before.as_deref() != new_name {
        sqlx::query("reset role").execute(&mut *tx).await?;
        let entry = AuditEntry {
            action: AuditAction::ProfileUpdated,
            target_type: "user",
            target_id: &user_id.to_string(),
            metadata: json!({ "before": { "full_name": before }, "after": { "full_name": new_name } }),
        };
        audit::record(&mut *tx, context, entry).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Records `locale` as the language of the user whose `claims` these are, as them. `Ok(true)`
/// when it was not their language already.
pub async fn set_locale(
    pool: &PgPool,
    claims: &serde_json::Value,
    locale: Locale,
) -> Result<bool, sqlx::Error> {
    let Some(user_id) = subject(claims) else {
        return Ok(false);
    };
    let mut tx = begin_as_user(pool, claims).await?;
    let changed = sqlx::query!(
        "update public.profiles set locale = $2 where id = $1 and locale is distinct from $2",
        user_id,
        locale.code()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(changed == 1)
}

/// The user the verified `claims` are of (`sub`).
fn subject(claims: &serde_json::Value) -> Option<uuid::Uuid> {
    claims["sub"].as_str()?.parse().ok()
}
