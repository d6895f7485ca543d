//! Who is signed in, and the forms that change it. The server implements [`Identity`] over
//! Supabase Auth and the session; the pages call the server functions in [`api`].

pub mod api;
pub mod fields;

use serde::{Deserialize, Serialize};

use crate::domain::Plan;
pub use fields::{EmailAddress, FieldError, FullName, Password};

/// The signed-in person, as pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub full_name: Option<String>,
    pub plan: Plan,
    pub is_admin: bool,
}

/// What sign-up did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpOutcome {
    /// Email confirmation is off: the person is signed in.
    SignedIn,
    /// A confirmation link was emailed.
    CheckEmail,
}

/// Why an identity action failed, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("That email and password do not match an account. Check both, or reset your password.")]
    InvalidCredentials,
    #[error("Confirm your email first: open the link we sent you, then sign in.")]
    EmailNotConfirmed,
    #[error("An account with this email already exists. Sign in instead, or reset your password.")]
    EmailTaken,
    #[error("Please sign in to continue.")]
    NotSignedIn,
    /// Refused by a rate limit; the form says when to try again.
    #[error("Too many attempts. Try again in {}.", wait_in_minutes(*retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    #[error("Sign-in is unavailable right now. Please try again in a moment.")]
    Unavailable,
}

/// `retry_after_secs` as whole minutes, rounded up: "1 minute", "15 minutes".
fn wait_in_minutes(retry_after_secs: u64) -> String {
    match retry_after_secs.div_ceil(60).max(1) {
        1 => "1 minute".to_string(),
        minutes => format!("{minutes} minutes"),
    }
}

/// The backend behind the identity server functions (provided as `Arc<dyn Identity>` context).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait Identity: Send + Sync {
    async fn sign_up(
        &self,
        email: EmailAddress,
        password: Password,
        full_name: Option<FullName>,
    ) -> Result<SignUpOutcome, IdentityError>;
    async fn sign_in(&self, email: EmailAddress, password: Password) -> Result<(), IdentityError>;
    async fn sign_out(&self) -> Result<(), IdentityError>;
    async fn current_user(&self) -> Result<Option<CurrentUser>, IdentityError>;
    /// Changes the signed-in person's name (audited with before and after).
    async fn update_full_name(
        &self,
        full_name: Option<FullName>,
    ) -> Result<CurrentUser, IdentityError>;
}

#[cfg(test)]
mod tests {
    use super::IdentityError;

    #[test]
    fn rate_limited_says_how_many_minutes_to_wait() {
        let wait = |secs| {
            IdentityError::RateLimited {
                retry_after_secs: secs,
            }
            .to_string()
        };
        assert_eq!(wait(0), "Too many attempts. Try again in 1 minute.");
        assert_eq!(wait(60), "Too many attempts. Try again in 1 minute.");
        assert_eq!(wait(61), "Too many attempts. Try again in 2 minutes.");
        assert_eq!(wait(900), "Too many attempts. Try again in 15 minutes.");
    }
}
