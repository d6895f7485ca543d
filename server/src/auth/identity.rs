//! The [`Identity`] port over Supabase Auth and the browser session.

use std::{net::SocketAddr, sync::Arc};

use app::{
    domain::{AppRole, Plan},
    identity::{
        CurrentUser, EmailAddress, FieldError, FullName, Identity, IdentityError, Password,
        SignUpOutcome,
    },
};
use axum::extract::ConnectInfo;
use http::HeaderMap;
use serde_json::json;
use sqlx::PgPool;
use tower_sessions::Session;

use super::{
    jwt::{AccessClaims, TokenVerifier},
    session::{self, SignedIn},
    supabase_client::{AuthApiError, SignUp, SupabaseAuth},
};
use crate::{
    admin::roles::{RequestedBy, set_user_role},
    audit::{self, AuditAction, AuditContext, AuditEntry},
    db::user_scope::begin_as_user,
};

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
async fn request_origin() -> (Option<std::net::IpAddr>, Option<String>) {
    let ip = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip());
    let agent = leptos_axum::extract::<HeaderMap>()
        .await
        .ok()
        .and_then(|headers| {
            headers
                .get(http::header::USER_AGENT)?
                .to_str()
                .ok()
                .map(str::to_string)
        });
    (ip, agent)
}

fn session_failed(error: tower_sessions::session::Error) -> IdentityError {
    tracing::error!(%error, "session store failed");
    IdentityError::Unavailable
}

fn database_failed(error: sqlx::Error) -> IdentityError {
    tracing::error!(%error, "identity query failed");
    IdentityError::Unavailable
}

/// Supabase's refusals in words a person can act on.
pub fn explain(error: AuthApiError) -> IdentityError {
    match error.code() {
        Some("invalid_credentials") => IdentityError::InvalidCredentials,
        Some("email_not_confirmed") => IdentityError::EmailNotConfirmed,
        Some("user_already_exists" | "email_exists") => IdentityError::EmailTaken,
        Some("weak_password") => FieldError {
            field: "password".into(),
            message: "Choose a stronger password: at least 8 characters, not a common one.".into(),
        }
        .into(),
        Some("over_request_rate_limit" | "over_email_send_rate_limit") => {
            IdentityError::RateLimited
        }
        _ if matches!(error, AuthApiError::Refused { status: 429, .. }) => {
            IdentityError::RateLimited
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
        auth_session: super::supabase_client::AuthSession,
    ) -> Result<(), IdentityError> {
        let signed_in = SignedIn::from(auth_session);
        self.bootstrap_admin(&signed_in).await?;
        session::sign_in(session, signed_in)
            .await
            .map_err(session_failed)
    }

    /// A listed email becomes admin at its first sign-in, once: after any recorded role change
    /// for this user (including a later demotion), the list no longer applies.
    async fn bootstrap_admin(&self, signed_in: &SignedIn) -> Result<(), IdentityError> {
        if !self
            .admin_emails
            .iter()
            .any(|email| email.eq_ignore_ascii_case(&signed_in.email))
        {
            return Ok(());
        }
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
            r#"select p.full_name, s.plan::text as plan, coalesce(r.role = 'admin', false) as "is_admin!"
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
        })
    }
}

#[async_trait::async_trait]
impl Identity for RequestIdentity {
    async fn sign_up(
        &self,
        email: EmailAddress,
        password: Password,
        full_name: Option<FullName>,
    ) -> Result<SignUpOutcome, IdentityError> {
        let session = request_session().await?;
        let challenge = session::start_flow(&session, "/dashboard")
            .await
            .map_err(session_failed)?;
        let data = json!({ "full_name": full_name.as_ref().map(FullName::as_str) });
        let service = &self.service;
        match service
            .auth
            .sign_up(
                email.as_str(),
                password.expose(),
                data,
                &service.confirm_url,
                &challenge,
            )
            .await
            .map_err(explain)?
        {
            SignUp::SignedIn(auth_session) => {
                service.establish(&session, auth_session).await?;
                Ok(SignUpOutcome::SignedIn)
            }
            SignUp::ConfirmationSent(_) => Ok(SignUpOutcome::CheckEmail),
        }
    }

    async fn sign_in(&self, email: EmailAddress, password: Password) -> Result<(), IdentityError> {
        let session = request_session().await?;
        let auth_session = self
            .service
            .auth
            .sign_in_with_password(email.as_str(), password.expose())
            .await
            .map_err(explain)?;
        self.service.establish(&session, auth_session).await
    }

    async fn sign_out(&self) -> Result<(), IdentityError> {
        let session = request_session().await?;
        if let Some(signed_in) = session::signed_in(&session).await.map_err(session_failed)? {
            // Ends the refresh tokens at Supabase; our session ends either way.
            if let Err(error) = self.service.auth.sign_out(&signed_in.access_token).await {
                tracing::warn!(%error, "Supabase sign-out failed; ending the local session anyway");
            }
        }
        session::end(&session).await.map_err(session_failed)
    }

    async fn current_user(&self) -> Result<Option<CurrentUser>, IdentityError> {
        let session = request_session().await?;
        match self.service.access(&session).await {
            Ok((signed_in, claims)) => self.service.load_user(&signed_in, &claims).await.map(Some),
            Err(IdentityError::NotSignedIn) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn update_full_name(
        &self,
        full_name: Option<FullName>,
    ) -> Result<CurrentUser, IdentityError> {
        let session = request_session().await?;
        let (signed_in, claims) = self.service.access(&session).await?;
        let (ip, user_agent) = request_origin().await;
        let new_name = full_name.as_ref().map(FullName::as_str);

        let mut tx = begin_as_user(&self.service.pool, &claims.raw)
            .await
            .map_err(database_failed)?;
        let before = sqlx::query_scalar!(
            "select full_name from public.profiles where id = $1",
            signed_in.user_id
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_failed)?
        .ok_or(IdentityError::NotSignedIn)?;
        // Runs as the user: RLS and the column grants decide what may change.
        sqlx::query!(
            "update public.profiles set full_name = $2 where id = $1",
            signed_in.user_id,
            new_name
        )
        .execute(&mut *tx)
        .await
        .map_err(database_failed)?;
        if before.as_deref() != new_name {
            // The audit trail is written by the server, in the same transaction.
            sqlx::query("reset role")
                .execute(&mut *tx)
                .await
                .map_err(database_failed)?;
            let context = AuditContext {
                actor: Some((signed_in.user_id, &signed_in.email)),
                ip,
                user_agent: user_agent.as_deref(),
            };
            let entry = AuditEntry {
                action: AuditAction::ProfileUpdated,
                target_type: "user",
                target_id: &signed_in.user_id.to_string(),
                metadata: json!({ "before": { "full_name": before }, "after": { "full_name": new_name } }),
            };
            audit::record(&mut *tx, &context, entry)
                .await
                .map_err(database_failed)?;
        }
        tx.commit().await.map_err(database_failed)?;
        self.service.load_user(&signed_in, &claims).await
    }
}
