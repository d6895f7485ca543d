//! The [`Identity`] port over Supabase Auth and the browser session.

use std::{net::IpAddr, sync::Arc};

use app::{
    domain::{AppRole, Plan},
    i18n::Locale,
    identity::{
        CurrentUser, EmailAddress, EmailChangeOutcome, FieldError, FullName, Identity,
        IdentityError, Password, SignUpOutcome,
    },
};
use http::HeaderMap;
use serde_json::json;
use sqlx::PgPool;
use tower_sessions::Session;

use super::{
    jwt::{AccessClaims, TokenVerifier},
    roles::{RequestedBy, set_user_role},
    session::{self, SignedIn},
    supabase_client::{AuthApiError, AuthSession, SignUp, SupabaseAuth},
};
use crate::{
    audit::AuditContext,
    db::user_scope::begin_as_user,
    net::ClientIp,
    profiles::{self, avatar::Avatars},
    ratelimit::{AuthPolicies, RateLimit, RateLimiter, Subject},
    storage::Caller,
};

/// `amr` methods of a session that started from a link emailed to the account's address
/// (not `otp`: Supabase uses it for SMS codes too, which prove nothing about an email).
const EMAILED_LINK_METHODS: [&str; 4] = ["email/signup", "magiclink", "recovery", "email_change"];

/// Refresh the access token when it has less than this long to live.
const REFRESH_MARGIN_SECS: i64 = 60;

/// Everything identity work needs; one per server, shared by every request.
pub struct IdentityService {
    pub auth: SupabaseAuth,
    pub verifier: TokenVerifier,
    pub pool: PgPool,
    /// Where Supabase sends people back: `{SITE_URL}/auth/confirm`.
    pub confirm_url: String,
    /// `ADMIN_EMAILS`, lowercased.
    pub admin_emails: Vec<String>,
    /// Counts password sign-ins and sign-ups (and the emailed-link and Google routes).
    pub limiter: Arc<RateLimiter>,
    pub rate_limits: AuthPolicies,
    /// `DEFAULT_LOCALE`: the language of a request that asks for none.
    pub default_locale: Locale,
    /// For the signed-in person's avatar URL.
    pub avatars: Arc<Avatars>,
}

/// The port as one request sees it: the service plus that request's session and origin.
pub struct RequestIdentity {
    service: Arc<IdentityService>,
}

impl RequestIdentity {
    pub fn new(service: Arc<IdentityService>) -> Self {
        Self { service }
    }
}

pub(crate) async fn request_session() -> Result<Session, IdentityError> {
    leptos_axum::extract::<Session>().await.map_err(|error| {
        tracing::error!(%error, "no session layer around a server function");
        IdentityError::Unavailable
    })
}

/// The caller's address and browser, for audit entries.
pub(crate) async fn request_origin() -> (Option<IpAddr>, Option<String>) {
    let ip = leptos_axum::extract::<ClientIp>()
        .await
        .ok()
        .map(|ClientIp(ip)| ip);
    (ip, request_user_agent().await)
}

/// The caller's browser (`User-Agent`), for audit entries.
async fn request_user_agent() -> Option<String> {
    let headers = leptos_axum::extract::<HeaderMap>().await.ok()?;
    crate::audit::user_agent(&headers)
}

/// The caller's address, from the one extractor ([`ClientIp`]).
async fn request_ip() -> Result<IpAddr, IdentityError> {
    leptos_axum::extract::<ClientIp>()
        .await
        .map(|ClientIp(ip)| ip)
        .map_err(|error| {
            tracing::error!(%error, "a server function cannot tell the client's address");
            IdentityError::Unavailable
        })
}

/// Sends `limit`'s headers with the server function's answer; a refusal answers 429 with
/// `Retry-After`, and the form says when to try again.
pub(super) fn answer_limit(limit: RateLimit) -> Result<(), IdentityError> {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        for (name, value) in limit.headers() {
            response.insert_header(name, value);
        }
        if !limit.allowed {
            response.set_status(http::StatusCode::TOO_MANY_REQUESTS);
        }
    }
    match limit.admit() {
        Ok(_) => Ok(()),
        Err(refused) => Err(IdentityError::RateLimited {
            retry_after_secs: refused.retry_after_secs(),
        }),
    }
}

pub(super) fn session_failed(error: tower_sessions::session::Error) -> IdentityError {
    tracing::error!(%error, "session store failed");
    IdentityError::Unavailable
}

