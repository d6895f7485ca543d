//! The signed-in AI routes (JSON in, JSON or server-sent events out, in the person's language):
//! - `POST /api/ai/chat` `{message, conversation_id?}` and `POST /api/ai/generate`
//!   `{template, input}`: the answer as server-sent events — `start` `{conversation_id}`, then
//!   `text` `{text}` pieces, then one `end` `{status, cut_at_limit, usage, meter, error?}`.
//!   Closing the stream (the browser's stop) stops the provider and counts what it produced.
//!   A refusal before the answer starts is a plain JSON answer `{code, message, field?}`: 401
//!   not signed in, 400 a bad message, 403 a plan without AI, 404 an unknown conversation, 429
//!   rate limit or quota (with `Retry-After`), 503 switched off, unconfigured or unreachable.
//! - `GET /api/ai/usage`: the meter `{plan, used, held, allowance, resets_at}`.
//! - `GET /api/ai/conversations[?before=<updated_at>,<id>]`, `GET`/`PATCH {title}`/`DELETE`
//!   `/api/ai/conversations/{id}`: the person's own chats; anyone else's is 404.
//!
//! Answers are limited per person by plan (`RATE_LIMIT_AI_*`: 10/20/40/80 per 5 minutes) with
//! the `X-RateLimit-*` headers; bodies are held to the form class's limit.

use std::{convert::Infallible, sync::Arc};

use app::{
    ai::{AiError, CHAT_PATH, GENERATE_PATH, Template, USAGE_PATH},
    i18n::Locale,
    identity::IdentityError,
};
use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, Uri, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    assistant::{AnswerEvent, Ask, Assistant, Ending},
    conversations,
    quota::Standing,
};
use crate::{auth::identity::IdentityService, net::ClientIp};

pub const CONVERSATIONS_PATH: &str = "/api/ai/conversations";

#[derive(Clone)]
struct AiRoutes {
    identity: Arc<IdentityService>,
    /// `None`: AI is switched off (`ENABLE_AI=false`); every route answers 503.
    assistant: Option<Arc<Assistant>>,
}

pub fn router<S: Clone + Send + Sync + 'static>(
    identity: Arc<IdentityService>,
    assistant: Option<Arc<Assistant>>,
) -> Router<S> {
    Router::new()
        .route(CHAT_PATH, post(chat))
        .route(GENERATE_PATH, post(generate))
        .route(USAGE_PATH, get(usage))
        .route(CONVERSATIONS_PATH, get(list_conversations))
        .route(
            &format!("{CONVERSATIONS_PATH}/{{id}}"),
            get(show_conversation)
                .patch(rename_conversation)
                .delete(delete_conversation),
        )
        .with_state(AiRoutes {
            identity,
            assistant,
        })
}

/// A refusal as JSON, in `locale`, with `Retry-After` when it has one.
fn refused(error: AiError, locale: Locale) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut body = json!({ "code": error.code(), "message": error.message(locale) });
    if let Some(field) = error.field() {
        body["field"] = field.into();
    }
    if error == AiError::NoAi {
        body["upgrade_url"] = "/pricing".into();
    }
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = error.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    response
}

fn not_signed_in(locale: Locale) -> Response {
    let error = IdentityError::NotSignedIn;
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "code": error.code(), "message": error.message(locale), "sign_in_url": "/auth/login" })),
    )
        .into_response()
}

/// The signed-in person and the assistant, or the answer that refuses.
async fn caller(
    routes: &AiRoutes,
    session: &Session,
    locale: Locale,
) -> Result<(Uuid, Arc<Assistant>), Response> {
    let person = match routes.identity.access(session).await {
        Ok((person, _)) => person,
        Err(IdentityError::NotSignedIn) => return Err(not_signed_in(locale)),
        Err(_) => return Err(refused(AiError::Unavailable, locale)),
    };
    let assistant = routes
        .assistant
        .clone()
        .ok_or_else(|| refused(AiError::Off, locale))?;
    Ok((person.user_id, assistant))
}

