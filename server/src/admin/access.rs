//! Who may enter the admin area: a signed-in person whose `user_roles` row says admin, read
//! afresh on every guarded request (a demotion takes effect at once). Everyone else is told the
//! area does not exist.

use std::sync::Arc;

use app::{admin::AdminError, identity::IdentityError};
use axum::{
    extract::{Request, State},
    http::{Method, StatusCode, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use crate::auth::{identity::IdentityService, roles, session::SignedIn};

/// A path no route answers: non-admins are shown the app's ordinary not-found page through it.
const NOT_FOUND_PATH: &str = "/404";

/// The admin behind `session`, or why not.
pub async fn signed_in_admin(
    identity: &IdentityService,
    session: &Session,
) -> Result<SignedIn, AdminError> {
    let signed_in = match identity.access(session).await {
        Ok((signed_in, _)) => signed_in,
        Err(IdentityError::NotSignedIn) => return Err(AdminError::NotFound),
        Err(_) => return Err(AdminError::Unavailable),
    };
    match roles::is_admin(&identity.pool, signed_in.user_id).await {
        Ok(true) => Ok(signed_in),
        Ok(false) => Err(AdminError::NotFound),
        Err(error) => {
            tracing::error!(%error, "reading the admin role failed");
            Err(AdminError::Unavailable)
        }
    }
}

fn is_admin_area(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// In front of `/admin/**`: admins pass; anyone else gets the same 404 page as an unknown
/// address, so the area is never rendered for them and its existence is not confirmed.
pub async fn require_admin(
    State(identity): State<Arc<IdentityService>>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if !is_admin_area(request.uri().path()) {
        return next.run(request).await;
    }
    match signed_in_admin(&identity, &session).await {
        Ok(_) => next.run(request).await,
        Err(AdminError::NotFound) => {
            // As a GET of an unknown address, whatever the method: a POST would otherwise get
            // 405 from the admin route and so confirm that it exists.
            *request.uri_mut() = Uri::from_static(NOT_FOUND_PATH);
            if request.method() != Method::HEAD {
                *request.method_mut() = Method::GET;
            }
            next.run(request).await
        }
        // Unavailable (the only other kind the role check makes).
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_admin_area;

    #[test]
    fn the_admin_area_is_admin_and_everything_under_it() {
        for path in ["/admin", "/admin/", "/admin/payments"] {
            assert!(is_admin_area(path), "{path}");
        }
        for path in ["/", "/administrator", "/dashboard/admin", "/api/admin"] {
            assert!(!is_admin_area(path), "{path}");
        }
    }
}
