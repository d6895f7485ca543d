//! Who is an admin. `user_roles` is the source of truth; every change is audited by the database.

use std::net::IpAddr;

use app::domain::AppRole;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Whether `user_id` holds the admin role right now.
pub async fn is_admin(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"select public.is_admin($1) as "is_admin!""#, user_id)
        .fetch_one(db)
        .await
}

/// The account with this email (any case), if there is one.
pub async fn user_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select id from auth.users where lower(email) = lower($1) and deleted_at is null",
        email.trim()
    )
    .fetch_optional(db)
    .await
}

/// Who asks for a role change: an admin, or `None` for the system (ADMIN_EMAILS, the CLI).
#[derive(Debug, Clone, Default)]
pub struct RequestedBy<'a> {
    pub actor: Option<(Uuid, &'a str)>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChange {
    pub previous: Option<AppRole>,
    pub assigned: AppRole,
    /// False when the user already had the role (nothing was written or audited).
    pub changed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RoleChangeError {
    #[error("only an admin can change user roles")]
    NotAnAdmin,
    #[error("an admin cannot remove their own admin role; ask another admin")]
    SelfDemotion,
    #[error("no user has this id")]
    UnknownUser,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Gives `target` the role `role`, writing a `role.changed` audit entry in the same transaction.
pub async fn set_user_role(
    db: impl PgExecutor<'_>,
    target: Uuid,
    role: AppRole,
    by: &RequestedBy<'_>,
) -> Result<RoleChange, RoleChangeError> {
    let (actor_id, actor_email) = by
        .actor
        .map_or((None, None), |(id, email)| (Some(id), Some(email)));
    let row = sqlx::query!(
        r#"select previous_role::text as previous, assigned_role::text as "assigned!", changed as "changed!"
           from public.set_user_role($1, ($2::text)::public.app_role, $3, $4, ($5::text)::inet, $6)"#,
        target,
        role.as_db(),
        actor_id,
        actor_email,
        by.ip.map(|ip| ip.to_string()),
        by.user_agent,
    )
    .fetch_one(db)
    .await
    .map_err(|error| match error.as_database_error().and_then(|e| e.code()).as_deref() {
        Some("42501") => RoleChangeError::NotAnAdmin,
        Some("KL001") => RoleChangeError::SelfDemotion,
        Some("P0002") => RoleChangeError::UnknownUser,
        _ => RoleChangeError::Database(error),
    })?;
    let parse = |label: &str| {
        label
            .parse::<AppRole>()
            .map_err(|e| sqlx::Error::Decode(e.into()))
    };
    Ok(RoleChange {
        previous: row.previous.as_deref().map(parse).transpose()?,
        assigned: parse(&row.assigned)?,
        changed: row.changed,
    })
}
