//! Who is signed in, and the forms that change it. The server implements [`Identity`] over
//! Supabase Auth and the session; the pages call the server functions in [`api`].

pub mod api;
pub mod fields;
pub mod next_path;

use serde::{Deserialize, Serialize};

use crate::domain::Plan;
use crate::i18n::Locale;
use crate::refusal::{PlumbingFailure, WireError};
use crate::t;
pub use fields::{EmailAddress, FieldError, FullName, Password};
pub use next_path::NextPath;

/// The signed-in person, as pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub full_name: Option<String>,
    pub plan: Plan,
    pub is_admin: bool,
    /// A short-lived signed URL of their avatar; `None` when they have none (pages show their
    /// initials).
    pub avatar_url: Option<String>,
}

/// What sign-up did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpOutcome {
    /// Email confirmation is off: the person is signed in.
    SignedIn,
    /// A confirmation link was emailed.
    CheckEmail,
}

/// What asking for a new email address did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmailChangeOutcome {
    /// Confirmation is off: the address is changed.
    Changed,
    /// Links went out (to the new address, and with "secure email change" to the current one);
    /// the change takes effect once they are followed.
    LinksSent,
}

impl EmailChangeOutcome {
    /// The outcome from its name in a server function's JSON answer (serde's, checked by a
    /// test), for the browser's form client, which reads answers without serde.
    pub fn from_wire_name(name: &str) -> Option<Self> {
        match name {
            "Changed" => Some(Self::Changed),
            "LinksSent" => Some(Self::LinksSent),
            _ => None,
        }
    }
}

/// Why an identity action failed, in words a person can act on. Every kind has a stable
/// [`code`](Self::code) (for URLs and API answers) and an HTTP [`status`](Self::status); only
/// `Unavailable` is a fault (5xx), every other kind is a refusal (4xx).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireError", from = "WireError")]
pub enum IdentityError {
    Invalid(FieldError),
    InvalidCredentials,
    EmailNotConfirmed,
    EmailTaken,
    SignUpsDisabled,
    NotSignedIn,
    /// An emailed or Google sign-in link came back without its code.
    LinkIncomplete,
    /// A sign-in link was opened in another browser than the one that asked for it.
    LinkFromOtherBrowser,
    LinkExpired,
    /// Setting a new password after the recovery session ended.
    ResetLinkExpired,
    /// Refused by a rate limit; the form says when to try again.
    RateLimited {
        retry_after_secs: u64,
    },
    /// The request could not be read (missing or malformed fields).
    BadRequest,
    TooLarge,
    /// The browser could not reach the server (only ever made in the browser).
    Unreachable,
    Unavailable,
}

/// The longest wait a decoded [`IdentityError::RateLimited`] may announce (a day).
const MAX_RETRY_AFTER_SECS: u64 = 24 * 60 * 60;

impl IdentityError {
    /// The kinds without data, for code round trips.
    const PLAIN: [IdentityError; 14] = [
        IdentityError::InvalidCredentials,
        IdentityError::EmailNotConfirmed,
        IdentityError::EmailTaken,
        IdentityError::SignUpsDisabled,
        IdentityError::NotSignedIn,
        IdentityError::LinkIncomplete,
        IdentityError::LinkFromOtherBrowser,
        IdentityError::LinkExpired,
        IdentityError::ResetLinkExpired,
        IdentityError::BadRequest,
        IdentityError::TooLarge,
        IdentityError::Unreachable,
        IdentityError::Unavailable,
        IdentityError::RateLimited {
            retry_after_secs: 60,
        },
    ];

