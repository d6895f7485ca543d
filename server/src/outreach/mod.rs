//! The waitlist and the contact form: what a visitor leaves us, kept in the database together
//! with the mail it causes (the outbox, `crate::mail`), so neither a signup nor a message is
//! lost when mail is down, and neither is mailed twice.

pub mod routes;

use app::i18n::Locale;
use app::identity::fields::EmailAddress;
use sqlx::PgPool;
use uuid::Uuid;

use crate::mail::{
    outbox::{self, MailKind, OutgoingMail},
    templates,
};

/// A waitlist signup, parsed.
#[derive(Debug, Clone)]
pub struct Signup {
    pub email: EmailAddress,
    pub name: Option<String>,
    pub source: Option<String>,
}

/// Puts `signup` on the waitlist once per address, however it is capitalised, and queues its
/// confirmation (in `locale`) in the same transaction: a repeat queues nothing (and its visitor
/// is told the same as a new one).
pub async fn join_waitlist(
    pool: &PgPool,
    signup: &Signup,
    locale: Locale,
    site_url: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let added = sqlx::query_scalar!(
        r#"insert into public.waitlist (email, name, source)
           values ($1, $2, $3)
           on conflict ((lower(email))) do nothing
           returning id"#,
        signup.email.as_str(),
        signup.name.as_deref(),
        signup.source.as_deref(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = added else {
        tx.rollback().await?;
        return Ok(());
    };
    let confirmation = templates::waitlist_confirmation(locale, site_url, signup.name.as_deref());
    outbox::enqueue(
        &mut *tx,
        &OutgoingMail::new(
            MailKind::WaitlistConfirmation,
            signup.email.as_str(),
            confirmation,
            locale,
        )
        .dedupe_key(format!("waitlist:{id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A contact message, parsed.
#[derive(Debug, Clone)]
pub struct ContactMessage {
    pub name: String,
    pub email: EmailAddress,
    pub message: String,
}

/// Keeps `message` and queues its delivery to `to` (reply-to the sender) in one transaction;
/// the mail is in the operator's default language (`locale`), the copy records the page's.
pub async fn keep_contact_message(
    pool: &PgPool,
    message: &ContactMessage,
    page_locale: Locale,
    to: &str,
    operator_locale: Locale,
) -> Result<Uuid, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        r#"insert into public.contact_messages (name, email, message, locale)
           values ($1, $2, $3, $4)
           returning id"#,
        message.name,
        message.email.as_str(),
        message.message,
        page_locale.code(),
    )
    .fetch_one(&mut *tx)
    .await?;
    let delivery = templates::contact_message(
        operator_locale,
        &message.name,
        message.email.as_str(),
        &message.message,
    );
    outbox::enqueue(
        &mut *tx,
        &OutgoingMail::new(MailKind::ContactMessage, to, delivery, operator_locale)
            .reply_to(message.email.as_str())
            .dedupe_key(format!("contact:{id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
