//! The browser routes of sign-in that are not server functions: the one callback Supabase sends
//! people back to, the plain-form posts that start an emailed or Google sign-in, and the guard
//! in front of `/dashboard`.

use std::sync::Arc;

use app::{
    i18n::{Locale, request_locale},
    identity::{EmailAddress, IdentityError, NextPath, Password},
};
use axum::{
    Form, Router,
    extract::{Query, Request, State},
    http::{HeaderMap, Uri},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{account, identity::IdentityService, session};
use crate::net::ClientIp;

pub fn router<S: Clone + Send + Sync + 'static>(service: Arc<IdentityService>) -> Router<S> {
    Router::new()
        .route("/auth/confirm", get(confirm))
        .route(
            "/auth/google",
            get(google).route_layer(service.limiter.per_ip(&service.rate_limits.google)),
        )
        .route("/auth/magic-link", post(magic_link))
        .route("/auth/forgot-password", post(forgot_password))
        .route("/auth/update-password", post(update_password))
        .with_state(service)
}

/// To the sign-in error page, which shows `error`'s fixed message (the URL carries its code).
fn to_error_page(error: &IdentityError) -> Response {
    with_error("/auth/error", error)
}

/// Back to the form at `path`, which shows `error`'s fixed message (the URL carries its code).
fn with_error(path: &str, error: &IdentityError) -> Response {
    with_query(path, "error", error.code())
}

