//! Chats as they are kept (migration 17): a person's conversations and their turns. Every
//! function takes the owner and touches only their rows; another person's conversation is
//! indistinguishable from one that does not exist.

use app::ai::conversation_title;
use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::{ChatMessage, Role};

/// The most of a conversation's past sent with a new message (bytes of text): the newest turns
/// that fit, so long chats stay affordable and within every model's context.
pub const HISTORY_BUDGET_BYTES: usize = 24_000;
/// Conversations per page of the list.
pub const PAGE_SIZE: i64 = 30;

/// How an answer ended, as kept with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnStatus {
    Complete,
    /// The person stopped it; what came is kept.
    Stopped,
    /// The provider failed mid-answer; what came is kept.
    Failed,
}

impl TurnStatus {
    pub fn as_db(self) -> &'static str {
        match self {
            TurnStatus::Complete => "complete",
            TurnStatus::Stopped => "stopped",
            TurnStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub id: Uuid,
    pub title: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Turn {
    pub id: i64,
    pub role: String,
    pub content: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// The newest turns of `user`'s `conversation` that fit [`HISTORY_BUDGET_BYTES`], oldest
/// first; `None` when `user` has no such conversation.
pub async fn history(
    db: &PgPool,
    user: Uuid,
    conversation: Uuid,
) -> Result<Option<Vec<ChatMessage>>, sqlx::Error> {
    let owned = sqlx::query_scalar!(
        "select exists (select 1 from public.ai_conversations where id = $1 and user_id = $2) as \"owned!\"",
        conversation,
        user
    )
    .fetch_one(db)
    .await?;
    if !owned {
        return Ok(None);
    }
    // Newest first, only as many as can fit (each turn is at least one byte).
    let rows = sqlx::query!(
        r#"select role, content from public.ai_messages
           where conversation_id = $1 and user_id = $2 and content <> ''
           order by id desc limit 200"#,
        conversation,
        user
    )
    .fetch_all(db)
    .await?;
    let mut spent = 0;
    let mut turns: Vec<ChatMessage> = rows
        .into_iter()
        .take_while(|row| {
            spent += row.content.len();
            spent <= HISTORY_BUDGET_BYTES
        })
        .map(|row| ChatMessage {
            role: if row.role == "assistant" {
                Role::Assistant
            } else {
                Role::User
            },
            content: row.content,
        })
        .collect();
    turns.reverse();
    // A conversation sent to a provider starts with the person's turn.
    while turns.first().is_some_and(|turn| turn.role != Role::User) {
        turns.remove(0);
    }
    Ok(Some(turns))
}

/// Starts a conversation for `user`, titled by its first message.
pub async fn start(
    db: impl PgExecutor<'_>,
    user: Uuid,
    first_message: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into public.ai_conversations (user_id, title) values ($1, $2) returning id",
        user,
        conversation_title(first_message)
    )
    .fetch_one(db)
    .await
}

/// Adds a turn to `user`'s `conversation` and marks the conversation recent.
pub async fn add_turn(
    db: impl PgExecutor<'_>,
    user: Uuid,
    conversation: Uuid,
    role: Role,
    content: &str,
    status: TurnStatus,
    model: Option<&str>,
) -> Result<(), sqlx::Error> {
    let role = match role {
        Role::Assistant => "assistant",
        Role::User | Role::System => "user",
    };
    sqlx::query!(
        r#"with touched as (
             update public.ai_conversations set updated_at = now()
             where id = $1 and user_id = $2
           )
           insert into public.ai_messages (conversation_id, user_id, role, content, status, model)
           values ($1, $2, $3, $4, $5, $6)"#,
        conversation,
        user,
        role,
        content,
        status.as_db(),
        model
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A page of `user`'s conversations, most recent first, after `before` (the last one of the
/// previous page).
pub async fn list(
    db: impl PgExecutor<'_>,
    user: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
) -> Result<Vec<Summary>, sqlx::Error> {
    let (before_at, before_id) = before.unzip();
    sqlx::query_as!(
        Summary,
        r#"select id, title, updated_at as "updated_at: DateTime<Utc>" from public.ai_conversations
           where user_id = $1
             and ($2::timestamptz is null or (updated_at, id) < ($2, $3))
           order by updated_at desc, id desc
           limit $4"#,
        user,
        before_at as _,
        before_id,
        PAGE_SIZE
    )
    .fetch_all(db)
    .await
}

/// The turns of `user`'s `conversation`, oldest first; `None` when they have no such
/// conversation.
pub async fn turns(
    db: &PgPool,
    user: Uuid,
    conversation: Uuid,
) -> Result<Option<(Summary, Vec<Turn>)>, sqlx::Error> {
    let Some(summary) = sqlx::query_as!(
        Summary,
        r#"select id, title, updated_at as "updated_at: DateTime<Utc>"
           from public.ai_conversations where id = $1 and user_id = $2"#,
        conversation,
        user
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let turns = sqlx::query_as!(
        Turn,
        r#"select id, role, content, status, created_at as "created_at: DateTime<Utc>"
           from public.ai_messages
           where conversation_id = $1 and user_id = $2 order by id"#,
        conversation,
        user
    )
    .fetch_all(db)
    .await?;
    Ok(Some((summary, turns)))
}

/// Renames `user`'s `conversation`; false when they have no such conversation.
pub async fn rename(
    db: impl PgExecutor<'_>,
    user: Uuid,
    conversation: Uuid,
    title: &str,
) -> Result<bool, sqlx::Error> {
    let renamed = sqlx::query!(
        "update public.ai_conversations set title = $3, updated_at = now() where id = $1 and user_id = $2",
        conversation,
        user,
        title
    )
    .execute(db)
    .await?;
    Ok(renamed.rows_affected() == 1)
}

/// Deletes `user`'s `conversation` and its turns; false when they have no such conversation.
pub async fn delete(
    db: impl PgExecutor<'_>,
    user: Uuid,
    conversation: Uuid,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "delete from public.ai_conversations where id = $1 and user_id = $2",
        conversation,
        user
    )
    .execute(db)
    .await?;
    Ok(deleted.rows_affected() == 1)
}
