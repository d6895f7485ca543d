//! A local Supabase Auth (GoTrue): the paths, bodies, status codes and error shapes of
//! `{SUPABASE_URL}/auth/v1` for the calls Kilat makes, so the production Auth client is the
//! code that runs locally too. Never in production.
//!
//! Users live in `auth.users` as GoTrue keeps them — bcrypt `encrypted_password`, SHA-224
//! confirmation / recovery token hashes mirrored in `auth.one_time_tokens`,
//! `raw_user_meta_data`, `last_sign_in_at` — so the signup triggers fire as on Supabase.
//! Sessions, rotating refresh tokens and PKCE flow states use `auth.sessions`,
//! `auth.refresh_tokens` and `auth.flow_state`. Access tokens are HS256 JWTs signed with the
//! local JWT secret, with GoTrue's claims. Mails (confirmation, magic link, recovery, email
//! change) go out through a [`Mailer`], in local mode the Resend twin.
//!
//! Google sign-in goes to a clearly labelled local consent page
//! (`/auth/v1/local/google/consent`) where a person types the Google account's email; the code
//! then comes back through the real PKCE exchange.
//!
//! Deliberate differences from GoTrue (each noted where it is made): no phone, MFA, SSO,
//! anonymous, invite or admin endpoints; the sign-in method for `amr` is kept in
//! `auth.sessions.tag` (the compatibility schema has no `auth.mfa_amr_claims`); a PKCE code's
//! five minutes count from when the code was issued, not from when the flow began; recovery
//! and magic links live one hour and signup / email-change links 24 hours; the mail throttle is
//! the Supabase CLI's one second.

mod crypto;
mod email_change;
mod error;
mod external;
mod mail;
mod otp;
mod redirect;
mod sessions;
mod signup;
mod token;
mod user;
mod users;
mod verify;

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    auth::jwt::{JwtSecret, TokenVerifier, VerifierConfig},
    mail::Mailer,
};
use error::{ApiError, ApiResult};

/// The title (and heading) of the local Google consent page.
pub const CONSENT_PAGE_TITLE: &str = "Local Google sign-in (development stand-in — not Google)";

/// The consent page's path under `/auth/v1`.
pub const CONSENT_PAGE_PATH: &str = "/local/google/consent";

/// Everything the twin needs.
#[derive(Clone)]
pub struct AuthTwinConfig {
    pub pool: PgPool,
    /// The HS256 signing secret (the local JWT secret's raw bytes).
    pub jwt_secret: Vec<u8>,
    /// The publishable (anon) key every call must carry in `apikey`, as Supabase's gateway
    /// requires.
    pub anon_key: String,
    /// Where the twin is reached, e.g. `http://127.0.0.1:54321`; tokens' `iss` is
    /// `{api_external_url}/auth/v1`, and mail links point here.
    pub api_external_url: String,
    /// The app (`SITE_URL`): the default and always-allowed redirect.
    pub site_url: String,
    /// Further allowed redirects, in GoTrue's glob syntax (`http://localhost:3000/**`).
    pub additional_redirect_urls: Vec<String>,
    pub mailer: Mailer,
    pub mail_from: String,
    /// `true` when email confirmation is off (GoTrue's `MAILER_AUTOCONFIRM`).
    pub autoconfirm: bool,
    /// Access-token lifetime (GoTrue's `JWT_EXP`, 3600 s by default).
    pub access_token_ttl: Duration,
}

/// The shared state of the handlers.
#[derive(Clone)]
struct Twin(Arc<Inner>);

struct Inner {
    config: AuthTwinConfig,
    /// The service-role key for the same secret (the Supabase CLI's, with its default secret):
    /// Supabase's gateway accepts it wherever it accepts the anon key.
    service_role_key: String,
    /// `{api_external_url}/auth/v1`: the issuer and the base of every link.
    issuer: String,
    verifier: TokenVerifier,
}