pub(super) fn database_failed(error: sqlx::Error) -> IdentityError {
    tracing::error!(%error, "identity query failed");
    IdentityError::Unavailable
}

/// Supabase Auth's 429s say no time; its limits reset within the hour, most within minutes.
const AUTH_RATE_LIMIT_WAIT_SECS: u64 = 60;

/// Whether Supabase's own message for `error` mentions `word` (for its generic codes).
fn error_mentions(error: &AuthApiError, word: &str) -> bool {
    matches!(error, AuthApiError::Refused { message, .. } if message.to_lowercase().contains(word))
}

/// Supabase's refusals in words a person can act on.
pub fn explain(error: AuthApiError) -> IdentityError {
    match error.code() {
        Some("invalid_credentials") => IdentityError::InvalidCredentials,
        Some("email_not_confirmed") => IdentityError::EmailNotConfirmed,
        Some("user_already_exists" | "email_exists") => IdentityError::EmailTaken,
        Some("weak_password") => FieldError::PasswordWeak.into(),
        Some("same_password") => FieldError::PasswordUnchanged.into(),
        Some("email_address_invalid" | "email_address_not_authorized") => {
            FieldError::EmailRefused.into()
        }
        Some("validation_failed") if error_mentions(&error, "email") => {
            FieldError::EmailInvalid.into()
        }
        Some("signup_disabled" | "email_provider_disabled") => IdentityError::SignUpsDisabled,
        Some(
            "otp_expired" | "flow_state_expired" | "flow_state_not_found" | "bad_code_verifier",
        ) => IdentityError::LinkExpired,
        Some("over_request_rate_limit" | "over_email_send_rate_limit") => {
            IdentityError::RateLimited {
                retry_after_secs: AUTH_RATE_LIMIT_WAIT_SECS,
            }
        }
        _ if matches!(error, AuthApiError::Refused { status: 429, .. }) => {
            IdentityError::RateLimited {
                retry_after_secs: AUTH_RATE_LIMIT_WAIT_SECS,
            }
        }
        _ => {
            tracing::error!(%error, "Supabase Auth call failed");
            IdentityError::Unavailable
        }
    }
}

impl IdentityService {
    /// Signs the browser in with `auth_session`, then applies the ADMIN_EMAILS bootstrap.
    pub async fn establish(
        &self,
        session: &Session,
        auth_session: AuthSession,
    ) -> Result<(), IdentityError> {
        let listed = self.admin_emails.iter().any(|email| {
            auth_session
                .user
                .email
                .as_deref()
                .is_some_and(|own| email.eq_ignore_ascii_case(own))
        });
        let owner_proven = listed && self.owns_email(&auth_session).await?;
        let signed_in = SignedIn::from(auth_session);
        if listed && !owner_proven {
            tracing::warn!(
                user = %signed_in.user_id,
                "ADMIN_EMAILS lists this address, but this sign-in did not prove the person owns it \
                 (no emailed link, no verified Google address, and the project auto-confirms sign-ups): \
                 left a member"
            );
        }
        if owner_proven {
            self.bootstrap_admin(&signed_in).await?;
        }
        // Queued at every sign-in, kept once per person ever. A failure here costs only the
        // welcome, and the next sign-in queues it again.
        if let Err(error) =
            crate::mail::outbox::enqueue_welcome(&self.pool, signed_in.user_id).await
        {
            tracing::error!(%error, user = %signed_in.user_id, "could not queue the welcome mail");
        }
        session::sign_in(session, signed_in)
            .await
            .map_err(session_failed)
    }

