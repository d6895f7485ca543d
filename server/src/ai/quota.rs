//! Monthly token quotas that hold under concurrency (migration 17).
//!
//! Before a call, [`reserve`] holds the most the call can cost against the month's allowance of
//! the user's plan, atomically per user; after it, [`settle`] swaps the hold for the real usage
//! (an `ai_usage` row). A prompt's tokens are not known before the provider counts them, so the
//! hold uses a bound no tokenizer exceeds: every token is at least one byte of text.

use std::time::Duration;

use app::domain::{Plan, PlanCatalogue};
use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, postgres::types::PgInterval};
use uuid::Uuid;

use super::{ChatMessage, ProviderKind, Usage};

/// The shortest answer worth calling a provider for: below it the quota is spent.
pub const LEAST_ANSWER_TOKENS: u32 = 16;
/// Tokens a provider adds around each message (role markers, separators): 4 at OpenAI; a
/// generous bound covers the others.
const PER_MESSAGE_TOKENS: u64 = 8;
/// How long a hold counts when nobody settles it (the process died mid-answer): longer than the
/// longest answer ([`super::StreamTimeouts::whole_answer`]).
pub const HOLD_FOR: Duration = Duration::from_secs(10 * 60);

/// What `ai_usage.kind` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Generate,
}

impl Kind {
    pub fn as_db(self) -> &'static str {
        match self {
            Kind::Chat => "chat",
            Kind::Generate => "generate",
        }
    }
}

/// The most tokens `messages` can cost as a prompt.
pub fn prompt_bound(messages: &[ChatMessage]) -> u64 {
    messages
        .iter()
        .map(|message| message.content.len() as u64 + PER_MESSAGE_TOKENS)
        .sum::<u64>()
        + PER_MESSAGE_TOKENS
}

/// A hold on the quota for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub id: Uuid,
    /// The plan in force when it was made.
    pub plan: Plan,
    /// Tokens held: the prompt's bound plus the answer's `max_tokens`.
    pub tokens: u64,
}

/// Where a user stands this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub plan: Plan,
    /// Settled this month.
    pub used: u64,
    /// Held by calls in flight.
    pub held: u64,
    /// `None`: unlimited.
    pub allowance: Option<u64>,
    /// When the month (and with it the count) starts over.
    pub resets_at: DateTime<Utc>,
}

/// What [`reserve`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    Held(Reservation, Standing),
    /// The plan has no AI.
    NoAi(Standing),
    /// Not even a short answer is left this month.
    QuotaReached(Standing),
}

/// The allowances per plan, in plan order, as `reserve_ai_tokens` takes them.
fn allowances(catalogue: &PlanCatalogue) -> Vec<Option<i64>> {
    [Plan::Free, Plan::Basic, Plan::Pro, Plan::Ultimate]
        .into_iter()
        .map(|plan| {
            catalogue
                .monthly_ai_tokens(plan)
                .map(|tokens| i64::try_from(tokens).unwrap_or(i64::MAX))
        })
        .collect()
}

