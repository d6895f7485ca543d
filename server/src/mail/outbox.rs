//! The outbox (`public.mail_outbox`): the one way to queue application mail. Mail is queued in
//! the caller's transaction, so it exists exactly when the event that causes it committed, and
//! the [`worker`](super::worker) sends it afterwards, whichever instance is up.
//!
//! Two ways in:
//! - [`enqueue`] a message the caller rendered ([`templates`](super::templates)) — the waitlist
//!   and contact routes, which know the visitor's language;
//! - one SQL statement that stores a template's facts instead ([`enqueue_welcome`],
//!   [`enqueue_renewal_reminders`], and the receipt in `public.settle_payment`); the worker renders them
//!   ([`render_facts`]) in the recipient's language, or the server's default when they never
//!   chose one.
//!
//! A `dedupe_key` makes an event mail once however often it happens (a replayed webhook, a
//! second sign-in, a job run by several instances): the insert is `on conflict do nothing`.
//! Every insert wakes the workers of every instance (a `NOTIFY` on commit, see the migration).

use std::time::Duration;

use app::{domain::Plan, i18n::Locale};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::templates::{self, Invoice, Rendered};

/// The `NOTIFY` channel the outbox's insert trigger announces queued mail on.
pub const CHANNEL: &str = "kilat_mail_queued";

/// Which mail a row is: its template, and how the admin pages group it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    WaitlistConfirmation,
    ContactMessage,
    Welcome,
    Invoice,
    RenewalReminder,
}

impl MailKind {
    pub const ALL: [MailKind; 5] = [
        MailKind::WaitlistConfirmation,
        MailKind::ContactMessage,
        MailKind::Welcome,
        MailKind::Invoice,
        MailKind::RenewalReminder,
    ];

    /// The `kind` column's word.
    pub fn as_db(self) -> &'static str {
        match self {
            MailKind::WaitlistConfirmation => "waitlist_confirmation",
            MailKind::ContactMessage => "contact_message",
            MailKind::Welcome => "welcome",
            MailKind::Invoice => "invoice",
            MailKind::RenewalReminder => "renewal_reminder",
        }
    }

    pub fn parse(word: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|kind| kind.as_db() == word)
    }
}

/// A rendered message to queue: `OutgoingMail::new(kind, to, rendered, locale)`, then
/// `.reply_to(..)` and `.dedupe_key(..)` as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub kind: MailKind,
    pub to: String,
    pub reply_to: Option<String>,
    pub locale: Locale,
    pub rendered: Rendered,
    pub dedupe_key: Option<String>,
}

impl OutgoingMail {
    pub fn new(kind: MailKind, to: impl Into<String>, rendered: Rendered, locale: Locale) -> Self {
        Self {
            kind,
            to: to.into(),
            reply_to: None,
            locale,
            rendered,
            dedupe_key: None,
        }
    }

    /// Where a reply goes (the sender of a contact message).
    pub fn reply_to(mut self, address: impl Into<String>) -> Self {
        self.reply_to = Some(address.into());
        self
    }

    /// Queues nothing if a message with this key was ever queued.
    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// Queues `mail`; run it in the transaction of the event that causes it. The row's id, or
/// `None` when its dedupe key was already queued.
pub async fn enqueue(
    db: impl PgExecutor<'_>,
    mail: &OutgoingMail,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"insert into public.mail_outbox (kind, recipient, reply_to, locale, subject, html, text, dedupe_key)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (dedupe_key) do nothing
           returning id"#,
        mail.kind.as_db(),
        mail.to,
        mail.reply_to,
        mail.locale.code(),
        mail.rendered.subject,
        mail.rendered.html,
        mail.rendered.text,
        mail.dedupe_key,
    )
    .fetch_optional(db)
    .await
}

// The statements below write a template's facts as `payload`, which [`render_facts`] reads:
// the two sides of one contract, kept in this file (but for the receipt's, which
// `public.settle_payment` queues in the database as it grants the month paid for). Addresses the outbox would refuse (its
// `mail_outbox_recipient_format` check) are skipped rather than failing the caller's
// transaction: a settlement must never roll back over a receipt.

/// Accounts older than this get no welcome: they were made before the welcome existed (a
/// project adopting Kilat's outbox), and a welcome on their next sign-in would be noise.
pub const WELCOME_ACCOUNTS_YOUNGER_THAN: Duration = Duration::from_secs(30 * 86_400);

