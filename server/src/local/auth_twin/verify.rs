//! `GET /verify` (the links in the mails) and `POST /verify` (token hash, or email + code).

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::crypto::constant_time_eq;

use super::{
    Twin, crypto,
    email_change::{self, Step},
    error::{ApiError, ApiResult},
    parse_body, query_param, redirect,
    sessions::{self, Method},
    users::{self, UserRow},
    validate_email,
};

/// How long a signup (or email change) link stays valid: GoTrue's default mailer OTP expiry.
const CONFIRMATION_LIFETIME: Duration = Duration::hours(24);
/// How long recovery and magic links stay valid (Supabase's hosted default).
const RECOVERY_LIFETIME: Duration = Duration::hours(1);

const LINK_INVALID: &str = "Email link is invalid or has expired";
const TOKEN_INVALID: &str = "Token has expired or is invalid";

/// What a verification did, for the redirect or the JSON answer.
enum Verified {
    /// The user whose token it was.
    User { user_id: Uuid },
    /// The first of the two email-change links.
    FirstOfTwo,
}

/// `GET /verify?token=…&type=…&redirect_to=…`: redirects (303) back to the app with the
/// session in the fragment, or — for a PKCE flow (`pkce_` token) — with `?code=`.
pub(super) async fn verify_get(State(twin): State<Twin>, uri: Uri, headers: HeaderMap) -> Response {
    let token = query_param(&uri, "token").unwrap_or_default();
    let kind = query_param(&uri, "type").unwrap_or_default();
    if kind.is_empty() {
        return ApiError::validation("Verify requires a verification type").into_response();
    }
    if token.is_empty() {
        return ApiError::validation("Verify requires a token or a token hash").into_response();
    }
    let redirect_to = redirect::referrer(&twin.config, &uri, &headers);
    let pkce = token.starts_with("pkce_");
    let pkce_method = if pkce {
        match Method::parse(&kind) {
            Some(method) => Some(method),
            None => {
                return ApiError::validation(format!("unsupported authentication method {kind:?}"))
                    .into_response();
            }
        }
    } else {
        None
    };
    let outcome = verify_link(&twin, &token, &kind, pkce_method, &headers).await;
    let location = match outcome {
        Ok(LinkOutcome::Session(session)) => {
            redirect::with_session_fragment(&redirect_to, &session, &[("type", &kind)])
        }
        Ok(LinkOutcome::Code(code)) => redirect::with_query(&redirect_to, &[("code", &code)], None),
        Ok(LinkOutcome::FirstOfTwo) => {
            let message = [("message", email_change::FIRST_OF_TWO)];
            let fragment = [("message", email_change::FIRST_OF_TWO), ("sb", "")];
            if pkce {
                redirect::with_query(&redirect_to, &message, Some(&fragment))
            } else {
                redirect::with_query(&redirect_to, &[], Some(&fragment))
            }
        }
        Err(error) => error_redirect(&redirect_to, &error, pkce),
    };
    redirect::response(StatusCode::SEE_OTHER, &location)
}

/// GoTrue's `prepErrorRedirectURL`: the error in the fragment (and, for PKCE, the query).
pub(super) fn error_redirect(redirect_to: &str, error: &ApiError, pkce: bool) -> String {
    let oauth_error = match error.status().as_u16() {
        400 => Some("invalid_request"),
        401 => Some("unauthorized_client"),
        403 => Some("access_denied"),
        500 => Some("server_error"),
        503 => Some("temporarily_unavailable"),
        _ => None,
    };
    let mut pairs: Vec<(&str, &str)> = vec![
        ("error_code", error.code()),
        ("error_description", error.message()),
    ];
    if let Some(oauth_error) = oauth_error {
        pairs.push(("error", oauth_error));
    }
    let mut fragment = pairs.clone();
    fragment.push(("sb", ""));
    if pkce {
        redirect::with_query(redirect_to, &pairs, Some(&fragment))
    } else {
        redirect::with_query(redirect_to, &[], Some(&fragment))
    }
}

enum LinkOutcome {
    Session(Value),
    Code(String),
    FirstOfTwo,
}

async fn verify_link(
    twin: &Twin,
    token: &str,
    kind: &str,
    pkce_method: Option<Method>,
    headers: &HeaderMap,
) -> ApiResult<LinkOutcome> {
    let mut tx = twin.config.pool.begin().await?;
    let verified = verify_token_hash(twin, &mut tx, kind, token).await?;
    let outcome = match verified {
        Verified::FirstOfTwo => LinkOutcome::FirstOfTwo,
        Verified::User { user_id } => match pkce_method {
            None => LinkOutcome::Session(
                sessions::issue(twin, &mut tx, user_id, Method::Otp, headers).await?,
            ),
            Some(method) => LinkOutcome::Code(issue_auth_code(&mut tx, user_id, method).await?),
        },
    };
    tx.commit().await?;
    Ok(outcome)
}