fn to_u64(value: Option<i64>) -> u64 {
    value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

/// Holds up to `prompt_bound + max_answer` tokens of `user`'s month (at least
/// `prompt_bound + LEAST_ANSWER_TOKENS`), by the allowance `catalogue` gives their plan; the
/// month is the calendar month in `time_zone`.
pub async fn reserve(
    db: impl PgExecutor<'_>,
    user: Uuid,
    prompt_bound: u64,
    max_answer: u32,
    catalogue: &PlanCatalogue,
    time_zone: &str,
) -> Result<Reserved, sqlx::Error> {
    let wanted = i64::try_from(prompt_bound + u64::from(max_answer)).unwrap_or(i64::MAX);
    let least = i64::try_from(prompt_bound + u64::from(LEAST_ANSWER_TOKENS.min(max_answer)))
        .unwrap_or(i64::MAX);
    let hold = PgInterval::try_from(HOLD_FOR).map_err(sqlx::Error::Encode)?;
    let row = sqlx::query!(
        r#"select outcome as "outcome!", plan::text as "plan!", reservation, granted,
                  used as "used!", held as "held!", allowance,
                  resets_at as "resets_at!: DateTime<Utc>"
           from public.reserve_ai_tokens($1, $2, $3, $4, $5, $6)"#,
        user,
        wanted,
        least,
        &allowances(catalogue) as &[Option<i64>],
        time_zone,
        hold,
    )
    .fetch_one(db)
    .await?;
    let plan = parse_plan(&row.plan)?;
    let standing = Standing {
        plan,
        used: to_u64(Some(row.used)),
        held: to_u64(Some(row.held)),
        allowance: row.allowance.map(|a| to_u64(Some(a))),
        resets_at: row.resets_at,
    };
    Ok(match (row.outcome.as_str(), row.reservation) {
        ("reserved", Some(id)) => Reserved::Held(
            Reservation {
                id,
                plan,
                tokens: to_u64(row.granted),
            },
            standing,
        ),
        ("no_ai", _) => Reserved::NoAi(standing),
        _ => Reserved::QuotaReached(standing),
    })
}

/// Gives back a hold whose call never started.
pub async fn release(
    db: impl PgExecutor<'_>,
    user: Uuid,
    reservation: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from public.ai_reservations where id = $1 and user_id = $2",
        reservation,
        user
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Where `user` stands this month (the usage meter).
pub async fn standing(
    db: impl PgExecutor<'_>,
    user: Uuid,
    catalogue: &PlanCatalogue,
    time_zone: &str,
) -> Result<Standing, sqlx::Error> {
    let row = sqlx::query!(
        r#"select plan::text as "plan!", allowance, used as "used!", held as "held!",
                  resets_at as "resets_at!: DateTime<Utc>"
           from public.ai_standing($1, $2, $3)"#,
        user,
        &allowances(catalogue) as &[Option<i64>],
        time_zone,
    )
    .fetch_one(db)
    .await?;
    Ok(Standing {
        plan: parse_plan(&row.plan)?,
        used: to_u64(Some(row.used)),
        held: to_u64(Some(row.held)),
        allowance: row.allowance.map(|a| to_u64(Some(a))),
        resets_at: row.resets_at,
    })
}

fn parse_plan(name: &str) -> Result<Plan, sqlx::Error> {
    name.parse()
        .map_err(|_| sqlx::Error::Protocol(format!("the database named an unknown plan {name}")))
}

/// Ends the call held by `reservation`: releases the hold and records `usage`.
pub async fn settle(
    db: impl PgExecutor<'_>,
    user: Uuid,
    reservation: Uuid,
    provider: ProviderKind,
    model: &str,
    kind: Kind,
    usage: Usage,
) -> Result<(), sqlx::Error> {
    let prompt = i32::try_from(usage.prompt_tokens).unwrap_or(i32::MAX);
    let completion = i32::try_from(usage.completion_tokens).unwrap_or(i32::MAX);
    sqlx::query!(
        r#"select public.settle_ai_tokens($1, $2, $3, $4, ($5::text)::public.ai_usage_kind, $6, $7) as "id!""#,
        user,
        reservation,
        provider.as_str(),
        model,
        kind.as_db(),
        prompt,
        completion,
    )
    .fetch_one(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_bound_is_never_below_its_bytes() {
        let messages = [
            ChatMessage::system("Kamu asisten."),
            ChatMessage::user("Halo 👋 — apa kabar?"),
        ];
        let bytes: u64 = messages.iter().map(|m| m.content.len() as u64).sum();
        assert!(prompt_bound(&messages) >= bytes + 2 * PER_MESSAGE_TOKENS);
        assert_eq!(prompt_bound(&[]), PER_MESSAGE_TOKENS);
    }

    #[test]
    fn allowances_follow_plan_order() {
        let catalogue = PlanCatalogue::default().with_ai_tokens(Plan::Pro, Some(7));
        let list = allowances(&catalogue);
        assert_eq!(list.len(), 4);
        assert_eq!(list[2], Some(7));
        assert_eq!(list[0], Some(0), "FREE has no AI by default");
        assert_eq!(list[3], None, "ULTIMATE is unlimited by default");
    }
}
