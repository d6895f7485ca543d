//! The browser routes of sign-in that are not server functions: the one callback Supabase sends
//! people back to, the plain-form posts that start an emailed or Google sign-in, and the guard
//! in front of `/dashboard`.

use std::sync::Arc;

use app::identity::{EmailAddress, IdentityError, Password, api::safe_next};
use axum::{
    Form, Router,
    extract::{Query, Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{identity::IdentityService, session};
use crate::{net::ClientIp, ratelimit::Subject};

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

fn to_error_page(message: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("message", message)
        .finish();
    Redirect::to(&format!("/auth/error?{query}")).into_response()
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
    error_description: Option<String>,
}

/// `/auth/confirm`: email confirmation, magic link, password recovery and Google all come back
/// here with a PKCE code, which only this browser's session can exchange.
async fn confirm(
    State(service): State<Arc<IdentityService>>,
    session: Session,
    Query(query): Query<ConfirmQuery>,
) -> Response {
    if let Some(description) = query.error_description {
        return to_error_page(&description);
    }
    let Some(code) = query.code else {
        return to_error_page(
            "This link is incomplete. Open the newest email we sent, or sign in again.",
        );
    };
    let flow = match session::take_flow(&session).await {
        Ok(Some(flow)) => flow,
        Ok(None) => {
            return to_error_page(
                "This link was opened in a different browser than the one that asked for it, or it was already used. Open it in the same browser, or sign in again.",
            );
        }
        Err(error) => {
            tracing::error!(%error, "session store failed");
            return to_error_page(&IdentityError::Unavailable.to_string());
        }
    };
    let auth_session = match service.auth.exchange_code(&code, &flow.code_verifier).await {
        Ok(auth_session) => auth_session,
        Err(error) => {
            tracing::info!(%error, "a sign-in code was refused");
            return to_error_page("This link has expired or was already used. Ask for a new one.");
        }
    };
    match service.establish(&session, auth_session).await {
        Ok(()) => Redirect::to(safe_next(Some(&flow.next))).into_response(),
        Err(error) => to_error_page(&error.to_string()),
    }
}

/// [`session::start_flow`], or the error page when the session store fails.
async fn start_flow(session: &Session, next: &str) -> Result<String, Response> {
    session::start_flow(session, next).await.map_err(|error| {
        tracing::error!(%error, "session store failed");
        to_error_page(&IdentityError::Unavailable.to_string())
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
    match start_flow(&session, safe_next(query.next.as_deref())).await {
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
}

/// The two links the server emails to start a sign-in that returns through `/auth/confirm`.
#[derive(Clone, Copy)]
enum EmailedLink {
    /// Signs in (and creates the account if it is new).
    MagicLink,
    /// Leads to setting a new password; answered the same whether or not the account exists.
    PasswordReset,
}

/// Parses the address, starts the PKCE flow and has Supabase email the link; back to the form
/// with the reason when anything fails.
async fn email_a_link(
    service: &IdentityService,
    session: &Session,
    raw_email: &str,
    link: EmailedLink,
) -> Response {
    let (next, form_page, sent_page) = match link {
        EmailedLink::MagicLink => ("/dashboard", "/auth/login", "/auth/sign-up-success"),
        EmailedLink::PasswordReset => (
            "/auth/update-password",
            "/auth/forgot-password",
            "/auth/forgot-password?sent=1",
        ),
    };
    let email = match EmailAddress::parse(raw_email) {
        Ok(email) => email,
        Err(error) => return with_query(form_page, "error", &error.message),
    };
    let challenge = match start_flow(session, next).await {
        Ok(challenge) => challenge,
        Err(response) => return response,
    };
    let sent = match link {
        EmailedLink::MagicLink => {
            service
                .auth
                .send_magic_link(email.as_str(), &service.confirm_url, &challenge)
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
        Err(error) => with_query(
            form_page,
            "error",
            &super::identity::explain(error).to_string(),
        ),
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
    let subject = Subject::ip_and_email(ip, raw_email);
    let limit = service
        .limiter
        .check(&service.rate_limits.email_link, &subject)
        .await;
    match limit.admit() {
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
    Form(form): Form<EmailForm>,
) -> Response {
    let send = email_a_link(&service, &session, &form.email, EmailedLink::MagicLink);
    email_link_limited(&service, ip, &form.email, send).await
}

/// `/auth/forgot-password`.
async fn forgot_password(
    State(service): State<Arc<IdentityService>>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<EmailForm>,
) -> Response {
    let send = email_a_link(&service, &session, &form.email, EmailedLink::PasswordReset);
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
        Err(error) => return with_query("/auth/update-password", "error", &error.message),
    };
    let signed_in = match service.access(&session).await {
        Ok((signed_in, _)) => signed_in,
        Err(IdentityError::NotSignedIn) => {
            return with_query(
                "/auth/login",
                "error",
                "Your reset link has expired. Ask for a new one.",
            );
        }
        Err(error) => return with_query("/auth/update-password", "error", &error.to_string()),
    };
    if let Err(error) = service
        .auth
        .update_password(&signed_in.access_token, password.expose())
        .await
    {
        return with_query(
            "/auth/update-password",
            "error",
            &super::identity::explain(error).to_string(),
        );
    }
    let _ = service.auth.sign_out(&signed_in.access_token).await;
    if let Err(error) = session::end(&session).await {
        tracing::error!(%error, "session store failed");
    }
    Redirect::to("/auth/login?reset=1").into_response()
}

/// In front of `/dashboard/**`: anonymous visitors go to sign-in and come back afterwards.
pub async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/dashboard" || path.starts_with("/dashboard/") {
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
