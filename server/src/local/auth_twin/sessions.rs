//! Sessions, refresh tokens and access tokens (GoTrue's `tokens.Service`), and reading the
//! bearer token of a request.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    Twin, crypto,
    error::{ApiError, ApiResult},
    users::{self, UserRow},
};
use crate::auth::jwt::sign_hs256;

/// How long a revoked refresh token may still be replayed (GoTrue's
/// `GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL` default).
const REFRESH_TOKEN_REUSE_INTERVAL: Duration = Duration::from_secs(10);

/// How the session was started, as GoTrue writes it into `amr[].method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Password,
    Otp,
    OAuth,
    EmailSignup,
    MagicLink,
    Recovery,
    EmailChange,
}

impl Method {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Otp => "otp",
            Method::OAuth => "oauth",
            Method::EmailSignup => "email/signup",
            Method::MagicLink => "magiclink",
            Method::Recovery => "recovery",
            Method::EmailChange => "email_change",
        }
    }

    /// `models.ParseAuthenticationMethod` for the methods the twin uses.
    pub(super) fn parse(text: &str) -> Option<Self> {
        if text.ends_with("signup") {
            return Some(Method::EmailSignup);
        }
        Some(match text {
            "password" => Method::Password,
            "otp" => Method::Otp,
            "oauth" => Method::OAuth,
            "magiclink" => Method::MagicLink,
            "recovery" => Method::Recovery,
            "email_change" => Method::EmailChange,
            _ => return None,
        })
    }
}

/// A row of `auth.sessions`, as far as the twin uses it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct SessionRow {
    pub id: Uuid,
    pub created_at: Option<DateTime<Utc>>,
    /// The sign-in method, for the `amr` claim (GoTrue keeps it in `auth.mfa_amr_claims`,
    /// which the compatibility schema does not have).
    pub tag: Option<String>,
}

pub(super) async fn session(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = if lock {
        "select id, created_at, tag from auth.sessions where id = $1 for update"
    } else {
        "select id, created_at, tag from auth.sessions where id = $1"
    };
    sqlx::query_as::<_, SessionRow>(sql)
        .bind(id)
        .fetch_optional(conn)
        .await
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(1024).collect())
}

/// `IssueRefreshToken`: a new session with its first refresh token, `last_sign_in_at` now, and
/// the `AccessTokenResponse` for it.
pub(super) async fn issue(
    twin: &Twin,
    conn: &mut PgConnection,
    user_id: Uuid,
    method: Method,
    headers: &HeaderMap,
) -> ApiResult<Value> {
    let session = sqlx::query_as::<_, SessionRow>(
        "insert into auth.sessions (id, user_id, created_at, updated_at, aal, tag, user_agent) \
         values ($1, $2, now(), now(), 'aal1'::auth.aal_level, $3, $4) \
         returning id, created_at, tag",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(method.as_str())
    .bind(user_agent(headers))
    .fetch_one(&mut *conn)
    .await?;
    let refresh_token = insert_refresh_token(conn, user_id, session.id, None).await?;
    sqlx::query("update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let user = users::by_id(conn, user_id)
        .await?
        .ok_or_else(|| ApiError::internal("Database error granting user", "user vanished"))?;
    token_response(twin, conn, &user, &session, &refresh_token).await
}

/// A new refresh token of `session` (`parent`: the token it replaces, if any).
async fn insert_refresh_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    parent: Option<&str>,
) -> Result<String, sqlx::Error> {
    let token = crypto::refresh_token();
    sqlx::query(
        "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, \
           updated_at, parent, session_id) \
         values ($1, $2, $3, false, now(), now(), $4, $5)",
    )
    .bind(Uuid::nil())
    .bind(&token)
    .bind(user_id.to_string())
    .bind(parent)
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(token)
}

/// The `AccessTokenResponse` for `session` with `refresh_token`.
async fn token_response(
    twin: &Twin,
    conn: &mut PgConnection,
    user: &UserRow,
    session: &SessionRow,
    refresh_token: &str,
) -> ApiResult<Value> {
    let (access_token, expires_at) = access_token(twin, user, session);
    let user_json = users::to_json(conn, user).await?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_at - Utc::now().timestamp(),
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user_json,
    }))
}

/// Signs the access token (GoTrue's claims, HS256 with the local JWT secret); returns it with
/// its `exp`.
fn access_token(twin: &Twin, user: &UserRow, session: &SessionRow) -> (String, i64) {
    let issued_at = Utc::now().timestamp();
    let ttl = i64::try_from(twin.config.access_token_ttl.as_secs()).unwrap_or(3600);
    let expires_at = issued_at + ttl;
    let amr_at = session.created_at.map_or(issued_at, |at| at.timestamp());
    let method = session.tag.as_deref().unwrap_or(Method::Password.as_str());
    let claims = json!({
        "iss": twin.issuer,
        "sub": user.id,
        "aud": user.aud.as_deref().unwrap_or(users::AUTHENTICATED),
        "exp": expires_at,
        "iat": issued_at,
        "email": user.email(),
        "phone": user.phone.as_deref().unwrap_or(""),
        "app_metadata": user.app_metadata(),
        "user_metadata": user.user_metadata(),
        "role": user.role.as_deref().unwrap_or(users::AUTHENTICATED),
        "aal": "aal1",
        "amr": [{"method": method, "timestamp": amr_at}],
        "session_id": session.id,
        "is_anonymous": user.is_anonymous,
    });
    (sign_hs256(&claims, &twin.config.jwt_secret), expires_at)
}