/// `issueAuthCode`: the user's latest flow state for `method` gets its code issued now.
async fn issue_auth_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    method: Method,
) -> ApiResult<String> {
    let flow: Option<(Uuid, String)> = sqlx::query_as(
        "select id, auth_code from auth.flow_state \
         where user_id = $1 and authentication_method = $2 \
         order by created_at desc limit 1 for update",
    )
    .bind(user_id)
    .bind(method.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, auth_code)) = flow else {
        return Err(ApiError::bad_request(
            "flow_state_not_found",
            "No associated flow state found. No valid flow state found for user.",
        ));
    };
    sqlx::query(
        "update auth.flow_state set auth_code_issued_at = now(), updated_at = now() where id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(auth_code)
}

#[derive(Deserialize)]
struct VerifyBody {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    token_hash: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    redirect_to: String,
}

/// `POST /verify`: `{type, token_hash}` or `{type, email, token}` → `AccessTokenResponse`.
pub(super) async fn verify_post(
    State(twin): State<Twin>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: VerifyBody = parse_body(&body)?;
    if body.kind.is_empty() {
        return Err(ApiError::validation("Verify requires a verification type"));
    }
    if body.token.is_empty() == body.token_hash.is_empty() {
        return Err(ApiError::validation(
            "Verify requires either a token or a token hash",
        ));
    }
    let mut tx = twin.config.pool.begin().await?;
    let verified = if !body.token.is_empty() {
        if !body.phone.is_empty() && body.email.is_empty() {
            return Err(ApiError::bad_request(
                "phone_provider_disabled",
                "Unsupported phone provider",
            ));
        }
        if body.phone.is_empty() == body.email.is_empty() {
            return Err(ApiError::validation(
                "Only an email address or phone number should be provided on verify",
            ));
        }
        let email = validate_email(&body.email)
            .map_err(|_| ApiError::unprocessable("validation_failed", "Invalid email format"))?;
        let hash = crypto::token_hash(&email, &body.token);
        verify_email_and_code(&twin, &mut tx, &body.kind, &email, &hash).await?
    } else {
        if !body.email.is_empty() || !body.phone.is_empty() || !body.redirect_to.is_empty() {
            return Err(ApiError::validation(
                "Only the token_hash and type should be provided",
            ));
        }
        verify_token_hash(&twin, &mut tx, &body.kind, &body.token_hash).await?
    };
    let answer = match verified {
        Verified::FirstOfTwo => json!({"msg": email_change::FIRST_OF_TWO, "code": "200"}),
        Verified::User { user_id } => {
            sessions::issue(&twin, &mut tx, user_id, Method::Otp, &headers).await?
        }
    };
    tx.commit().await?;
    Ok(Json(answer))
}

fn expired(sent_at: Option<DateTime<Utc>>, lifetime: Duration) -> bool {
    sent_at.is_none_or(|at| Utc::now() > at + lifetime)
}

/// The token types a verification type looks in (refusing an unknown type).
fn token_types(kind: &str) -> ApiResult<&'static [&'static str]> {
    Ok(match kind {
        "signup" | "invite" => &["confirmation_token"],
        "recovery" | "magiclink" => &["recovery_token"],
        "email_change" => &["email_change_token_current", "email_change_token_new"],
        "email" => &["confirmation_token", "recovery_token"],
        _ => return Err(ApiError::validation("Invalid email verification type")),
    })
}

