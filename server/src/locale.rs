//! The language switch: `POST /locale` remembers the chosen language in a cookie (and, for a
//! signed-in person, on their profile, for mail) and goes back to the page it came from. A plain
//! form (the header's and footer's switch), so it works without JavaScript. It changes only the
//! caller's own cookie and row, and writes the row only when the language changed, so it needs
//! no rate limit; the server-wide body limit bounds what it reads.

use std::sync::Arc;

use app::i18n::{LOCALE_COOKIE, Locale};
use app::identity::NextPath;
use axum::{
    Form, Router,
    extract::{State, rejection::FormRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::identity::IdentityService;

/// A year: the choice outlives sessions.
const REMEMBERED_SECS: u32 = 365 * 24 * 60 * 60;

pub fn router<S: Clone + Send + Sync + 'static>(
    identity: Arc<IdentityService>,
    secure_cookies: bool,
) -> Router<S> {
    Router::new()
        .route("/locale", post(switch))
        .with_state(Switch {
            identity,
            secure_cookies,
        })
}

#[derive(Clone)]
struct Switch {
    identity: Arc<IdentityService>,
    secure_cookies: bool,
}

#[derive(Deserialize)]
struct Choice {
    locale: Option<String>,
    next: Option<String>,
}

/// Back to `next` (a path of this site, else the home page), with the cookie set when `locale` is a
/// language Kilat speaks. A form that cannot be read changes nothing and still goes home: a
/// language switch never shows an error page.
async fn switch(
    State(switch): State<Switch>,
    session: Session,
    form: Result<Form<Choice>, FormRejection>,
) -> Response {
    let choice = form.ok().map(|Form(choice)| choice);
    let next = choice
        .as_ref()
        .and_then(|choice| choice.next.as_deref())
        .and_then(NextPath::parse);
    let mut response = Redirect::to(next.as_ref().map_or("/", NextPath::as_str)).into_response();
    let chosen = choice
        .as_ref()
        .and_then(|choice| choice.locale.as_deref())
        .and_then(Locale::parse);
    if let Some(locale) = chosen {
        let cookie = format!(
            "{LOCALE_COOKIE}={}; Path=/; Max-Age={REMEMBERED_SECS}; SameSite=Lax; HttpOnly{}",
            locale.code(),
            if switch.secure_cookies {
                "; Secure"
            } else {
                ""
            }
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        switch.identity.remember_locale(&session, locale).await;
    }
    response
}
