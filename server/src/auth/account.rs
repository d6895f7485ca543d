//! Changes signed-in people make to their own account in settings: a new password (proven with
//! the current one) and a new email address (confirmed through emailed links, as Supabase
//! does). The logic takes the browser's session and the caller's address explicitly; the Leptos
//! adapter only reads them from the request.

use std::net::IpAddr;

use app::identity::{EmailAddress, EmailChangeOutcome, FieldError, IdentityError, Password};
use serde_json::json;
use tower_sessions::Session;

use super::{
    identity::{IdentityService, answer_limit, database_failed, explain, session_failed},
    session::{self, SignedIn},
    supabase_client::AuthApiError,
};
use crate::audit::{self, AuditAction, AuditContext, AuditEntry};

/// Where the confirmation links of an email change lead once followed.
pub const EMAIL_CHANGED_PATH: &str = "/dashboard/settings?notice=email_changed";
/// Where the first of the two links of a secure email change leads.
pub const EMAIL_HALF_CONFIRMED_PATH: &str = "/dashboard/settings?notice=email_half_confirmed";

impl IdentityService {
    /// Sets a new password once the current one is proven, so that a borrowed or stolen
    /// session alone cannot lock the owner out. Each check of the current password counts
    /// against the sign-in limits (it is a password guess like any other).
    pub async fn change_password(
        &self,
        session: &Session,
        ip: IpAddr,
        user_agent: Option<&str>,
        current: &Password,
        new: &Password,
    ) -> Result<(), IdentityError> {
        let (signed_in, _) = self.access(session).await?;
        let email = EmailAddress::parse(&signed_in.email).map_err(|_| {
            tracing::error!(user = %signed_in.user_id, "a signed-in account has no usable email");
            IdentityError::Unavailable
        })?;
        answer_limit(self.sign_in_limit(ip, &email).await)?;
        match self
            .auth
            .sign_in_with_password(email.as_str(), current.expose())
            .await
        {
            // The check made a session of its own: end it at once.
            Ok(check) => {
                if let Err(error) = self.auth.sign_out(&check.access_token).await {
                    tracing::warn!(%error, "could not end the session of a password check");
                }
            }
            Err(error) if error.code() == Some("invalid_credentials") => {
                return Err(FieldError::CurrentPasswordWrong.into());
            }
            Err(error) => return Err(explain(error)),
        }
        self.auth
            .update_password(&signed_in.access_token, new.expose())
            .await
            .map_err(explain)?;
        self.audit_account_change(
            &signed_in,
            ip,
            user_agent,
            AuditAction::PasswordChanged,
            json!({}),
        )
        .await
    }

    /// Asks Supabase to change the address: it emails a link to the new address (and, with
    /// "secure email change", one to the current address as well) that comes back through
    /// `/auth/confirm` in this browser. With confirmation off the address changes at once.
    pub async fn change_email(
        &self,
        session: &Session,
        ip: IpAddr,
        user_agent: Option<&str>,
        new_email: &EmailAddress,
    ) -> Result<EmailChangeOutcome, IdentityError> {
        let (signed_in, _) = self.access(session).await?;
        if new_email.as_str().eq_ignore_ascii_case(&signed_in.email) {
            return Err(FieldError::EmailUnchanged.into());
        }
        answer_limit(self.email_link_limit(ip, new_email.as_str()).await)?;
        let challenge = session::start_flow(session, EMAIL_CHANGED_PATH)
            .await
            .map_err(session_failed)?;
        let user = self
            .auth
            .update_email(
                &signed_in.access_token,
                new_email.as_str(),
                &self.confirm_url,
                &challenge,
            )
            .await
            .map_err(|error| match error.code() {
                Some("email_exists" | "user_already_exists") => FieldError::EmailInUse.into(),
                _ => explain(error),
            })?;
        let changed_now = user
            .email
            .as_deref()
            .is_some_and(|email| email.eq_ignore_ascii_case(new_email.as_str()));
        self.audit_account_change(
            &signed_in,
            ip,
            user_agent,
            AuditAction::EmailChangeRequested,
            json!({ "before": signed_in.email, "after": new_email.as_str(), "changed_now": changed_now }),
        )
        .await?;
        if !changed_now {
            return Ok(EmailChangeOutcome::LinksSent);
        }
        // The session's tokens still carry the old address: take fresh ones.
        session::take_flow(session).await.map_err(session_failed)?;
        match self.auth.refresh(&signed_in.refresh_token).await {
            Ok(fresh) => session::update(session, SignedIn::from(fresh))
                .await
                .map_err(session_failed)?,
            Err(error @ AuthApiError::Refused { .. }) => {
                tracing::info!(%error, "refresh after an email change refused");
            }
            Err(error) => return Err(explain(error)),
        }
        Ok(EmailChangeOutcome::Changed)
    }

    async fn audit_account_change(
        &self,
        signed_in: &SignedIn,
        ip: IpAddr,
        user_agent: Option<&str>,
        action: AuditAction,
        metadata: serde_json::Value,
    ) -> Result<(), IdentityError> {
        let context = AuditContext {
            actor: Some((signed_in.user_id, &signed_in.email)),
            ip: Some(ip),
            user_agent,
        };
        let entry = AuditEntry {
            action,
            target_type: "user",
            target_id: &signed_in.user_id.to_string(),
            metadata,
        };
        audit::record(&self.pool, &context, entry)
            .await
            .map(|_| ())
            .map_err(database_failed)
    }
}
