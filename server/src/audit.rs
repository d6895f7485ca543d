//! The one way to write an audit entry. The table is append-only: entries are never changed.

use std::net::IpAddr;

use sqlx::PgExecutor;
use uuid::Uuid;

/// What happened. The database accepts any `subject.verb`; this enum is the list we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ProfileUpdated,
    AvatarUpdated,
    AvatarRemoved,
    PasswordChanged,
    EmailChangeRequested,
    RoleChanged,
    PaymentSuccess,
    PaymentFailed,
    PaymentExpired,
    PaymentRefunded,
    SubscriptionChanged,
    SubscriptionCanceled,
    SubscriptionResumed,
    SubscriptionLapsed,
    MailRetried,
    DataExported,
    WebhookReplayed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ProfileUpdated => "profile.updated",
            AuditAction::AvatarUpdated => "avatar.updated",
            AuditAction::AvatarRemoved => "avatar.removed",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::EmailChangeRequested => "email.change_requested",
            AuditAction::RoleChanged => "role.changed",
            AuditAction::PaymentSuccess => "payment.success",
            AuditAction::PaymentFailed => "payment.failed",
            AuditAction::PaymentExpired => "payment.expired",
            AuditAction::PaymentRefunded => "payment.refunded",
            AuditAction::SubscriptionChanged => "subscription.changed",
            AuditAction::SubscriptionCanceled => "subscription.canceled",
            AuditAction::SubscriptionResumed => "subscription.resumed",
            AuditAction::SubscriptionLapsed => "subscription.lapsed",
            AuditAction::MailRetried => "mail.retried",
            AuditAction::DataExported => "data.exported",
            AuditAction::WebhookReplayed => "webhook.replayed",
        }
    }
}

/// Who did it and from where; `actor: None` is the system (webhooks, bootstrap, CLI).
#[derive(Debug, Clone, Default)]
pub struct AuditContext<'a> {
    pub actor: Option<(Uuid, &'a str)>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

/// The caller's browser (`User-Agent`) as a request names it, for [`AuditContext::user_agent`].
pub fn user_agent(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::USER_AGENT)?
        .to_str()
        .ok()
        .map(str::to_string)
}

/// One entry: the action, what it was done to (`target_type`, `target_id`) and its details.
pub struct AuditEntry<'a> {
    pub action: AuditAction,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub metadata: serde_json::Value,
}

/// The database keeps user agents up to this many characters; longer ones are cut, not refused.
const MAX_USER_AGENT: usize = 1024;

/// Appends `entry`; run it in the transaction of the change it records.
pub async fn record(
    db: impl PgExecutor<'_>,
    context: &AuditContext<'_>,
    entry: AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    let (actor_id, actor_email) = context
        .actor
        .map_or((None, None), |(id, email)| (Some(id), Some(email)));
    let user_agent = context
        .user_agent
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>());
    sqlx::query_scalar!(
        "insert into public.audit_logs (actor_id, actor_email, action, target_type, target_id, metadata, ip, user_agent)
         values ($1, $2, $3, $4, $5, $6, ($7::text)::inet, $8)
         returning id",
        actor_id,
        actor_email,
        entry.action.as_str(),
        entry.target_type,
        entry.target_id,
        entry.metadata,
        context.ip.map(|ip| ip.to_string()),
        user_agent,
    )
    .fetch_one(db)
    .await
}