/// [`caller`], and the conversation the path names (an id that is not one is no conversation).
async fn conversation_caller(
    routes: &AiRoutes,
    session: &Session,
    locale: Locale,
    id: &str,
) -> Result<(Uuid, Arc<Assistant>, Uuid), Response> {
    let (user, assistant) = caller(routes, session, locale).await?;
    let id = id
        .parse::<Uuid>()
        .map_err(|_| refused(AiError::ConversationNotFound, locale))?;
    Ok((user, assistant, id))
}

/// The database failed: logged with what was being done, 503 for the person.
fn database_failed(doing: &str, error: &sqlx::Error, locale: Locale) -> Response {
    tracing::error!(%error, "could not {doing}");
    refused(AiError::Unavailable, locale)
}

fn locale_of(routes: &AiRoutes, uri: &Uri, headers: &HeaderMap) -> Locale {
    app::i18n::request_locale(uri, headers, routes.identity.default_locale)
}

#[derive(Deserialize)]
struct ChatBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    conversation_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct GenerateBody {
    #[serde(default)]
    template: String,
    #[serde(default)]
    input: String,
}

/// A body that is not the JSON asked for is refused like an empty message, naming the field.
fn body_of<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AiError> {
    body.map(|Json(body)| body)
        .map_err(|_| AiError::MessageMissing)
}

/// [`caller`], and the JSON body an answer route was sent.
async fn caller_with_body<T>(
    routes: &AiRoutes,
    session: &Session,
    locale: Locale,
    body: Result<Json<T>, JsonRejection>,
) -> Result<(Uuid, Arc<Assistant>, T), Response> {
    let (user, assistant) = caller(routes, session, locale).await?;
    let body = body_of(body).map_err(|error| refused(error, locale))?;
    Ok((user, assistant, body))
}

async fn chat(
    State(routes): State<AiRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Json<ChatBody>, JsonRejection>,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant, body) = match caller_with_body(&routes, &session, locale, body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let ask = Ask::Chat {
        conversation: body.conversation_id,
        message: body.message,
    };
    answer(&assistant, user, ip, locale, ask).await
}

async fn generate(
    State(routes): State<AiRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Json<GenerateBody>, JsonRejection>,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant, body) = match caller_with_body(&routes, &session, locale, body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(template) = Template::from_code(body.template.trim()) else {
        return refused(AiError::TemplateUnknown, locale);
    };
    let ask = Ask::Generate {
        template,
        input: body.input,
    };
    answer(&assistant, user, ip, locale, ask).await
}

/// Starts the answer and streams it as server-sent events.
async fn answer(
    assistant: &Arc<Assistant>,
    user: Uuid,
    ip: std::net::IpAddr,
    locale: Locale,
    ask: Ask,
) -> Response {
    let started = match assistant.ask(user, ip, locale, ask).await {
        Ok(started) => started,
        Err(declined) => {
            let mut response = refused(declined.error, locale);
            if let Some(limit) = declined.limit {
                limit.apply(response.headers_mut());
            }
            return response;
        }
    };
    let start = Event::default()
        .event("start")
        .json_data(json!({ "conversation_id": started.conversation }));
    let first = futures_util::stream::iter(start.ok().map(Ok::<_, Infallible>));
    let rest = futures_util::stream::unfold(started.events, move |mut events| async move {
        let event = match events.recv().await? {
            AnswerEvent::Text(text) => Event::default()
                .event("text")
                .json_data(json!({ "text": text })),
            AnswerEvent::End(ending) => Event::default()
                .event("end")
                .json_data(ending_json(&ending, locale)),
        };
        Some((Ok(event.unwrap_or_default()), events))
    });
    let mut response = Sse::new(futures_util::StreamExt::chain(first, rest))
        .keep_alive(KeepAlive::default())
        .into_response();
    started.limit.apply(response.headers_mut());
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn standing_json(standing: &Standing) -> Value {
    json!({
        "plan": standing.plan.as_db(),
        "used": standing.used,
        "held": standing.held,
        "allowance": standing.allowance,
        "resets_at": standing.resets_at.timestamp(),
    })
}

fn ending_json(ending: &Ending, locale: Locale) -> Value {
    json!({
        "status": ending.status.as_db(),
        "cut_at_limit": ending.cut_at_limit,
        "usage": {
            "prompt_tokens": ending.usage.prompt_tokens,
            "completion_tokens": ending.usage.completion_tokens,
        },
        "meter": ending.standing.as_ref().map(standing_json),
        "error": ending.error.map(|error| json!({ "code": error.code(), "message": error.message(locale) })),
    })
}

async fn usage(
    State(routes): State<AiRoutes>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant) = match caller(&routes, &session, locale).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match assistant.standing(user).await {
        Ok(standing) => no_store(Json(standing_json(&standing))),
        Err(error) => refused(error, locale),
    }
}