impl std::ops::Deref for Twin {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The Auth API, with routes relative to `/auth/v1` (the caller nests it there).
///
/// # Panics
/// When `config.jwt_secret` is empty: the twin cannot sign or check tokens without one.
pub fn router(config: AuthTwinConfig) -> Router {
    let issuer = format!("{}/auth/v1", config.api_external_url.trim_end_matches('/'));
    let verifier = TokenVerifier::new(VerifierConfig {
        issuer: issuer.clone(),
        hs256_secret: Some(JwtSecret::new(config.jwt_secret.clone())),
        jwks: None,
    })
    .expect("the local Auth twin needs a non-empty JWT secret");
    let twin = Twin(Arc::new(Inner {
        service_role_key: crate::local::api_key("service_role", &config.jwt_secret),
        config,
        issuer,
        verifier,
    }));
    Router::new()
        .route("/signup", post(signup::signup))
        .route("/token", post(token::token))
        .route("/logout", post(user::logout))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/recover", post(otp::recover))
        .route("/otp", post(otp::otp))
        .route("/magiclink", post(otp::magiclink))
        .route("/verify", get(verify::verify_get).post(verify::verify_post))
        .route("/authorize", get(external::authorize))
        .route(
            CONSENT_PAGE_PATH,
            get(external::consent_page).post(external::consent_submit),
        )
        .route("/settings", get(settings))
        .route("/health", get(health))
        .route("/.well-known/jwks.json", get(jwks))
        .layer(middleware::from_fn_with_state(twin.clone(), require_apikey))
        .layer(middleware::from_fn(error::api_version))
        .with_state(twin)
}

/// Routes a browser reaches by following a link: Supabase's gateway lets these through
/// without an `apikey` (as it does the JWKS).
fn is_open(method: &axum::http::Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    (method == axum::http::Method::GET
        && (path.ends_with("/verify")
            || path.ends_with("/authorize")
            || path.ends_with("/.well-known/jwks.json")))
        || path.ends_with(CONSENT_PAGE_PATH)
}

/// Supabase's gateway in front of every call but the open ones (see
/// [`gateway::refusal_of`](crate::local::gateway::refusal_of)).
async fn require_apikey(State(twin): State<Twin>, request: Request, next: Next) -> Response {
    if is_open(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let keys = crate::local::gateway::ApiKeys {
        anon: &twin.config.anon_key,
        service_role: &twin.service_role_key,
    };
    match crate::local::gateway::refusal_of(&request, &keys) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// `GET /settings`.
async fn settings(State(twin): State<Twin>) -> Json<Value> {
    let providers = [
        "anonymous_users",
        "apple",
        "azure",
        "bitbucket",
        "discord",
        "facebook",
        "snapchat",
        "figma",
        "fly",
        "github",
        "gitlab",
        "google",
        "keycloak",
        "kakao",
        "linkedin",
        "linkedin_oidc",
        "notion",
        "spotify",
        "slack",
        "slack_oidc",
        "workos",
        "twitch",
        "twitter",
        "email",
        "phone",
        "zoom",
    ];
    let external: serde_json::Map<String, Value> = providers
        .iter()
        .map(|p| (p.to_string(), Value::Bool(matches!(*p, "email" | "google"))))
        .collect();
    Json(json!({
        "external": external,
        "disable_signup": false,
        "mailer_autoconfirm": twin.config.autoconfirm,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
        "passkeys_enabled": false,
    }))
}

/// `GET /health`.
async fn health() -> Json<Value> {
    Json(json!({
        "version": "kilat-local",
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API",
    }))
}

/// `GET /.well-known/jwks.json`: HS256 projects publish no keys.
async fn jwks() -> Json<Value> {
    Json(json!({"keys": []}))
}

/// GoTrue's `retrieveRequestParams`: the body must be JSON of the expected shape.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )
    })
}

/// GoTrue's `validateEmail` (with checkmail's format rule); returns the address lowercased.
fn validate_email(email: &str) -> ApiResult<String> {
    if email.is_empty() {
        return Err(ApiError::validation("An email address is required"));
    }
    if email.len() > 255 {
        return Err(ApiError::validation("An email address is too long"));
    }
    if !is_email(email) {
        return Err(ApiError::validation(
            "Unable to validate email address: invalid format",
        ));
    }
    Ok(email.to_lowercase())
}

fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    local_ok && domain.split('.').all(label_ok)
}

/// GoTrue's password rules with Supabase's defaults: 6 to 72 characters.
fn check_password_strength(password: &str) -> ApiResult<()> {
    if password.len() > 72 {
        return Err(ApiError::validation(
            "Password cannot be longer than 72 characters",
        ));
    }
    if password.chars().count() < 6 {
        return Err(ApiError::WeakPassword {
            msg: "Password should be at least 6 characters.".into(),
            reasons: vec!["length"],
        });
    }
    Ok(())
}