    /// A stable code for URLs (`?error=<code>`) and API answers, e.g. `invalid_credentials`;
    /// a field error's own code, e.g. `email_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::Invalid(field) => field.code(),
            IdentityError::InvalidCredentials => "invalid_credentials",
            IdentityError::EmailNotConfirmed => "email_not_confirmed",
            IdentityError::EmailTaken => "email_taken",
            IdentityError::SignUpsDisabled => "signups_disabled",
            IdentityError::NotSignedIn => "not_signed_in",
            IdentityError::LinkIncomplete => "link_incomplete",
            IdentityError::LinkFromOtherBrowser => "link_from_other_browser",
            IdentityError::LinkExpired => "link_expired",
            IdentityError::ResetLinkExpired => "reset_link_expired",
            IdentityError::RateLimited { .. } => "rate_limited",
            IdentityError::BadRequest => "bad_request",
            IdentityError::TooLarge => "too_large",
            IdentityError::Unreachable => "unreachable",
            IdentityError::Unavailable => "unavailable",
        }
    }

    /// The error a [`code`](Self::code) stands for; `None` for a code we never made (show a
    /// generic message then, never the code itself).
    pub fn from_code(code: &str) -> Option<Self> {
        FieldError::from_code(code)
            .map(Self::Invalid)
            .or_else(|| Self::PLAIN.into_iter().find(|error| error.code() == code))
    }

    /// The HTTP status a server function answers with this error.
    pub fn status(&self) -> u16 {
        match self {
            IdentityError::Invalid(_) => 422,
            IdentityError::InvalidCredentials | IdentityError::NotSignedIn => 401,
            IdentityError::EmailNotConfirmed | IdentityError::SignUpsDisabled => 403,
            IdentityError::EmailTaken => 409,
            IdentityError::LinkIncomplete
            | IdentityError::LinkFromOtherBrowser
            | IdentityError::LinkExpired
            | IdentityError::BadRequest => 400,
            IdentityError::ResetLinkExpired => 401,
            IdentityError::RateLimited { .. } => 429,
            IdentityError::TooLarge => 413,
            IdentityError::Unreachable | IdentityError::Unavailable => 503,
        }
    }

    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            IdentityError::Invalid(field) => Some(field.field()),
            _ => None,
        }
    }

    fn from_plumbing(failure: PlumbingFailure) -> Self {
        match failure {
            PlumbingFailure::BadRequest => IdentityError::BadRequest,
            PlumbingFailure::TooLarge => IdentityError::TooLarge,
            PlumbingFailure::Unreachable => IdentityError::Unreachable,
            PlumbingFailure::Fault => IdentityError::Unavailable,
        }
    }
}

impl From<IdentityError> for WireError {
    fn from(error: IdentityError) -> Self {
        WireError {
            code: error.code().to_string(),
            message: error.to_string(),
            field: error.field().map(str::to_string),
            retry_after_secs: match error {
                IdentityError::RateLimited { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            },
        }
    }
}

impl From<WireError> for IdentityError {
    fn from(wire: WireError) -> Self {
        match IdentityError::from_code(&wire.code) {
            Some(IdentityError::RateLimited { retry_after_secs }) => IdentityError::RateLimited {
                retry_after_secs: wire
                    .retry_after_secs
                    .unwrap_or(retry_after_secs)
                    .min(MAX_RETRY_AFTER_SECS),
            },
            Some(error) => error,
            None => IdentityError::Unavailable,
        }
    }
}

crate::refusal_over_the_wire!(IdentityError);

impl IdentityError {
    /// What the person reads, in `locale`.
    pub fn message(&self, locale: Locale) -> String {
        let fixed = match self {
            IdentityError::Invalid(field) => return field.message(locale).to_string(),
            IdentityError::RateLimited { retry_after_secs } => {
                // Whole minutes, rounded up.
                return t!(locale, errors.rate_limited)(retry_after_secs.div_ceil(60).max(1));
            }
            IdentityError::InvalidCredentials => t!(locale, errors.invalid_credentials),
            IdentityError::EmailNotConfirmed => t!(locale, errors.email_not_confirmed),
            IdentityError::EmailTaken => t!(locale, errors.email_taken),
            IdentityError::SignUpsDisabled => t!(locale, errors.signups_disabled),
            IdentityError::NotSignedIn => t!(locale, errors.not_signed_in),
            IdentityError::LinkIncomplete => t!(locale, errors.link_incomplete),
            IdentityError::LinkFromOtherBrowser => t!(locale, errors.link_from_other_browser),
            IdentityError::LinkExpired => t!(locale, errors.link_expired),
            IdentityError::ResetLinkExpired => t!(locale, errors.reset_link_expired),
            IdentityError::BadRequest => t!(locale, errors.bad_request),
            IdentityError::TooLarge => t!(locale, errors.too_large),
            IdentityError::Unreachable => t!(locale, errors.unreachable),
            IdentityError::Unavailable => t!(locale, errors.sign_in_unavailable),
        };
        fixed.to_string()
    }
}

impl From<FieldError> for IdentityError {
    fn from(field: FieldError) -> Self {
        IdentityError::Invalid(field)
    }
}

/// In English: logs and API readers.
impl std::fmt::Display for IdentityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for IdentityError {}

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
    /// Sets a new password once `current` is proven (audited).
    async fn change_password(&self, current: Password, new: Password) -> Result<(), IdentityError>;
    /// Asks for a new sign-in address, confirmed through emailed links (audited).
    async fn change_email(&self, email: EmailAddress) -> Result<EmailChangeOutcome, IdentityError>;
    /// Changes the signed-in person's name (audited with before and after).
    async fn update_full_name(
        &self,
        full_name: Option<FullName>,
    ) -> Result<CurrentUser, IdentityError>;
}

