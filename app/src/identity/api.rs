//! The identity server functions: parse the form, call the [`Identity`](super::Identity) port,
//! and return [`IdentityError`]: a refusal answers its 4xx status with the error's code, and the
//! form shows its fixed message (a field error next to its field).

use leptos::prelude::*;

use super::{CurrentUser, EmailChangeOutcome, IdentityError, SignUpOutcome};
#[cfg(feature = "ssr")]
use super::{EmailAddress, FullName, Identity, NextPath, Password};

#[cfg(feature = "ssr")]
fn identity() -> Result<std::sync::Arc<dyn Identity>, IdentityError> {
    use_context::<std::sync::Arc<dyn Identity>>().ok_or(IdentityError::Unavailable)
}

#[server]
pub async fn sign_up(
    email: String,
    password: String,
    full_name: String,
) -> Result<SignUpOutcome, IdentityError> {
    let email = EmailAddress::parse(&email)?;
    let password = Password::parse(&password)?;
    let full_name = FullName::parse(&full_name)?;
    let outcome = identity()?.sign_up(email, password, full_name).await?;
    leptos_axum::redirect(match outcome {
        SignUpOutcome::SignedIn => NextPath::DEFAULT,
        SignUpOutcome::CheckEmail => "/auth/sign-up-success",
    });
    Ok(outcome)
}

#[server]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), IdentityError> {
    let email = EmailAddress::parse(&email)?;
    let password = Password::parse(&password).map_err(|_| IdentityError::InvalidCredentials)?;
    identity()?.sign_in(email, password).await?;
    // Parsed: a value a header cannot carry (a newline) or that leaves the site is never sent.
    leptos_axum::redirect(NextPath::or_default(next.as_deref()).as_str());
    Ok(())
}

#[server]
pub async fn sign_out() -> Result<(), IdentityError> {
    identity()?.sign_out().await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn load_current_user() -> Result<Option<CurrentUser>, IdentityError> {
    identity()?.current_user().await
}

#[server]
pub async fn change_password(
    current_password: String,
    password: String,
) -> Result<(), IdentityError> {
    use super::FieldError;
    let current = match Password::parse(&current_password) {
        Ok(current) => current,
        Err(FieldError::PasswordMissing) => return Err(FieldError::CurrentPasswordMissing.into()),
        // Too short or too long cannot be anyone's password.
        Err(_) => return Err(FieldError::CurrentPasswordWrong.into()),
    };
    let new = Password::parse(&password)?;
    identity()?.change_password(current, new).await
}

#[server]
pub async fn change_email(email: String) -> Result<EmailChangeOutcome, IdentityError> {
    let email = EmailAddress::parse(&email)?;
    identity()?.change_email(email).await
}

#[server]
pub async fn update_full_name(full_name: String) -> Result<CurrentUser, IdentityError> {
    let full_name = FullName::parse(&full_name)?;
    identity()?.update_full_name(full_name).await
}
