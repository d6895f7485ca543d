//! `POST /api/profile/avatar` (a new picture: the raw file, or a form's `multipart/form-data`
//! with the file in `avatar`) and `POST /api/profile/avatar/remove`. The settings page's script
//! asks for JSON (`Accept: application/json`): the new URL, or the refusal's code and message in
//! the page's language. A form posted without JavaScript goes back to settings with a notice or
//! `?error=<code>`. Signed-in only, limited per person; the server-wide body limit for this path
//! (`http_layers::AVATAR_BODY_LIMIT`) stops a larger body before it is read in full.

use std::sync::Arc;

use app::{
    avatar::{AvatarError, MAX_BYTES, REMOVE_PATH, UPLOAD_PATH},
    identity::IdentityError,
};
use axum::{
    Router,
    body::Bytes,
    extract::{FromRequest, Multipart, Request, State},
    http::{HeaderMap, header},
    response::Response,
    routing::post,
};
use serde_json::json;
use tower_sessions::Session;

use super::{Avatars, Owner};
use crate::{
    audit::{self, AuditContext},
    auth::{identity::IdentityService, jwt::AccessClaims},
    net::ClientIp,
    ratelimit::{Policy, RateLimit, Subject},
    reply::Reply,
};

/// Where a form posted without JavaScript returns.
const SETTINGS: &str = "/dashboard/settings#avatar";

#[derive(Clone)]
struct AvatarRoutes {
    identity: Arc<IdentityService>,
    avatars: Arc<Avatars>,
    limit: [Policy; 1],
}

pub fn router<S: Clone + Send + Sync + 'static>(
    identity: Arc<IdentityService>,
    avatars: Arc<Avatars>,
    limit: Policy,
) -> Router<S> {
    Router::new()
        .route(UPLOAD_PATH, post(upload))
        .route(REMOVE_PATH, post(remove))
        .with_state(AvatarRoutes {
            identity,
            avatars,
            limit: [limit],
        })
}

/// A signed-in person the per-person limit let through, and where they call from.
struct Admitted {
    signed_in: crate::auth::session::SignedIn,
    claims: AccessClaims,
    limit: RateLimit,
    ip: std::net::IpAddr,
    user_agent: Option<String>,
}

impl Admitted {
    fn owner(&self) -> Owner<'_> {
        Owner {
            claims: &self.claims,
            access_token: &self.signed_in.access_token,
        }
    }

    fn context(&self) -> AuditContext<'_> {
        AuditContext {
            actor: Some((self.signed_in.user_id, &self.signed_in.email)),
            ip: Some(self.ip),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

async fn admit(
    routes: &AvatarRoutes,
    session: &Session,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Admitted, AvatarError> {
    let (signed_in, claims) =
        routes
            .identity
            .access(session)
            .await
            .map_err(|error| match error {
                IdentityError::NotSignedIn => AvatarError::NotSignedIn,
                _ => AvatarError::Unavailable,
            })?;
    let limit = routes
        .identity
        .limiter
        .check(&routes.limit, &Subject::user(ip, signed_in.user_id))
        .await;
    if !limit.allowed {
        return Err(AvatarError::RateLimited {
            retry_after_secs: limit.retry_after_secs(),
        });
    }
    Ok(Admitted {
        signed_in,
        claims,
        limit,
        ip,
        user_agent: audit::user_agent(headers),
    })
}

async fn upload(
    State(routes): State<AvatarRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    request: Request,
) -> Response {
    let answer = Reply::to(
        request.uri(),
        request.headers(),
        routes.identity.default_locale,
    );
    let admitted = match admit(&routes, &session, ip, request.headers()).await {
        Ok(admitted) => admitted,
        Err(error) => return answer.refused(error, SETTINGS),
    };
    let file = match read_file(request).await {
        Ok(file) => file,
        Err(error) => return answer.refused(error, SETTINGS),
    };
    let replaced = routes
        .avatars
        .replace(&admitted.owner(), &admitted.context(), file)
        .await;
    let mut response = match replaced {
        Ok(url) => answer.done(json!({ "url": url }), SETTINGS, "avatar_saved"),
        Err(error) => answer.refused(error, SETTINGS),
    };
    admitted.limit.apply(response.headers_mut());
    response
}

async fn remove(
    State(routes): State<AvatarRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    request: Request,
) -> Response {
    let answer = Reply::to(
        request.uri(),
        request.headers(),
        routes.identity.default_locale,
    );
    let admitted = match admit(&routes, &session, ip, request.headers()).await {
        Ok(admitted) => admitted,
        Err(error) => return answer.refused(error, SETTINGS),
    };
    let removed = routes
        .avatars
        .remove(&admitted.owner(), &admitted.context())
        .await;
    let mut response = match removed {
        Ok(()) => answer.done(json!({ "url": null }), SETTINGS, "avatar_removed"),
        Err(error) => answer.refused(error, SETTINGS),
    };
    admitted.limit.apply(response.headers_mut());
    response
}

/// The uploaded file: the `avatar` part of a multipart form, else the whole body. No more than
/// one byte past [`MAX_BYTES`] is kept, enough to tell that it is too large.
async fn read_file(request: Request) -> Result<Bytes, AvatarError> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    if !is_form {
        let body = Bytes::from_request(request, &())
            .await
            .map_err(|_| AvatarError::Missing)?;
        return if body.len() as u64 > MAX_BYTES {
            Err(AvatarError::TooLarge)
        } else {
            Ok(body)
        };
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|_| AvatarError::Missing)?;
    while let Some(mut field) = form.next_field().await.map_err(|_| AvatarError::Missing)? {
        if field.name() != Some("avatar") {
            continue;
        }
        let mut file = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| AvatarError::Missing)? {
            if (file.len() + chunk.len()) as u64 > MAX_BYTES {
                return Err(AvatarError::TooLarge);
            }
            file.extend_from_slice(&chunk);
        }
        return Ok(Bytes::from(file));
    }
    Err(AvatarError::Missing)
}
