//! Who may enter the admin area: a signed-in person whose `user_roles` row says admin, read
//! afresh on every guarded request (a demotion takes effect at once). Everyone else is told the
//! area does not exist.

use std::{net::IpAddr, sync::Arc};

use app::{admin::AdminError, identity::IdentityError};
use axum::{
    extract::{Request, State},
    http::{Method, StatusCode, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::auth::{identity::IdentityService, roles};

/// A path no route answers: non-admins are shown the app's ordinary not-found page through it.
const NOT_FOUND_PATH: &str = "/404";

/// A person whose role was read as admin on this request: the admin services take one, so
/// none can be called without the check. Made only by [`Admin::verify`].
#[derive(Debug, Clone)]
pub struct Admin {
    user_id: Uuid,
    email: String,
    ip: Option<IpAddr>,
    user_agent: Option<String>,
}

impl Admin {
    /// `user_id` (signed in as `email`) if `user_roles` says admin right now.
    pub async fn verify(pool: &PgPool, user_id: Uuid, email: String) -> Result<Self, AdminError> {
        match roles::is_admin(pool, user_id).await {
            Ok(true) => Ok(Self {
                user_id,
                email,
                ip: None,
                user_agent: None,
            }),
            Ok(false) => Err(AdminError::NotFound),
            Err(error) => {
                tracing::error!(%error, "reading the admin role failed");
                Err(AdminError::Unavailable)
            }
        }
    }

    /// Where the request came from, for the audit entries of what this admin does.
    pub fn with_origin(self, ip: Option<IpAddr>, user_agent: Option<String>) -> Self {
        Self {
            ip,
            user_agent,
            ..self
        }
    }

    /// This admin as the actor of an audit entry.
    pub fn audit_context(&self) -> AuditContext<'_> {
        AuditContext {
            actor: Some((self.user_id, &self.email)),
            ip: self.ip,
            user_agent: self.user_agent.as_deref(),
        }
    }

    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    pub fn email(&self) -> &str {
        &self.email
    }
}

/// The admin behind `session`, or why not.
pub async fn signed_in_admin(
    identity: &IdentityService,
    session: &Session,
) -> Result<Admin, AdminError> {
    let signed_in = match identity.access(session).await {
        Ok((signed_in, _)) => signed_in,
        Err(IdentityError::NotSignedIn) => return Err(AdminError::NotFound),
        Err(_) => return Err(AdminError::Unavailable),
    };
    Admin::verify(&identity.pool, signed_in.user_id, signed_in.email).await
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