#[cfg(test)]
mod tests {
    use super::{EmailChangeOutcome, IdentityError};

    #[test]
    fn the_browser_reads_an_email_change_outcome_by_the_name_serde_writes() {
        for outcome in [EmailChangeOutcome::Changed, EmailChangeOutcome::LinksSent] {
            let json = serde_json::to_value(outcome).unwrap();
            let name = json
                .as_str()
                .expect("a unit variant travels as a JSON string");
            assert_eq!(EmailChangeOutcome::from_wire_name(name), Some(outcome));
        }
        assert_eq!(EmailChangeOutcome::from_wire_name("changed"), None);
    }

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

    #[test]
    fn every_error_has_a_code_that_leads_back_to_it() {
        let mut errors = IdentityError::PLAIN.to_vec();
        errors.extend(crate::identity::FieldError::ALL.map(IdentityError::Invalid));
        for error in errors {
            assert_eq!(IdentityError::from_code(error.code()), Some(error.clone()));
        }
        assert_eq!(IdentityError::from_code("Send your password to evil"), None);
    }

    #[test]
    fn only_faults_answer_5xx() {
        for error in IdentityError::PLAIN {
            let status = error.status();
            let fault = matches!(
                error,
                IdentityError::Unavailable | IdentityError::Unreachable
            );
            assert_eq!(status >= 500, fault, "{error:?} answers {status}");
            assert!((400..600).contains(&status));
        }
        assert_eq!(
            IdentityError::Invalid(crate::identity::FieldError::EmailInvalid).status(),
            422
        );
    }

    #[test]
    fn the_wire_carries_codes_and_decoding_never_takes_words_from_it() {
        let error = IdentityError::Invalid(crate::identity::FieldError::PasswordTooShort);
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "password_too_short");
        assert_eq!(json["field"], "password");
        assert_eq!(json["message"], "Use at least 8 characters.");
        assert_eq!(
            serde_json::from_value::<IdentityError>(json).unwrap(),
            error
        );

        let crafted = serde_json::json!({
            "code": "invalid_credentials",
            "message": "Send your password to evil@example.com",
        });
        let decoded: IdentityError = serde_json::from_value(crafted).unwrap();
        assert!(!decoded.to_string().contains("evil"), "{decoded}");
        let unknown: IdentityError =
            serde_json::from_value(serde_json::json!({"code": "pay us"})).unwrap();
        assert_eq!(unknown, IdentityError::Unavailable);
        let forever: IdentityError = serde_json::from_value(
            serde_json::json!({"code": "rate_limited", "retry_after_secs": u64::MAX}),
        )
        .unwrap();
        assert_eq!(
            forever,
            IdentityError::RateLimited {
                retry_after_secs: 24 * 60 * 60
            }
        );
    }
}