    /// Whether this sign-in proved that the person owns the account's address, so that
    /// ADMIN_EMAILS may trust it: the session came from a link emailed to that address; or
    /// Google vouched for the address; or the address was confirmed while the project requires
    /// confirmation (with auto-confirm on, Supabase marks every sign-up confirmed, so whoever
    /// signed up first with an admin's address would otherwise become admin).
    async fn owns_email(&self, auth_session: &AuthSession) -> Result<bool, IdentityError> {
        let user = &auth_session.user;
        let Some(email) = user.email.as_deref() else {
            return Ok(false);
        };
        let claims = self
            .verifier
            .verify(&auth_session.access_token)
            .await
            .map_err(|error| {
                tracing::error!(%error, "a new session's access token did not verify");
                IdentityError::Unavailable
            })?;
        let methods: Vec<&str> = claims
            .amr
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.get("method")?.as_str())
            .collect();
        if methods
            .iter()
            .any(|method| EMAILED_LINK_METHODS.contains(method))
        {
            return Ok(true);
        }
        if methods.contains(&"oauth")
            && user.identities.iter().any(|identity| {
                identity.provider == "google"
                    && identity.identity_data["email_verified"] == true
                    && identity.identity_data["email"]
                        .as_str()
                        .is_some_and(|vouched| vouched.eq_ignore_ascii_case(email))
            })
        {
            return Ok(true);
        }
        if user.email_confirmed_at.is_none() {
            return Ok(false);
        }
        let settings = self.auth.settings().await.map_err(explain)?;
        Ok(!settings.mailer_autoconfirm)
    }

    /// A listed email becomes admin at its first sign-in, once: after any recorded role change
    /// for this user (including a later demotion), the list no longer applies.
    async fn bootstrap_admin(&self, signed_in: &SignedIn) -> Result<(), IdentityError> {
        let decided_before: bool = sqlx::query_scalar!(
            r#"select exists (
                 select 1 from public.audit_logs
                 where action = 'role.changed' and target_type = 'user' and target_id = $1
               ) as "decided!""#,
            signed_in.user_id.to_string()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(database_failed)?;
        if decided_before {
            return Ok(());
        }
        let change = set_user_role(
            &self.pool,
            signed_in.user_id,
            AppRole::Admin,
            &RequestedBy::default(),
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "ADMIN_EMAILS bootstrap failed");
            IdentityError::Unavailable
        })?;
        if change.changed {
            tracing::info!(user = %signed_in.user_id, "ADMIN_EMAILS: promoted to admin at first sign-in");
        }
        Ok(())
    }

    /// The signed-in person's verified claims, refreshing the tokens first when they are about
    /// to expire. A session Supabase no longer honours is ended.
    pub async fn access(
        &self,
        session: &Session,
    ) -> Result<(SignedIn, AccessClaims), IdentityError> {
        let mut signed_in = session::signed_in(session)
            .await
            .map_err(session_failed)?
            .ok_or(IdentityError::NotSignedIn)?;
        if signed_in.expires_at - chrono::Utc::now().timestamp() < REFRESH_MARGIN_SECS {
            match self.auth.refresh(&signed_in.refresh_token).await {
                Ok(fresh) => {
                    signed_in = SignedIn::from(fresh);
                    session::update(session, signed_in.clone())
                        .await
                        .map_err(session_failed)?;
                }
                Err(AuthApiError::Refused { code, .. }) => {
                    tracing::info!(%code, "refresh refused: signing the browser out");
                    session::end(session).await.map_err(session_failed)?;
                    return Err(IdentityError::NotSignedIn);
                }
                Err(error) => return Err(explain(error)),
            }
        }
        let claims = self
            .verifier
            .verify(&signed_in.access_token)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "a session's access token did not verify");
                if error.is_unavailable() {
                    IdentityError::Unavailable
                } else {
                    IdentityError::NotSignedIn
                }
            })?;
        Ok((signed_in, claims))
    }

    async fn load_user(
        &self,
        signed_in: &SignedIn,
        claims: &AccessClaims,
    ) -> Result<CurrentUser, IdentityError> {
        let mut tx = begin_as_user(&self.pool, &claims.raw)
            .await
            .map_err(database_failed)?;
        let row = sqlx::query!(
            r#"select p.full_name, p.avatar_path, p.avatar_updated_at, s.plan::text as plan,
                      coalesce(r.role = 'admin', false) as "is_admin!"
               from public.profiles p
               left join public.subscriptions s on s.user_id = p.id
               left join public.user_roles r on r.user_id = p.id
               where p.id = $1"#,
            signed_in.user_id
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_failed)?;
        tx.commit().await.map_err(database_failed)?;
        let row = row.ok_or_else(|| {
            tracing::error!(user = %signed_in.user_id, "a signed-in user has no profile");
            IdentityError::Unavailable
        })?;
        let avatar_url = match (&row.avatar_path, row.avatar_updated_at) {
            (Some(path), Some(updated_at)) => {
                let caller = Caller::User(&signed_in.access_token);
                self.avatars.url(caller, path, updated_at).await
            }
            _ => None,
        };
        Ok(CurrentUser {
            id: signed_in.user_id.to_string(),
            email: signed_in.email.clone(),
            full_name: row.full_name,
            plan: row
                .plan
                .as_deref()
                .and_then(|p| p.parse().ok())
                .unwrap_or(Plan::Free),
            is_admin: row.is_admin,
            avatar_url,
        })
    }
}