#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    id: i64,
    token: Option<String>,
    user_id: Option<String>,
    revoked: Option<bool>,
    updated_at: Option<DateTime<Utc>>,
    session_id: Option<Uuid>,
}

/// `grant_type=refresh_token`: rotates the token (the used one is revoked, its child returned),
/// tolerating the replay of the parent of the current token and, for a few seconds, of any
/// revoked one; a later replay revokes the whole session.
pub(super) async fn refresh(
    twin: &Twin,
    pool: &PgPool,
    token: &str,
    headers: &HeaderMap,
) -> ApiResult<Value> {
    let not_found = || {
        ApiError::bad_request(
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        )
    };
    let mut tx = pool.begin().await?;
    let Some(row) = sqlx::query_as::<_, RefreshTokenRow>(
        "select id, token, user_id, revoked, updated_at, session_id \
         from auth.refresh_tokens where token = $1 for update",
    )
    .bind(token)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Err(not_found());
    };
    let user_id = row
        .user_id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(not_found)?;
    let Some(user) = users::by_id(&mut tx, user_id).await? else {
        return Err(not_found());
    };
    if user.is_banned() {
        return Err(ApiError::bad_request(
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let session = match row.session_id {
        Some(id) => session(&mut tx, id, true).await?,
        None => None,
    };
    let Some(session) = session else {
        sqlx::query("delete from auth.refresh_tokens where id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Err(ApiError::bad_request(
            "session_not_found",
            "Invalid Refresh Token: No Valid Session Found",
        ));
    };

    let mut issued: Option<String> = None;
    if row.revoked.unwrap_or(false) {
        let active: Option<(String, Option<String>)> = sqlx::query_as(
            "select token, parent from auth.refresh_tokens \
             where session_id = $1 and revoked = false order by id desc limit 1",
        )
        .bind(session.id)
        .fetch_optional(&mut *tx)
        .await?;
        match active {
            // The client lost the answer to its last refresh: hand the same child out again.
            Some((child, Some(parent))) if Some(&parent) == row.token.as_ref() => {
                issued = Some(child)
            }
            _ => {
                let reuse_until = row.updated_at.unwrap_or_default()
                    + chrono::Duration::from_std(REFRESH_TOKEN_REUSE_INTERVAL).unwrap_or_default();
                if Utc::now() > reuse_until {
                    sqlx::query(
                        "update auth.refresh_tokens set revoked = true, updated_at = now() \
                         where session_id = $1 and revoked = false",
                    )
                    .bind(session.id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    tracing::warn!(session = %session.id, "auth twin: refresh token reused, session revoked");
                    return Err(ApiError::bad_request(
                        "refresh_token_already_used",
                        "Invalid Refresh Token: Already Used",
                    ));
                }
            }
        }
    }
    let issued = match issued {
        Some(token) => token,
        None => {
            sqlx::query(
                "update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1",
            )
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
            insert_refresh_token(&mut tx, user_id, session.id, Some(token)).await?
        }
    };
    sqlx::query(
        "update auth.sessions set refreshed_at = timezone('utc', now()), updated_at = now(), \
           user_agent = coalesce($2, user_agent) where id = $1",
    )
    .bind(session.id)
    .bind(user_agent(headers))
    .execute(&mut *tx)
    .await?;
    let response = token_response(twin, &mut tx, &user, &session, &issued).await?;
    tx.commit().await?;
    Ok(response)
}

/// Who a request's bearer token speaks for (GoTrue's `requireAuthentication`).
pub(super) struct Authenticated {
    pub user: UserRow,
    pub session: Option<SessionRow>,
}

/// Checks `Authorization: Bearer <access token>`: a valid token of this twin whose user and
/// session still exist.
pub(super) async fn authenticate(
    twin: &Twin,
    conn: &mut PgConnection,
    headers: &HeaderMap,
) -> ApiResult<Authenticated> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
                .then_some(token)
        })
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "no_authorization",
                "This endpoint requires a valid Bearer token",
            )
        })?;
    let claims = twin.verifier.verify(token).await.map_err(|e| {
        ApiError::forbidden(
            "bad_jwt",
            format!("invalid JWT: unable to parse or verify signature, {e}"),
        )
    })?;
    let Some(user) = users::by_id(conn, claims.sub).await? else {
        return Err(ApiError::forbidden(
            "user_not_found",
            "User from sub claim in JWT does not exist",
        ));
    };
    let session = match claims.session_id.filter(|id| !id.is_nil()) {
        Some(id) => match session(conn, id, false).await? {
            Some(session) => Some(session),
            None => {
                return Err(ApiError::forbidden(
                    "session_not_found",
                    "Session from session_id claim in JWT does not exist",
                ));
            }
        },
        None => None,
    };
    if user.is_banned() {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    Ok(Authenticated { user, session })
}
