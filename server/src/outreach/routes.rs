//! `POST /api/waitlist` and `POST /api/contact`: the visitors' forms.
//!
//! Each answers a plain form post with a redirect back to its page (`?notice=joined` /
//! `?notice=sent`, or `?error=<code>`, a field's refusal naming that field) and a script's
//! `Accept: application/json` with `{status}` or `{code, message, field}`, in the person's
//! language either way. Both are limited per client address (`RATE_LIMIT_WAITLIST`,
//! `RATE_LIMIT_CONTACT`, 5 an hour each) with the `X-RateLimit-*` headers; only a valid
//! submission counts, so a typo does not use up the hour. A form whose honeypot is filled, or a
//! contact form sent faster than a person types, is answered as if it went through and dropped
//! (logged as `dropped a bot's form`). A feature switched off, or contact without
//! `CONTACT_TO_EMAIL` in production, is 503. Bodies are held to the form class's limit
//! (`http_layers::FORM_BODY_LIMIT`).

use std::{net::IpAddr, sync::Arc};

use app::{
    i18n::Locale,
    identity::fields::{EmailAddress, FieldError},
    outreach::{
        CONTACT_PAGE, CONTACT_PATH, MIN_FILL_SECS, OutreachError, WAITLIST_PAGE, WAITLIST_PATH,
        parse_message, parse_name, parse_source,
    },
};
use axum::{
    Router,
    extract::{Form, State},
    http::{HeaderMap, Uri},
    response::Response,
    routing::post,
};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;

use super::{ContactMessage, Signup, join_waitlist, keep_contact_message};
use crate::{
    net::ClientIp,
    ratelimit::{Policy, RateLimiter, Subject},
    reply::Reply,
};

/// What the two routes need.
#[derive(Clone)]
pub struct Outreach {
    pub pool: PgPool,
    pub limiter: Arc<RateLimiter>,
    pub waitlist_limit: [Policy; 1],
    pub contact_limit: [Policy; 1],
    /// `ENABLE_WAITLIST`.
    pub waitlist_on: bool,
    /// Where contact messages go; `None` when the form is off (`ENABLE_CONTACT=false`, or no
    /// `CONTACT_TO_EMAIL` in production).
    pub contact_to: Option<String>,
    pub site_url: String,
    pub default_locale: Locale,
}

pub fn router<S: Clone + Send + Sync + 'static>(outreach: Outreach) -> Router<S> {
    Router::new()
        .route(WAITLIST_PATH, post(waitlist))
        .route(CONTACT_PATH, post(contact))
        .with_state(Arc::new(outreach))
}

/// Every field optional: a missing one is refused by its parser, in the person's words.
#[derive(Deserialize, Default)]
struct WaitlistForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    page: String,
    #[serde(default, rename = "website")]
    honeypot: String,
}

#[derive(Deserialize, Default)]
struct ContactForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    started: String,
    #[serde(default, rename = "website")]
    honeypot: String,
}

fn email_of(raw: &str) -> Result<EmailAddress, OutreachError> {
    EmailAddress::parse(raw).map_err(|error| match error {
        FieldError::EmailMissing => OutreachError::EmailMissing,
        _ => OutreachError::EmailInvalid,
    })
}

/// The page a plain form post goes back to, in the language it was answered in: only the two
/// places the form stands.
fn waitlist_page(page: &str, locale: Locale) -> String {
    match page {
        "landing" => format!("/?lang={}#waitlist", locale.code()),
        _ => format!("{WAITLIST_PAGE}?lang={}", locale.code()),
    }
}

fn dropped(form: &str, why: &str, ip: std::net::IpAddr) {
    tracing::info!(form, why, %ip, "dropped a bot's form");
}

async fn waitlist(
    State(outreach): State<Arc<Outreach>>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<WaitlistForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let answer = Reply::to(&uri, &headers, outreach.default_locale);
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let back = &waitlist_page(&form.page, answer.locale);
    if !outreach.waitlist_on {
        return answer.refused(OutreachError::Off, back);
    }
    let joined = || answer.done(json!({ "status": "ok" }), back, "joined");
    if !form.honeypot.is_empty() {
        dropped("waitlist", "honeypot", ip);
        return joined();
    }
    let signup = match (email_of(&form.email), parse_name(&form.name)) {
        (Ok(email), Ok(name)) => Signup {
            email,
            name,
            source: parse_source(&form.source),
        },
        (Err(error), _) | (_, Err(error)) => return answer.refused(error, back),
    };
    let save = join_waitlist(&outreach.pool, &signup, answer.locale, &outreach.site_url);
    save_within_limit(
        &outreach,
        &outreach.waitlist_limit,
        ip,
        &answer,
        back,
        "joined",
        save,
    )
    .await
}