/// The rate limits of identity actions, for the client at `ip`.
impl IdentityService {
    /// Counts a password sign-in from `ip` for `email`: per address + email, and per address.
    pub async fn sign_in_limit(&self, ip: IpAddr, email: &EmailAddress) -> RateLimit {
        self.limiter
            .check(
                &self.rate_limits.sign_in,
                &Subject::ip_and_email(ip, email.as_str()),
            )
            .await
    }

    /// Counts a sign-up from `ip`.
    pub async fn sign_up_limit(&self, ip: IpAddr) -> RateLimit {
        self.limiter
            .check(&self.rate_limits.sign_up, &Subject::ip(ip))
            .await
    }

    /// Counts a request that emails a link (magic link, recovery, email change) from `ip` to
    /// `email`: per address + email, and per address.
    pub async fn email_link_limit(&self, ip: IpAddr, email: &str) -> RateLimit {
        self.limiter
            .check(
                &self.rate_limits.email_link,
                &Subject::ip_and_email(ip, email),
            )
            .await
    }
}

/// What a browser does with its own account. Each takes the browser's session (and the
/// caller's address where a limit or the audit trail needs it) explicitly, so it runs and is
/// tested without Leptos; [`RequestIdentity`] only reads them from the request.
impl IdentityService {
    pub async fn sign_up(
        &self,
        session: &Session,
        ip: IpAddr,
        email: &EmailAddress,
        password: &Password,
        full_name: Option<&FullName>,
        locale: Locale,
    ) -> Result<SignUpOutcome, IdentityError> {
        answer_limit(self.sign_up_limit(ip).await)?;
        let challenge = session::start_flow(session, app::identity::NextPath::DEFAULT)
            .await
            .map_err(session_failed)?;
        let data = json!({
            "full_name": full_name.map(FullName::as_str),
            "locale": locale.code(),
        });
        match self
            .auth
            .sign_up(
                email.as_str(),
                password.expose(),
                data,
                &self.confirm_url,
                &challenge,
            )
            .await
            .map_err(explain)?
        {
            SignUp::SignedIn(auth_session) => {
                self.establish(session, auth_session).await?;
                Ok(SignUpOutcome::SignedIn)
            }
            SignUp::ConfirmationSent(_) => Ok(SignUpOutcome::CheckEmail),
        }
    }

    pub async fn sign_in(
        &self,
        session: &Session,
        ip: IpAddr,
        email: &EmailAddress,
        password: &Password,
    ) -> Result<(), IdentityError> {
        answer_limit(self.sign_in_limit(ip, email).await)?;
        let auth_session = self
            .auth
            .sign_in_with_password(email.as_str(), password.expose())
            .await
            .map_err(explain)?;
        self.establish(session, auth_session).await
    }

    pub async fn sign_out(&self, session: &Session) -> Result<(), IdentityError> {
        if let Some(signed_in) = session::signed_in(session).await.map_err(session_failed)? {
            // Ends the refresh tokens at Supabase; our session ends either way.
            if let Err(error) = self.auth.sign_out(&signed_in.access_token).await {
                tracing::warn!(%error, "Supabase sign-out failed; ending the local session anyway");
            }
        }
        session::end(session).await.map_err(session_failed)
    }

