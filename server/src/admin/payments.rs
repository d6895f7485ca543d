//! Payments and the webhook ledger for an admin: the filtered lists (keyset over
//! `(created_at, id)` and `(received_at, id)`, newest first), a payment's page with its raw
//! gateway data and every event for its order, and the replay of a failed event through the
//! ingestion path ([`billing::replay`](crate::billing::replay)), audited.

use app::admin::{
    AdminError, Page,
    payments::{
        PaymentDetail, PaymentFilter, PaymentLine, ReplayOutcome, WebhookEventLine, WebhookFilter,
    },
};
use app::domain::WebhookEventStatus;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    access::Admin,
    cursor::{self, Cursor},
    day_range, failed, parse,
};
use crate::audit::{self, AuditAction, AuditEntry};
use crate::billing::{
    replay::{self, Replayed},
    settle::Settled,
};

fn pretty(json: &Value) -> String {
    serde_json::to_string_pretty(json).unwrap_or_default()
}

/// One page of payments matching `filter`, newest first. Days are calendar days in `zone`.
pub async fn list(
    pool: &PgPool,
    _admin: &Admin,
    filter: &PaymentFilter,
    zone: &str,
    after: Option<&str>,
) -> Result<Page<PaymentLine>, AdminError> {
    let (from, to) = day_range(&filter.from, &filter.to)?;
    let after = Cursor::<Uuid>::decode(after).map_err(|_| AdminError::BadRequest)?;
    let rows = sqlx::query!(
        r#"select p.id, p.external_id, p.user_id, u.email as "email?",
                  p.provider::text as "provider!", p.plan::text as "plan!", p.amount,
                  p.status::text as "status!", p.created_at, p.paid_at
           from public.payments p
           left join auth.users u on u.id = p.user_id
           where ($1::text is null or p.status = ($1::text)::public.payment_status)
             and ($2::text is null or p.provider = ($2::text)::public.payment_provider)
             and ($3::text is null or p.plan = ($3::text)::public.subscription_plan)
             and ($4::timestamptz is null or (p.created_at, p.id) < ($4, $5))
             and ($7::date is null or p.created_at >= $7::date::timestamp at time zone $9)
             and ($8::date is null or p.created_at < ($8::date + 1)::timestamp at time zone $9)
           order by p.created_at desc, p.id desc
           limit $6"#,
        filter.status.map(|status| status.as_db()),
        filter.provider.map(|provider| provider.as_db()),
        filter.plan.map(|plan| plan.as_db()),
        after.as_ref().map(|cursor| cursor.at),
        after.as_ref().map(|cursor| cursor.id),
        cursor::PAGE_QUERY_LIMIT,
        from,
        to,
        zone,
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
            Ok(PaymentLine {
                id: row.id.to_string(),
                order_id: row.external_id,
                user_id: row.user_id.map(|id| id.to_string()),
                email: row.email,
                provider: parse(&row.provider)?,
                plan: parse(&row.plan)?,
                amount: row.amount,
                status: parse(&row.status)?,
                created_at: row.created_at.unix_timestamp(),
                paid_at: row.paid_at.map(OffsetDateTime::unix_timestamp),
            })
        },
    )
}