/// Whether `started` (the page's render time, Unix ms) is long enough ago for a person to have
/// filled the form. Missing, unreadable or future times are a program's.
fn filled_by_a_person(started: &str, now_ms: i64) -> bool {
    started
        .trim()
        .parse::<i64>()
        .is_ok_and(|started| started <= now_ms && now_ms - started >= MIN_FILL_SECS * 1000)
}

async fn contact(
    State(outreach): State<Arc<Outreach>>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<ContactForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let answer = Reply::to(&uri, &headers, outreach.default_locale);
    let back = &format!("{CONTACT_PAGE}?lang={}", answer.locale.code());
    let Some(to) = &outreach.contact_to else {
        return answer.refused(OutreachError::Off, back);
    };
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let sent = || answer.done(json!({ "status": "ok" }), back, "sent");
    if !form.honeypot.is_empty() {
        dropped("contact", "honeypot", ip);
        return sent();
    }
    let message = match (
        parse_name(&form.name),
        email_of(&form.email),
        parse_message(&form.message),
    ) {
        (Ok(Some(name)), Ok(email), Ok(message)) => ContactMessage {
            name,
            email,
            message,
        },
        (Ok(None), _, _) => return answer.refused(OutreachError::NameMissing, back),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return answer.refused(error, back);
        }
    };
    if !filled_by_a_person(&form.started, chrono::Utc::now().timestamp_millis()) {
        dropped("contact", "sent faster than a person types", ip);
        return sent();
    }
    let save = keep_contact_message(
        &outreach.pool,
        &message,
        answer.locale,
        to,
        outreach.default_locale,
    );
    save_within_limit(
        &outreach,
        &outreach.contact_limit,
        ip,
        &answer,
        back,
        "sent",
        save,
    )
    .await
}

/// Counts a valid post against `policy` and, when it is allowed, runs `save`: back to the page
/// with `notice`, or the refusal; either way with the limit's headers.
async fn save_within_limit<T>(
    outreach: &Outreach,
    policy: &[Policy; 1],
    ip: IpAddr,
    answer: &Reply,
    back: &str,
    notice: &'static str,
    save: impl Future<Output = Result<T, sqlx::Error>>,
) -> Response {
    let limit = outreach.limiter.check(policy, &Subject::ip(ip)).await;
    let mut response = if !limit.allowed {
        answer.refused(
            OutreachError::RateLimited {
                retry_after_secs: limit.retry_after_secs(),
            },
            back,
        )
    } else {
        match save.await {
            Ok(_) => answer.done(json!({ "status": "ok" }), back, notice),
            Err(error) => {
                tracing::error!(%error, notice, "a visitor's form could not be saved");
                answer.refused(OutreachError::Unavailable, back)
            }
        }
    };
    limit.apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::outreach::HONEYPOT_FIELD;

    #[test]
    fn a_person_takes_a_few_seconds_to_fill_the_form() {
        let now = 1_800_000_000_000;
        assert!(filled_by_a_person(&(now - 3_000).to_string(), now));
        assert!(filled_by_a_person(&(now - 600_000).to_string(), now));
        assert!(!filled_by_a_person(&(now - 2_999).to_string(), now));
        assert!(!filled_by_a_person(&(now + 60_000).to_string(), now));
        assert!(!filled_by_a_person("", now));
        assert!(!filled_by_a_person("yesterday", now));
    }

    #[test]
    fn the_honeypot_is_the_field_the_pages_render() {
        assert_eq!(HONEYPOT_FIELD, "website", "the forms' `rename`s follow it");
    }

    #[test]
    fn a_plain_post_goes_back_only_to_where_the_form_stands() {
        assert_eq!(waitlist_page("landing", Locale::Id), "/?lang=id#waitlist");
        assert_eq!(waitlist_page("waitlist", Locale::En), "/waitlist?lang=en");
        assert_eq!(
            waitlist_page("https://evil.example/", Locale::Id),
            "/waitlist?lang=id"
        );
    }
}
