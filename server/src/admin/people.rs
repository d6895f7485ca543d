//! The people an admin looks after: the list and its search, a person's page, their role and
//! manual plan grants. Every function takes the [`Admin`] whose role was checked on this request;
//! changes are audited with them as the actor.
//!
//! The list is ordered by profile (every account has one from its first moment), newest first,
//! and paged by keyset over `profiles (created_at, id)`. The search matches the email and the
//! name anywhere in them: Supabase Auth owns `auth.users`, so no index of ours can serve an
//! email search, and a scan of tens of thousands of addresses is a few milliseconds.

use app::admin::{
    AdminError, Page,
    people::{Person, PersonLine, PersonPayment, REASON_MAX_CHARS, clean_search},
    records::AuditRecord,
};
use app::domain::{AppRole, Plan, PlanCatalogue};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    access::Admin,
    cursor::{self, Cursor},
    failed, parse,
};
use crate::auth::roles::{self, RequestedBy, RoleChangeError};
use crate::profiles::avatar::Avatars;
use crate::storage::Caller;

/// How many payments and audit entries a person's page shows.
const PERSON_HISTORY: i64 = 50;

/// One page of people, newest first, whose email or name contains `search` (any case).
pub async fn list(
    pool: &PgPool,
    _admin: &Admin,
    search: &str,
    after: Option<&str>,
) -> Result<Page<PersonLine>, AdminError> {
    let after = Cursor::<Uuid>::decode(after).map_err(|_| AdminError::BadRequest)?;
    let search = clean_search(search);
    // `%` and `_` typed by the admin are letters, not wildcards.
    let pattern = format!(
        "%{}%",
        search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query!(
        r#"select p.id, p.created_at, u.email as "email?", p.full_name,
                  coalesce(s.plan::text, 'FREE') as "plan!", coalesce(r.role::text, 'member') as "role!"
           from public.profiles p
           join auth.users u on u.id = p.id
           left join public.subscriptions s on s.user_id = p.id
           left join public.user_roles r on r.user_id = p.id
           where u.deleted_at is null
             and ($1 = '%%' or u.email ilike $1 or p.full_name ilike $1)
             and ($2::timestamptz is null or (p.created_at, p.id) < ($2, $3))
           order by p.created_at desc, p.id desc
           limit $4"#,
        pattern,
        after.as_ref().map(|cursor| cursor.at),
        after.as_ref().map(|cursor| cursor.id),
        cursor::PAGE_QUERY_LIMIT,
    )
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    cursor::page(
        rows,
        |row| Cursor {
            at: row.created_at,
            id: row.id,
        },
        |row| {
            Ok(PersonLine {
                id: row.id.to_string(),
                email: row.email.unwrap_or_default(),
                name: row.full_name,
                plan: parse(&row.plan)?,
                role: parse(&row.role)?,
                joined_at: row.created_at.unix_timestamp(),
            })
        },
    )
}

/// What a person's page needs besides the database: their picture and their plan's allowance.
pub struct PersonSources<'a> {
    pub avatars: &'a Avatars,
    pub catalogue: &'a PlanCatalogue,
    /// The zone whose calendar month the AI allowance counts.
    pub zone: &'a str,
}

/// Everything about person `id`, or `None` when there is no such account.
pub async fn person(
    pool: &PgPool,
    _admin: &Admin,
    sources: PersonSources<'_>,
    id: Uuid,
) -> Result<Option<Person>, AdminError> {
    let Some(row) = sqlx::query!(
        r#"select u.email, u.created_at, u.last_sign_in_at, p.full_name, p.locale,
                  p.avatar_path, p.avatar_updated_at,
                  coalesce(r.role::text, 'member') as "role!",
                  coalesce(s.plan::text, 'FREE') as "plan!", coalesce(s.status::text, 'active') as "status!",
                  s.current_period_end, coalesce(s.cancel_at_period_end, false) as "cancel_at_period_end!",
                  (select coalesce(sum(a.total_tokens), 0)::bigint from public.ai_usage a
                    where a.user_id = u.id
                      and a.created_at >= date_trunc('month', now() at time zone $2) at time zone $2)
                    as "ai_tokens!"
           from auth.users u
           left join public.profiles p on p.id = u.id
           left join public.subscriptions s on s.user_id = u.id
           left join public.user_roles r on r.user_id = u.id
           where u.id = $1 and u.deleted_at is null"#,
        id,
        sources.zone,
    )
    .fetch_optional(pool)
    .await
    .map_err(failed)?
    else {
        return Ok(None);
    };
    let (payments, audit) = tokio::try_join!(payments_of(pool, id), audit_about(pool, id))?;
    let avatar_url = match (&row.avatar_path, row.avatar_updated_at) {
        (Some(path), Some(updated_at)) => {
            sources.avatars.url(Caller::Service, path, updated_at).await
        }
        _ => None,
    };
    let plan: Plan = parse(&row.plan)?;
    Ok(Some(Person {
        id: id.to_string(),
        email: row.email.unwrap_or_default(),
        name: row.full_name,
        avatar_url,
        locale: row.locale,
        joined_at: row.created_at.map_or(0, OffsetDateTime::unix_timestamp),
        last_sign_in_at: row.last_sign_in_at.map(OffsetDateTime::unix_timestamp),
        role: parse(&row.role)?,
        plan,
        subscription_status: parse(&row.status)?,
        period_end: row.current_period_end.map(OffsetDateTime::unix_timestamp),
        cancel_at_period_end: row.cancel_at_period_end,
        payments,
        ai_tokens_this_month: row.ai_tokens,
        ai_allowance: sources.catalogue.monthly_ai_tokens(plan),
        audit,
    }))
}