fn with_query(path: &str, key: &str, value: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

#[derive(Deserialize)]
struct ConfirmQuery {
    code: Option<String>,
    /// Set when Supabase sends the person back with an error instead of a code.
    error: Option<String>,
    error_code: Option<String>,
    error_description: Option<String>,
    /// Set (instead of a code) after the first of the two links of a secure email change.
    message: Option<String>,
}

/// `/auth/confirm`: email confirmation, magic link, password recovery and Google all come back
/// here with a PKCE code, which only this browser's session can exchange.
async fn confirm(
    State(service): State<Arc<IdentityService>>,
    session: Session,
    Query(query): Query<ConfirmQuery>,
) -> Response {
    if query.error.is_some() || query.error_code.is_some() || query.error_description.is_some() {
        // Supabase's words stay in the log; the page shows our own message for the case.
        tracing::info!(
            error = ?query.error,
            error_code = ?query.error_code,
            description = ?query.error_description,
            "Supabase sent the person back with an error"
        );
        let error = match query.error_code.as_deref() {
            Some("signup_disabled") => IdentityError::SignUpsDisabled,
            Some("over_request_rate_limit" | "over_email_send_rate_limit") => {
                IdentityError::RateLimited {
                    retry_after_secs: 60,
                }
            }
            _ => IdentityError::LinkExpired,
        };
        return to_error_page(&error);
    }
    let Some(code) = query.code else {
        if query.message.is_some() {
            // Supabase's words are not shown; the flow stays for the second link's code.
            return Redirect::to(account::EMAIL_HALF_CONFIRMED_PATH).into_response();
        }
        return to_error_page(&IdentityError::LinkIncomplete);
    };
    let flow = match session::take_flow(&session).await {
        Ok(Some(flow)) => flow,
        Ok(None) => return to_error_page(&IdentityError::LinkFromOtherBrowser),
        Err(error) => {
            tracing::error!(%error, "session store failed");
            return to_error_page(&IdentityError::Unavailable);
        }
    };
    let auth_session = match service.auth.exchange_code(&code, &flow.code_verifier).await {
        Ok(auth_session) => auth_session,
        Err(error) => {
            tracing::info!(%error, "a sign-in code was refused");
            return to_error_page(&IdentityError::LinkExpired);
        }
    };
    match service.establish(&session, auth_session).await {
        // The flow's `next` was checked when it started; checked again, as it leaves us.
        Ok(()) => Redirect::to(NextPath::or_default(Some(&flow.next)).as_str()).into_response(),
        Err(error) => to_error_page(&error),
    }
}

/// [`session::start_flow`], or the error page when the session store fails.
async fn start_flow(session: &Session, next: &str) -> Result<String, Response> {
    session::start_flow(session, next).await.map_err(|error| {
        tracing::error!(%error, "session store failed");
        to_error_page(&IdentityError::Unavailable)
    })
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// `/auth/google`: to Supabase's OAuth (the local twin shows its consent page instead).
async fn google(
    State(service): State<Arc<IdentityService>>,
    session: Session,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = NextPath::or_default(query.next.as_deref());
    match start_flow(&session, next.as_str()).await {
        Ok(challenge) => Redirect::to(&service.auth.authorize_url(
            "google",
            &service.confirm_url,
            &challenge,
        ))
        .into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
    /// Where a magic link leads once it signs the person in.
    next: Option<String>,
}

/// The two links the server emails to start a sign-in that returns through `/auth/confirm`.
#[derive(Clone, Copy)]
enum EmailedLink {
    /// Signs in (and creates the account, in this language, if it is new).
    MagicLink(Locale),
    /// Leads to setting a new password; answered the same whether or not the account exists.
    PasswordReset,
}

/// Parses the address, starts the PKCE flow and has Supabase email the link; back to the form
/// with the reason when anything fails. A magic link leads to `next` (when it is a safe path).
async fn email_a_link(
    service: &IdentityService,
    session: &Session,
    form: &EmailForm,
    link: EmailedLink,
) -> Response {
    let (next, form_page, sent_page) = match link {
        EmailedLink::MagicLink(_) => (
            NextPath::or_default(form.next.as_deref()),
            "/auth/login",
            "/auth/magic-link-sent",
        ),
        EmailedLink::PasswordReset => (
            NextPath::or_default(Some("/auth/update-password")),
            "/auth/forgot-password",
            "/auth/forgot-password?sent=1",
        ),
    };
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(error) => return with_error(form_page, &error.into()),
    };
    let challenge = match start_flow(session, next.as_str()).await {
        Ok(challenge) => challenge,
        Err(response) => return response,
    };
    let sent = match link {
        EmailedLink::MagicLink(locale) => {
            let data = serde_json::json!({ "locale": locale.code() });
            service
                .auth
                .send_magic_link(email.as_str(), data, &service.confirm_url, &challenge)
                .await
        }
        EmailedLink::PasswordReset => {
            service
                .auth
                .recover(email.as_str(), &service.confirm_url, &challenge)
                .await
        }
    };
    match sent {
        Ok(()) => Redirect::to(sent_page).into_response(),
        Err(error) => with_error(form_page, &super::identity::explain(error)),
    }
}

/// `answer`, unless the emailed-link limits (per address + email, per address) refuse `ip`:
/// then 429 with `Retry-After`. Either way with the `X-RateLimit-*` headers.
async fn email_link_limited(
    service: &IdentityService,
    ip: std::net::IpAddr,
    raw_email: &str,
    answer: impl Future<Output = Response>,
) -> Response {
    match service.email_link_limit(ip, raw_email).await.admit() {
        Ok(limit) => {
            let mut response = answer.await;
            limit.apply(response.headers_mut());
            response
        }
        Err(refused) => refused.into_response(),
    }
}

/// `/auth/magic-link`.
async fn magic_link(
    State(service): State<Arc<IdentityService>>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<EmailForm>,
) -> Response {
    // A new account keeps the language it was made in (see `IdentityService::sign_up`).
    let locale = request_locale(&uri, &headers, service.default_locale);
    let send = email_a_link(&service, &session, &form, EmailedLink::MagicLink(locale));
    email_link_limited(&service, ip, &form.email, send).await
}

/// `/auth/forgot-password`.
async fn forgot_password(
    State(service): State<Arc<IdentityService>>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<EmailForm>,
) -> Response {
    let send = email_a_link(&service, &session, &form, EmailedLink::PasswordReset);
    email_link_limited(&service, ip, &form.email, send).await
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

/// `/auth/update-password`: sets a new password for the signed-in person (after a recovery
/// link, or from settings), then asks them to sign in with it.
async fn update_password(
    State(service): State<Arc<IdentityService>>,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Response {
    let password = match Password::parse(&form.password) {
        Ok(password) => password,
        Err(error) => return with_error("/auth/update-password", &error.into()),
    };
    let signed_in = match service.access(&session).await {
        Ok((signed_in, _)) => signed_in,
        Err(IdentityError::NotSignedIn) => {
            return with_error("/auth/login", &IdentityError::ResetLinkExpired);
        }
        Err(error) => return with_error("/auth/update-password", &error),
    };
    if let Err(error) = service
        .auth
        .update_password(&signed_in.access_token, password.expose())
        .await
    {
        return with_error("/auth/update-password", &super::identity::explain(error));
    }
    let _ = service.auth.sign_out(&signed_in.access_token).await;
    if let Err(error) = session::end(&session).await {
        tracing::error!(%error, "session store failed");
    }
    Redirect::to("/auth/login?reset=1").into_response()
}

/// In front of `/dashboard/**`, `/checkout` and `/order/**`: anonymous visitors go to sign-in
/// and come back afterwards.
pub async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/dashboard"
        || path.starts_with("/dashboard/")
        || path == "/checkout"
        || path.starts_with("/order/")
    {
        let signed_in = session::signed_in(&session).await.ok().flatten();
        if signed_in.is_none() {
            let target = request
                .uri()
                .path_and_query()
                .map_or(path, |pq| pq.as_str())
                .to_string();
            return with_query("/auth/login", "next", &target);
        }
    }
    next.run(request).await
}
