//! AI usage across everyone (`public.ai_usage`): tokens per day for the last
//! [`AI_USAGE_DAYS`] days and per model over the same days, and this month's heaviest users.
//! Days and months are calendar days and months in the business's zone (`AI_QUOTA_TIME_ZONE`),
//! the same month the quotas count. Each figure is a range scan of `ai_usage_created_at_idx`,
//! which carries what the sums need (`20261204000020_index_admin_records.sql`).

use app::admin::{
    AdminError,
    records::{AI_TOP_USERS, AI_USAGE_DAYS, AiDay, AiModelUsage, AiTopUser, AiUsageReport},
};
use sqlx::PgPool;

use super::{access::Admin, failed};

/// The report, days and months in `zone`.
pub async fn report(
    pool: &PgPool,
    _admin: &Admin,
    zone: &str,
) -> Result<AiUsageReport, AdminError> {
    let days = AI_USAGE_DAYS as i32;
    let (days, models, (month_starts, top_users)) = tokio::try_join!(
        per_day(pool, zone, days),
        per_model(pool, zone, days),
        top_users(pool, zone),
    )
    .map_err(failed)?;
    Ok(AiUsageReport {
        days,
        models,
        top_users,
        month_starts,
    })
}

/// The last `days` calendar days, today included, oldest first, every day present.
async fn per_day(pool: &PgPool, zone: &str, days: i32) -> Result<Vec<AiDay>, sqlx::Error> {
    sqlx::query_as!(
        AiDay,
        // Each day is placed in time once and summed over its own range of the index: converting
        // every call's time to a local date to group by it costs several times more.
        r#"with days as (
             select d as local_day, d at time zone $1 as starts, (d + interval '1 day') at time zone $1 as ends
             from generate_series(date_trunc('day', now() at time zone $1) - make_interval(days => $2 - 1),
                                  date_trunc('day', now() at time zone $1), interval '1 day') d
           )
           select to_char(days.local_day, 'YYYY-MM-DD') as "day!", used.tokens as "tokens!",
                  used.calls as "calls!"
           from days
           cross join lateral (
             select coalesce(sum(u.total_tokens), 0)::bigint as tokens, count(*) as calls
             from public.ai_usage u
             where u.created_at >= days.starts and u.created_at < days.ends
           ) used
           order by days.local_day"#,
        zone,
        days,
    )
    .fetch_all(pool)
    .await
}

/// The same days by provider and model, most tokens first.
async fn per_model(pool: &PgPool, zone: &str, days: i32) -> Result<Vec<AiModelUsage>, sqlx::Error> {
    sqlx::query_as!(
        AiModelUsage,
        // The bound is a subquery so that it is worked out once, not for every row scanned.
        r#"select provider, model, sum(total_tokens)::bigint as "tokens!", count(*) as "calls!"
           from public.ai_usage
           where created_at >= (select (date_trunc('day', now() at time zone $1)
                                        - make_interval(days => $2 - 1)) at time zone $1)
           group by provider, model
           order by 3 desc, provider, model"#,
        zone,
        days,
    )
    .fetch_all(pool)
    .await
}

/// This month's first day (`YYYY-MM-DD`) and its [`AI_TOP_USERS`] heaviest users, each with the
/// plan in force now by the quota's rule (`public.ai_standing`): an active subscription, inside
/// its period unless FREE; otherwise FREE.
async fn top_users(pool: &PgPool, zone: &str) -> Result<(String, Vec<AiTopUser>), sqlx::Error> {
    let month_starts = sqlx::query_scalar!(
        r#"select to_char(date_trunc('month', now() at time zone $1), 'YYYY-MM-DD') as "starts!""#,
        zone,
    )
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query!(
        r#"with top as (
             select user_id, sum(total_tokens)::bigint as tokens
             from public.ai_usage
             where created_at >= (select date_trunc('month', now() at time zone $1) at time zone $1)
             group by user_id
             order by tokens desc, user_id
             limit $2
           )
           select t.user_id, u.email as "email?", p.full_name as "full_name?",
                  case when s.status = 'active' and (s.plan = 'FREE' or s.current_period_end > now())
                       then s.plan::text else 'FREE' end as "plan!",
                  t.tokens as "tokens!"
           from top t
           join auth.users u on u.id = t.user_id
           left join public.profiles p on p.id = t.user_id
           left join public.subscriptions s on s.user_id = t.user_id
           order by t.tokens desc, t.user_id"#,
        zone,
        AI_TOP_USERS as i64,
    )
    .fetch_all(pool)
    .await?;
    let users =
        rows.into_iter()
            .map(|row| {
                let plan = row.plan.parse().map_err(|_| {
                    sqlx::Error::Decode(format!("unknown plan {:?}", row.plan).into())
                })?;
                Ok(AiTopUser {
                    user_id: row.user_id.to_string(),
                    email: row.email.unwrap_or_default(),
                    name: row.full_name,
                    plan,
                    tokens: row.tokens,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
    Ok((month_starts, users))
}