async fn payments_of(pool: &PgPool, person: Uuid) -> Result<Vec<PersonPayment>, AdminError> {
    sqlx::query!(
        r#"select id, external_id, provider::text as "provider!", plan::text as "plan!", amount,
                  status::text as "status!", created_at, paid_at
           from public.payments where user_id = $1
           order by created_at desc limit $2"#,
        person,
        PERSON_HISTORY,
    )
    .fetch_all(pool)
    .await
    .map_err(failed)?
    .into_iter()
    .map(|row| {
        Ok(PersonPayment {
            id: row.id.to_string(),
            order_id: row.external_id,
            provider: parse(&row.provider)?,
            plan: parse(&row.plan)?,
            amount: row.amount,
            status: parse(&row.status)?,
            created_at: row.created_at.unix_timestamp(),
            paid_at: row.paid_at.map(OffsetDateTime::unix_timestamp),
        })
    })
    .collect()
}

/// Entries this person made, and entries about them or their subscription (both name the
/// person's id as their target).
async fn audit_about(pool: &PgPool, person: Uuid) -> Result<Vec<AuditRecord>, AdminError> {
    let rows = sqlx::query!(
        r#"select id as "id!", created_at as "created_at!", action as "action!", actor_id, actor_email,
                  target_type, target_id, metadata as "metadata!", ip::text, user_agent
           from (
             (select id, created_at, action, actor_id, actor_email, target_type, target_id, metadata, ip, user_agent
              from public.audit_logs where actor_id = $1
              order by created_at desc limit $2)
             union
             (select id, created_at, action, actor_id, actor_email, target_type, target_id, metadata, ip, user_agent
              from public.audit_logs
              where target_type in ('user', 'subscription') and target_id = $1::text
              order by created_at desc limit $2)
           ) entries
           order by created_at desc, id desc
           limit $2"#,
        person,
        PERSON_HISTORY,
    )
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    Ok(rows
        .into_iter()
        .map(|row| AuditRecord {
            id: row.id,
            at: row.created_at.unix_timestamp(),
            actor_id: row.actor_id.map(|id| id.to_string()),
            actor_email: row.actor_email,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            metadata: serde_json::to_string_pretty(&row.metadata).unwrap_or_default(),
            ip: row.ip,
            user_agent: row.user_agent,
        })
        .collect())
}

/// Gives person `target` the role `role` (audited by `set_user_role`). An admin cannot demote
/// themselves; changing nothing writes nothing.
pub async fn set_role(
    pool: &PgPool,
    admin: &Admin,
    target: Uuid,
    role: AppRole,
) -> Result<(), AdminError> {
    let context = admin.audit_context();
    let by = RequestedBy {
        actor: context.actor,
        ip: context.ip,
        user_agent: context.user_agent,
    };
    match roles::set_user_role(pool, target, role, &by).await {
        Ok(_) => Ok(()),
        Err(RoleChangeError::SelfDemotion) => Err(AdminError::SelfDemotion),
        Err(RoleChangeError::UnknownUser) => Err(AdminError::NotFound),
        // The database re-checks the actor's role: demoted since the page guard read it.
        Err(RoleChangeError::NotAnAdmin) => Err(AdminError::NotFound),
        Err(RoleChangeError::Database(error)) => Err(failed(error)),
    }
}

/// A month of `plan` for person `target`, by the subscription rules (extends the plan in force
/// from its period end, else starts now), audited `subscription.changed` with the admin as
/// actor and `reason`. No payment is made.
pub async fn grant_plan(
    pool: &PgPool,
    admin: &Admin,
    target: Uuid,
    plan: Plan,
    reason: &str,
) -> Result<(), AdminError> {
    if plan == Plan::Free {
        return Err(AdminError::PlanNotGrantable);
    }
    let reason: String = reason
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(REASON_MAX_CHARS)
        .collect();
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AdminError::ReasonMissing);
    }
    let context = admin.audit_context();
    let exists = sqlx::query_scalar!(
        r#"select exists(select 1 from auth.users where id = $1 and deleted_at is null) as "exists!""#,
        target
    )
    .fetch_one(pool)
    .await
    .map_err(failed)?;
    if !exists {
        return Err(AdminError::NotFound);
    }
    sqlx::query!(
        r#"select granted_subscription from public.grant_subscription_month(
             $1, ($2::text)::public.subscription_plan, null, $3, $4, $5, ($6::text)::inet, $7)"#,
        target,
        plan.as_db(),
        context.actor.map(|(id, _)| id),
        context.actor.map(|(_, email)| email),
        reason,
        context.ip.map(|ip| ip.to_string()),
        context.user_agent,
    )
    .fetch_one(pool)
    .await
    .map_err(failed)?;
    Ok(())
}