/// Queues the welcome for `user`, once per person ever (`welcome:<user id>`): run at every
/// sign-in, it queues at the first. Whether it was queued.
pub async fn enqueue_welcome(db: impl PgExecutor<'_>, user: Uuid) -> Result<bool, sqlx::Error> {
    let queued = sqlx::query!(
        r#"insert into public.mail_outbox (kind, recipient, locale, payload, dedupe_key)
           select 'welcome', u.email, pr.locale,
                  jsonb_build_object('name', pr.full_name),
                  'welcome:' || u.id::text
           from auth.users u
           left join public.profiles pr on pr.id = u.id
           where u.id = $1
             and coalesce(u.created_at, now()) > now() - make_interval(secs => $2::double precision)
             and u.email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and char_length(u.email) <= 254
           on conflict (dedupe_key) do nothing"#,
        user,
        WELCOME_ACCOUNTS_YOUNGER_THAN.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(queued.rows_affected() == 1)
}

/// Queues a renewal reminder for every paid plan in force, not cancelled, whose period ends
/// within `within` — one per period (`renewal_reminder:<subscription>:<period end>`), so a
/// job run every minute by every instance mails each period once, and paying again (a new
/// period end) makes the next reminder possible. How many were queued.
pub async fn enqueue_renewal_reminders(
    db: impl PgExecutor<'_>,
    within: Duration,
) -> Result<u64, sqlx::Error> {
    let queued = sqlx::query!(
        r#"insert into public.mail_outbox (kind, recipient, locale, payload, dedupe_key)
           select 'renewal_reminder', u.email, pr.locale,
                  jsonb_build_object(
                    'plan', s.plan::text,
                    'period_end', extract(epoch from s.current_period_end)::bigint),
                  'renewal_reminder:' || s.id::text || ':'
                    || extract(epoch from s.current_period_end)::bigint::text
           from public.subscriptions s
           join auth.users u on u.id = s.user_id
           left join public.profiles pr on pr.id = s.user_id
           where s.plan <> 'FREE' and s.status = 'active' and not s.cancel_at_period_end
             and s.current_period_end > now()
             and s.current_period_end <= now() + make_interval(secs => $1::double precision)
             and u.email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and char_length(u.email) <= 254
           on conflict (dedupe_key) do nothing"#,
        within.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(queued.rows_affected())
}

#[derive(Deserialize)]
struct WelcomeFacts {
    name: Option<String>,
}

#[derive(Deserialize)]
struct InvoiceFacts {
    plan: Plan,
    amount: i64,
    order_id: String,
    paid_at: i64,
    period_end: Option<i64>,
}

#[derive(Deserialize)]
struct ReminderFacts {
    plan: Plan,
    period_end: i64,
}

/// Renders a message queued as facts. An error says what is wrong with the row (the worker
/// gives it up: it cannot become right by waiting).
pub fn render_facts(
    kind: MailKind,
    locale: Locale,
    site_url: &str,
    payload: &Value,
) -> Result<Rendered, String> {
    fn facts<T: serde::de::DeserializeOwned>(payload: &Value) -> Result<T, String> {
        T::deserialize(payload).map_err(|error| format!("unreadable facts: {error}"))
    }
    match kind {
        MailKind::Welcome => {
            let welcome: WelcomeFacts = facts(payload)?;
            Ok(templates::welcome(
                locale,
                site_url,
                welcome.name.as_deref(),
            ))
        }
        MailKind::Invoice => {
            let paid: InvoiceFacts = facts(payload)?;
            Ok(templates::invoice(
                locale,
                site_url,
                &Invoice {
                    plan: paid.plan,
                    amount_idr: paid.amount,
                    order_id: &paid.order_id,
                    paid_at: paid.paid_at,
                    period_end: paid.period_end,
                },
            ))
        }
        MailKind::RenewalReminder => {
            let due: ReminderFacts = facts(payload)?;
            Ok(templates::renewal_reminder(
                locale,
                site_url,
                due.plan,
                due.period_end,
            ))
        }
        MailKind::WaitlistConfirmation | MailKind::ContactMessage => Err(format!(
            "{} mail is queued rendered, but this row has no content",
            kind.as_db()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_has_its_database_word() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::parse(kind.as_db()), Some(kind));
        }
        assert_eq!(MailKind::parse("newsletter"), None);
    }

    #[test]
    fn facts_as_the_statements_write_them_render_and_broken_ones_are_refused() {
        let invoice = render_facts(
            MailKind::Invoice,
            Locale::Id,
            "https://kilat.id",
            &json!({"plan": "PRO", "amount": 99000, "order_id": "KK-9", "paid_at": 1_796_317_500, "period_end": null}),
        )
        .unwrap();
        assert!(invoice.text.contains("Rp 99.000"), "{}", invoice.text);
        let welcome = render_facts(
            MailKind::Welcome,
            Locale::En,
            "https://kilat.id",
            &json!({"name": null}),
        )
        .unwrap();
        assert!(welcome.text.contains("Hi,"));
        assert!(
            render_facts(
                MailKind::RenewalReminder,
                Locale::En,
                "https://kilat.id",
                &json!({"plan": "GOLD", "period_end": 1})
            )
            .is_err()
        );
        assert!(render_facts(MailKind::ContactMessage, Locale::En, "x", &json!({})).is_err());
    }
}