    pub async fn current_user(
        &self,
        session: &Session,
    ) -> Result<Option<CurrentUser>, IdentityError> {
        match self.access(session).await {
            Ok((signed_in, claims)) => self.load_user(&signed_in, &claims).await.map(Some),
            Err(IdentityError::NotSignedIn) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Changes the signed-in person's name through [`profiles`](crate::profiles) (as them,
    /// audited) and returns them as pages show them.
    pub async fn update_full_name(
        &self,
        session: &Session,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
        full_name: Option<&FullName>,
    ) -> Result<CurrentUser, IdentityError> {
        let (signed_in, claims) = self.access(session).await?;
        let context = AuditContext {
            actor: Some((signed_in.user_id, &signed_in.email)),
            ip,
            user_agent,
        };
        match profiles::update_full_name(&self.pool, &claims.raw, &context, full_name).await {
            Ok(true) => self.load_user(&signed_in, &claims).await,
            Ok(false) => Err(IdentityError::NotSignedIn),
            Err(error) => Err(database_failed(error)),
        }
    }
}

impl IdentityService {
    /// Keeps a signed-in person's language choice where mail reads it: on their profile (for
    /// Kilat's own mail) and, when that changed, in their Supabase user metadata (for Supabase's
    /// auth mail templates, as `{{ .Data.locale }}`). Nobody signed in: nothing to keep. A
    /// failure is logged and not the person's problem: the cookie still carries the choice.
    pub async fn remember_locale(&self, session: &Session, locale: Locale) {
        let (signed_in, claims) = match self.access(session).await {
            Ok(access) => access,
            Err(IdentityError::NotSignedIn) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot keep a language choice: no access");
                return;
            }
        };
        match profiles::set_locale(&self.pool, &claims.raw, locale).await {
            Ok(true) => {
                let data = json!({ "locale": locale.code() });
                if let Err(error) = self
                    .auth
                    .update_user_data(&signed_in.access_token, data)
                    .await
                {
                    tracing::warn!(%error, "cannot keep a language choice in the user metadata");
                }
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot keep a language choice on the profile"),
        }
    }
}

/// The Leptos adapter: reads the session and the caller from the request, then calls the
/// service.
#[async_trait::async_trait]
impl Identity for RequestIdentity {
    async fn sign_up(
        &self,
        email: EmailAddress,
        password: Password,
        full_name: Option<FullName>,
    ) -> Result<SignUpOutcome, IdentityError> {
        let (session, ip) = (request_session().await?, request_ip().await?);
        let locale = app::i18n::negotiated_locale();
        self.service
            .sign_up(&session, ip, &email, &password, full_name.as_ref(), locale)
            .await
    }

    async fn sign_in(&self, email: EmailAddress, password: Password) -> Result<(), IdentityError> {
        let (session, ip) = (request_session().await?, request_ip().await?);
        self.service.sign_in(&session, ip, &email, &password).await
    }

    async fn sign_out(&self) -> Result<(), IdentityError> {
        self.service.sign_out(&request_session().await?).await
    }

    async fn current_user(&self) -> Result<Option<CurrentUser>, IdentityError> {
        self.service.current_user(&request_session().await?).await
    }

    async fn change_password(&self, current: Password, new: Password) -> Result<(), IdentityError> {
        let (session, ip) = (request_session().await?, request_ip().await?);
        let user_agent = request_user_agent().await;
        self.service
            .change_password(&session, ip, user_agent.as_deref(), &current, &new)
            .await
    }

    async fn change_email(&self, email: EmailAddress) -> Result<EmailChangeOutcome, IdentityError> {
        let (session, ip) = (request_session().await?, request_ip().await?);
        let user_agent = request_user_agent().await;
        self.service
            .change_email(&session, ip, user_agent.as_deref(), &email)
            .await
    }

    async fn update_full_name(
        &self,
        full_name: Option<FullName>,
    ) -> Result<CurrentUser, IdentityError> {
        let session = request_session().await?;
        let (ip, user_agent) = request_origin().await;
        self.service
            .update_full_name(&session, ip, user_agent.as_deref(), full_name.as_ref())
            .await
    }
}

#[cfg(test)]
mod explain_tests {
    use app::identity::{FieldError, IdentityError};

    use super::{AuthApiError, explain};

    fn refused(status: u16, code: &str, message: &str) -> AuthApiError {
        AuthApiError::Refused {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn supabase_refusals_say_the_real_reason_not_unavailable() {
        for (code, expected) in [
            (
                "same_password",
                IdentityError::Invalid(FieldError::PasswordUnchanged),
            ),
            (
                "weak_password",
                IdentityError::Invalid(FieldError::PasswordWeak),
            ),
            (
                "email_address_invalid",
                IdentityError::Invalid(FieldError::EmailRefused),
            ),
            ("signup_disabled", IdentityError::SignUpsDisabled),
            ("email_provider_disabled", IdentityError::SignUpsDisabled),
            ("invalid_credentials", IdentityError::InvalidCredentials),
            ("email_exists", IdentityError::EmailTaken),
            (
                "over_email_send_rate_limit",
                IdentityError::RateLimited {
                    retry_after_secs: 60,
                },
            ),
        ] {
            assert_eq!(explain(refused(422, code, "refused")), expected, "{code}");
        }
        assert_eq!(
            explain(refused(
                400,
                "validation_failed",
                "Unable to validate email address"
            )),
            IdentityError::Invalid(FieldError::EmailInvalid)
        );
        assert_eq!(
            explain(refused(500, "unexpected_failure", "boom")),
            IdentityError::Unavailable
        );
    }
}