fn no_store(body: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[derive(Deserialize)]
struct Page {
    /// `<updated_at unix micros>,<id>` of the previous page's last conversation.
    before: Option<String>,
}

fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = raw.split_once(',')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

async fn list_conversations(
    State(routes): State<AiRoutes>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant) = match caller(&routes, &session, locale).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    // An unreadable cursor starts from the newest, like no cursor.
    let before = page
        .ok()
        .and_then(|Query(page)| page.before)
        .and_then(|raw| parse_cursor(&raw));
    match conversations::list(&assistant.pool, user, before).await {
        Ok(list) => {
            let next = (list.len() as i64 == conversations::PAGE_SIZE)
                .then(|| list.last())
                .flatten()
                .map(|last| format!("{},{}", last.updated_at.timestamp_micros(), last.id));
            no_store(Json(json!({ "conversations": list, "next": next })))
        }
        Err(error) => database_failed("list conversations", &error, locale),
    }
}

async fn show_conversation(
    State(routes): State<AiRoutes>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant, id) = match conversation_caller(&routes, &session, locale, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match conversations::turns(&assistant.pool, user, id).await {
        Ok(Some((summary, turns))) => {
            no_store(Json(json!({ "conversation": summary, "messages": turns })))
        }
        Ok(None) => refused(AiError::ConversationNotFound, locale),
        Err(error) => database_failed("read a conversation", &error, locale),
    }
}

#[derive(Deserialize)]
struct RenameBody {
    #[serde(default)]
    title: String,
}

async fn rename_conversation(
    State(routes): State<AiRoutes>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<RenameBody>, JsonRejection>,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant, id) = match conversation_caller(&routes, &session, locale, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let title = match body_of(body).and_then(|body| app::ai::parse_message(&body.title)) {
        Ok(title) => app::ai::conversation_title(&title),
        Err(error) => return refused(error, locale),
    };
    match conversations::rename(&assistant.pool, user, id, &title).await {
        Ok(true) => no_store(Json(json!({ "id": id, "title": title }))),
        Ok(false) => refused(AiError::ConversationNotFound, locale),
        Err(error) => database_failed("rename a conversation", &error, locale),
    }
}

async fn delete_conversation(
    State(routes): State<AiRoutes>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let locale = locale_of(&routes, &uri, &headers);
    let (user, assistant, id) = match conversation_caller(&routes, &session, locale, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match conversations::delete(&assistant.pool, user, id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => refused(AiError::ConversationNotFound, locale),
        Err(error) => database_failed("delete a conversation", &error, locale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_nonsense_is_none() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(
            parse_cursor(&format!("{},{id}", at.timestamp_micros())),
            Some((at, id))
        );
        for raw in ["", ",", "abc,def", "1,not-a-uuid", "99999999999999999999,x"] {
            assert_eq!(parse_cursor(raw), None, "{raw}");
        }
    }
}
