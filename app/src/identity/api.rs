//! The identity server functions: parse the form, call the [`Identity`](super::Identity) port,
//! and turn failures into messages the form shows.

use leptos::prelude::*;

use super::{CurrentUser, SignUpOutcome};
#[cfg(feature = "ssr")]
use super::{EmailAddress, FullName, Identity, IdentityError, Password};

/// Where to go after signing in: only a path on this site (never `//other.host`).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/dashboard",
    }
}

#[cfg(feature = "ssr")]
fn identity() -> Result<std::sync::Arc<dyn Identity>, ServerFnError> {
    use_context::<std::sync::Arc<dyn Identity>>()
        .ok_or_else(|| ServerFnError::new(IdentityError::Unavailable.to_string()))
}

#[cfg(feature = "ssr")]
fn refuse(error: IdentityError) -> ServerFnError {
    ServerFnError::new(error.to_string())
}

#[server]
pub async fn sign_up(
    email: String,
    password: String,
    full_name: String,
) -> Result<SignUpOutcome, ServerFnError> {
    let email = EmailAddress::parse(&email).map_err(|e| refuse(e.into()))?;
    let password = Password::parse(&password).map_err(|e| refuse(e.into()))?;
    let full_name = FullName::parse(&full_name).map_err(|e| refuse(e.into()))?;
    let outcome = identity()?
        .sign_up(email, password, full_name)
        .await
        .map_err(refuse)?;
    leptos_axum::redirect(match outcome {
        SignUpOutcome::SignedIn => "/dashboard",
        SignUpOutcome::CheckEmail => "/auth/sign-up-success",
    });
    Ok(outcome)
}

#[server]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    let email = EmailAddress::parse(&email).map_err(|e| refuse(e.into()))?;
    let password =
        Password::parse(&password).map_err(|_| refuse(IdentityError::InvalidCredentials))?;
    identity()?.sign_in(email, password).await.map_err(refuse)?;
    leptos_axum::redirect(safe_next(next.as_deref()));
    Ok(())
}

#[server]
pub async fn sign_out() -> Result<(), ServerFnError> {
    identity()?.sign_out().await.map_err(refuse)?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn load_current_user() -> Result<Option<CurrentUser>, ServerFnError> {
    identity()?.current_user().await.map_err(refuse)
}

#[server]
pub async fn update_full_name(full_name: String) -> Result<CurrentUser, ServerFnError> {
    let full_name = FullName::parse(&full_name).map_err(|e| refuse(e.into()))?;
    identity()?
        .update_full_name(full_name)
        .await
        .map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/dashboard/settings")),
            "/dashboard/settings"
        );
        for outside in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil"),
            Some(""),
        ] {
            assert_eq!(safe_next(outside), "/dashboard", "{outside:?}");
        }
    }
}