/// Payment `id` with its gateway data and events, or `None`.
pub async fn detail(
    pool: &PgPool,
    _admin: &Admin,
    id: Uuid,
) -> Result<Option<PaymentDetail>, AdminError> {
    let Some(row) = sqlx::query!(
        r#"select p.id, p.external_id, p.user_id, u.email as "email?",
                  p.provider::text as "provider!", p.plan::text as "plan!", p.amount,
                  p.status::text as "status!", p.created_at, p.paid_at, p.payment_type,
                  p.expires_at, p.gateway_metadata
           from public.payments p
           left join auth.users u on u.id = p.user_id
           where p.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
    .map_err(failed)?
    else {
        return Ok(None);
    };
    let provider = parse(&row.provider)?;
    let events = events(pool, EventQuery::Order(provider, &row.external_id)).await?;
    Ok(Some(PaymentDetail {
        payment: PaymentLine {
            id: row.id.to_string(),
            order_id: row.external_id,
            user_id: row.user_id.map(|id| id.to_string()),
            email: row.email,
            provider,
            plan: parse(&row.plan)?,
            amount: row.amount,
            status: parse(&row.status)?,
            created_at: row.created_at.unix_timestamp(),
            paid_at: row.paid_at.map(OffsetDateTime::unix_timestamp),
        },
        payment_type: row.payment_type,
        expires_at: row.expires_at.map(OffsetDateTime::unix_timestamp),
        gateway_metadata: pretty(&row.gateway_metadata),
        events: events.items,
    }))
}

/// One page of the webhook ledger matching `filter`, newest first.
pub async fn webhook_events(
    pool: &PgPool,
    _admin: &Admin,
    filter: &WebhookFilter,
    after: Option<&str>,
) -> Result<Page<WebhookEventLine>, AdminError> {
    let after = Cursor::<Uuid>::decode(after).map_err(|_| AdminError::BadRequest)?;
    events(pool, EventQuery::Filtered(filter, after)).await
}

struct EventRow {
    id: Uuid,
    provider: String,
    event_id: String,
    event_type: String,
    order_id: Option<String>,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    received_at: OffsetDateTime,
    processed_at: Option<OffsetDateTime>,
    payload: Value,
    payment_id: Option<Uuid>,
}

enum EventQuery<'a> {
    /// Every event of one order (a payment's page).
    Order(app::domain::PaymentProvider, &'a str),
    Filtered(&'a WebhookFilter, Option<Cursor<Uuid>>),
}

async fn events(
    pool: &PgPool,
    query: EventQuery<'_>,
) -> Result<Page<WebhookEventLine>, AdminError> {
    let (provider, status, order, after, limit) = match &query {
        EventQuery::Order(provider, order) => (Some(*provider), None, Some(*order), None, 200),
        EventQuery::Filtered(filter, after) => (
            filter.provider,
            filter.status,
            None,
            after.as_ref(),
            cursor::PAGE_QUERY_LIMIT,
        ),
    };
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.id, e.provider::text as "provider!", e.event_id, e.event_type, e.order_id,
                  e.status::text as "status!", e.attempts, e.last_error, e.received_at,
                  e.processed_at, e.payload,
                  (select p.id from public.payments p
                    where p.provider = e.provider and p.external_id = e.order_id) as payment_id
           from public.webhook_events e
           where ($1::text is null or e.provider = ($1::text)::public.payment_provider)
             and ($2::text is null or e.status = ($2::text)::public.webhook_event_status)
             and ($3::text is null or e.order_id = $3)
             and ($4::timestamptz is null or (e.received_at, e.id) < ($4, $5))
           order by e.received_at desc, e.id desc
           limit $6"#,
        provider.map(|provider| provider.as_db()),
        status.map(|status| status.as_db()),
        order,
        after.map(|cursor| cursor.at),
        after.map(|cursor| cursor.id),
        limit,
    )
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    let item = |row: EventRow| {
        let status: WebhookEventStatus = parse(&row.status)?;
        Ok(WebhookEventLine {
            id: row.id.to_string(),
            provider: parse(&row.provider)?,
            event_id: row.event_id,
            event_type: row.event_type,
            order_id: row.order_id,
            payment_id: row.payment_id.map(|id| id.to_string()),
            replayable: status == WebhookEventStatus::Failed
                && row.payment_id.is_some()
                && row.payload.get("body").is_some(),
            status,
            attempts: row.attempts,
            last_error: row.last_error,
            received_at: row.received_at.unix_timestamp(),
            processed_at: row.processed_at.map(OffsetDateTime::unix_timestamp),
            payload: pretty(&row.payload),
        })
    };
    match query {
        EventQuery::Order(..) => Ok(Page {
            items: rows
                .into_iter()
                .map(item)
                .collect::<Result<_, AdminError>>()?,
            next: None,
        }),
        EventQuery::Filtered(..) => cursor::page(
            rows,
            |row| Cursor {
                at: row.received_at,
                id: row.id,
            },
            item,
        ),
    }
}

/// Runs event `id` through ingestion again (a failed one is applied once; a processed one
/// changes nothing), audited `webhook.replayed` with what came of it.
pub async fn replay(pool: &PgPool, admin: &Admin, id: Uuid) -> Result<ReplayOutcome, AdminError> {
    let Some(event) = sqlx::query!(
        r#"select provider::text as "provider!", event_id, order_id, status::text as "status!", payload
           from public.webhook_events where id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
    .map_err(failed)?
    else {
        return Err(AdminError::NotFound);
    };
    let provider = parse(&event.provider)?;
    let outcome = match replay::replay(pool, provider, &event.event_id, &event.payload).await {
        Ok(Replayed::Settled(Settled::Applied { .. })) => ReplayOutcome::Applied,
        Ok(Replayed::Settled(Settled::Duplicate)) => ReplayOutcome::AlreadyProcessed,
        Ok(Replayed::Settled(Settled::InProgress)) => ReplayOutcome::InProgress,
        Ok(Replayed::Settled(Settled::UnknownOrder) | Replayed::NotADelivery) => {
            ReplayOutcome::NotReplayable
        }
        Err(error) => {
            // The ledger marked it failed again, with this error, for the next try.
            tracing::error!(%error, event = %id, "a replayed webhook event failed");
            return Err(AdminError::Unavailable);
        }
    };
    audit::record(
        pool,
        &admin.audit_context(),
        AuditEntry {
            action: AuditAction::WebhookReplayed,
            target_type: "webhook_event",
            target_id: &id.to_string(),
            metadata: json!({
                "provider": event.provider,
                "event_id": event.event_id,
                "order_id": event.order_id,
                "status_before": event.status,
                "outcome": format!("{outcome:?}"),
            }),
        },
    )
    .await
    .map_err(failed)?;
    Ok(outcome)
}