/// A PKCE request's challenge (`code_challenge` + `code_challenge_method`), when there is one.
#[derive(Debug, Clone)]
struct Pkce {
    challenge: String,
    /// `s256` or `plain`.
    method: String,
}

/// `validatePKCEParams`: both or neither; a valid challenge; a known method.
fn pkce_params(challenge: Option<&str>, method: Option<&str>) -> ApiResult<Option<Pkce>> {
    let challenge = challenge.unwrap_or("");
    let method = method.unwrap_or("");
    if challenge.is_empty() != method.is_empty() {
        return Err(ApiError::validation(
            "PKCE flow requires code_challenge_method and code_challenge",
        ));
    }
    if challenge.is_empty() {
        return Ok(None);
    }
    if !(43..=128).contains(&challenge.len()) {
        return Err(ApiError::validation(
            "code challenge has to be between 43 and 128 characters",
        ));
    }
    if !challenge
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._~-".contains(c))
    {
        return Err(ApiError::validation(
            "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes",
        ));
    }
    let method = method.to_ascii_lowercase();
    if method != "s256" && method != "plain" {
        return Err(ApiError::validation("Invalid code_challenge_method"));
    }
    Ok(Some(Pkce {
        challenge: challenge.to_string(),
        method,
    }))
}

/// `generateFlowState`: a PKCE flow state for `user_id`, redeemed by `/token?grant_type=pkce`.
async fn create_flow_state(
    conn: &mut sqlx::PgConnection,
    pkce: &Pkce,
    provider_type: &str,
    method: sessions::Method,
    user_id: Option<uuid::Uuid>,
) -> Result<(uuid::Uuid, String), sqlx::Error> {
    let id = uuid::Uuid::new_v4();
    let auth_code = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, \
           code_challenge, provider_type, created_at, updated_at, authentication_method) \
         values ($1, $2, $3, $4::auth.code_challenge_method, $5, $6, now(), now(), $7)",
    )
    .bind(id)
    .bind(user_id)
    .bind(&auth_code)
    .bind(&pkce.method)
    .bind(&pkce.challenge)
    .bind(provider_type)
    .bind(method.as_str())
    .execute(conn)
    .await?;
    Ok((id, auth_code))
}

/// GoTrue's per-address mail throttle (`SMTP_MAX_FREQUENCY`), at the Supabase CLI's local
/// default of one second.
const MAIL_MAX_FREQUENCY: Duration = Duration::from_secs(1);

fn check_mail_frequency(sent_at: Option<chrono::DateTime<chrono::Utc>>) -> ApiResult<()> {
    let Some(sent_at) = sent_at else {
        return Ok(());
    };
    let next = sent_at + chrono::Duration::from_std(MAIL_MAX_FREQUENCY).unwrap_or_default();
    let now = chrono::Utc::now();
    if next > now {
        let seconds = (next - now).num_seconds();
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "over_email_send_rate_limit",
            format!("For security purposes, you can only request this after {seconds} seconds."),
        ));
    }
    Ok(())
}

use crate::local::gateway::query_param;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_format() {
        assert!(is_email("ana.b+tag@example.co.id"));
        assert!(!is_email("ana@"));
        assert!(!is_email("@example.com"));
        assert!(!is_email("ana@-example.com"));
        assert!(!is_email("ana example@example.com"));
        assert!(!is_email("ana@exa mple.com"));
    }

    #[test]
    fn pkce_params_follow_gotrue() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_params(None, None).unwrap().is_none());
        assert!(pkce_params(Some(challenge), None).is_err());
        assert!(pkce_params(Some("short"), Some("s256")).is_err());
        assert_eq!(
            pkce_params(Some(challenge), Some("S256"))
                .unwrap()
                .unwrap()
                .method,
            "s256"
        );
    }

    #[test]
    fn open_routes() {
        use axum::http::Method;
        assert!(is_open(&Method::GET, "/verify"));
        assert!(!is_open(&Method::POST, "/verify"));
        assert!(is_open(&Method::GET, "/authorize"));
        assert!(is_open(&Method::POST, CONSENT_PAGE_PATH));
        assert!(!is_open(&Method::GET, "/user"));
    }
}