/// `verifyTokenHash` and then the verification itself.
async fn verify_token_hash(
    twin: &Twin,
    conn: &mut PgConnection,
    kind: &str,
    token_hash: &str,
) -> ApiResult<Verified> {
    let types = token_types(kind)?;
    let owner: Option<Uuid> = sqlx::query_scalar(
        "select user_id from auth.one_time_tokens \
         where token_hash = $1 and token_type::text = any($2) limit 1 for update",
    )
    .bind(token_hash)
    .bind(types)
    .fetch_optional(&mut *conn)
    .await?;
    let invalid = || ApiError::forbidden("otp_expired", LINK_INVALID);
    let Some(user_id) = owner else {
        return Err(invalid());
    };
    let user = users::lock(conn, user_id).await?.ok_or_else(invalid)?;
    if user.is_banned() {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    let kind = resolve_email_kind(kind, &user, token_hash);
    let is_expired = match kind.as_str() {
        "signup" | "invite" => expired(user.confirmation_sent_at, CONFIRMATION_LIFETIME),
        "recovery" | "magiclink" => expired(user.recovery_sent_at, RECOVERY_LIFETIME),
        _ => expired(user.email_change_sent_at, CONFIRMATION_LIFETIME),
    };
    if is_expired {
        return Err(invalid());
    }
    apply(twin, conn, &user, &kind, token_hash).await
}

/// Type `email` means "whichever of the confirmation or magic link this is".
fn resolve_email_kind(kind: &str, user: &UserRow, token_hash: &str) -> String {
    if kind != "email" {
        return kind.to_string();
    }
    if user
        .recovery_token
        .as_deref()
        .is_some_and(|stored| constant_time_eq(stored.as_bytes(), token_hash.as_bytes()))
    {
        "magiclink".into()
    } else {
        "signup".into()
    }
}

/// `verifyUserAndToken`: the user by address, the code's hash against the stored tokens.
async fn verify_email_and_code(
    twin: &Twin,
    conn: &mut PgConnection,
    kind: &str,
    email: &str,
    hash: &str,
) -> ApiResult<Verified> {
    token_types(kind)?;
    let invalid = || ApiError::forbidden("otp_expired", TOKEN_INVALID);
    let Some(found) = users::by_email(conn, email).await? else {
        return Err(invalid());
    };
    let user = users::lock(conn, found.id).await?.ok_or_else(invalid)?;
    if user.is_banned() {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    let pkce_hash = format!("pkce_{hash}");
    let valid = |stored: &Option<String>, sent_at: Option<DateTime<Utc>>, lifetime| {
        stored
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_some_and(|s| {
                constant_time_eq(s.as_bytes(), hash.as_bytes())
                    || constant_time_eq(s.as_bytes(), pkce_hash.as_bytes())
            })
            && !expired(sent_at, lifetime)
    };
    let confirmation = valid(
        &user.confirmation_token,
        user.confirmation_sent_at,
        CONFIRMATION_LIFETIME,
    );
    let recovery = valid(
        &user.recovery_token,
        user.recovery_sent_at,
        RECOVERY_LIFETIME,
    );
    let (resolved, stored) = match kind {
        "email" if confirmation => ("signup", user.confirmation_token.clone()),
        "email" if recovery => ("magiclink", user.recovery_token.clone()),
        "signup" | "invite" if confirmation => (kind, user.confirmation_token.clone()),
        "recovery" | "magiclink" if recovery => (kind, user.recovery_token.clone()),
        "email_change"
            if valid(
                &user.email_change_token_current,
                user.email_change_sent_at,
                CONFIRMATION_LIFETIME,
            ) =>
        {
            (kind, user.email_change_token_current.clone())
        }
        "email_change"
            if valid(
                &user.email_change_token_new,
                user.email_change_sent_at,
                CONFIRMATION_LIFETIME,
            ) =>
        {
            (kind, user.email_change_token_new.clone())
        }
        _ => return Err(invalid()),
    };
    apply(
        twin,
        conn,
        &user,
        resolved,
        stored.as_deref().unwrap_or(hash),
    )
    .await
}

/// The effect of a verified token (GoTrue's `signupVerify`, `recoverVerify`,
/// `emailChangeVerify`), then the providers list refreshed.
async fn apply(
    twin: &Twin,
    conn: &mut PgConnection,
    user: &UserRow,
    kind: &str,
    token_hash: &str,
) -> ApiResult<Verified> {
    match kind {
        "signup" | "invite" => {
            users::confirm(conn, user.id)
                .await
                .map_err(|e| ApiError::internal("Error confirming user", e))?;
            if let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) {
                sqlx::query(
                    "update auth.identities set identity_data = identity_data || '{\"email_verified\": true}', \
                       updated_at = now() where user_id = $1 and email = lower($2)",
                )
                .bind(user.id)
                .bind(email)
                .execute(&mut *conn)
                .await?;
            }
        }
        "recovery" | "magiclink" => {
            sqlx::query(
                "update auth.users set recovery_token = '', updated_at = now() where id = $1",
            )
            .bind(user.id)
            .execute(&mut *conn)
            .await?;
            users::clear_one_time_tokens(conn, user.id).await?;
            if !user.is_confirmed() {
                users::confirm(conn, user.id).await?;
            }
        }
        "email_change" => {
            if let Step::FirstOfTwo = email_change::verify(twin, conn, user, token_hash).await? {
                return Ok(Verified::FirstOfTwo);
            }
        }
        _ => return Err(ApiError::validation("Unsupported verification type")),
    }
    users::refresh_providers(conn, user.id).await?;
    Ok(Verified::User { user_id: user.id })
}
