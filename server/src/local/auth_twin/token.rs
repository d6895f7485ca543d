//! `POST /token?grant_type=password|refresh_token|pkce`.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Twin, check_password_strength, crypto,
    error::{ApiError, ApiResult},
    parse_body, query_param,
    sessions::{self, Method},
    users,
};

/// How long a PKCE code can be redeemed (GoTrue's `FlowStateExpiryDuration`).
const FLOW_STATE_LIFETIME: Duration = Duration::minutes(5);

const INVALID_LOGIN: &str = "Invalid login credentials";

pub(super) async fn token(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    match query_param(&uri, "grant_type").as_deref() {
        Some("password") => password_grant(&twin, &headers, &body).await,
        Some("refresh_token") => {
            #[derive(Deserialize)]
            struct RefreshBody {
                #[serde(default)]
                refresh_token: String,
            }
            let body: RefreshBody = parse_body(&body)?;
            if body.refresh_token.is_empty() {
                return Err(ApiError::OAuth {
                    error: "invalid_request",
                    description: "refresh_token required".into(),
                });
            }
            sessions::refresh(&twin, &twin.config.pool, &body.refresh_token, &headers)
                .await
                .map(Json)
        }
        Some("pkce") => pkce_grant(&twin, &headers, &body).await,
        _ => Err(ApiError::bad_request(
            "invalid_credentials",
            "unsupported_grant_type",
        )),
    }
}

#[derive(Deserialize)]
struct PasswordBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
}

/// `ResourceOwnerPasswordGrant`.
async fn password_grant(twin: &Twin, headers: &HeaderMap, body: &[u8]) -> ApiResult<Json<Value>> {
    let body: PasswordBody = parse_body(body)?;
    if !body.email.is_empty() && !body.phone.is_empty() {
        return Err(ApiError::validation(
            "Only an email address or phone number should be provided on login.",
        ));
    }
    if body.email.is_empty() {
        if !body.phone.is_empty() {
            return Err(ApiError::unprocessable(
                "phone_provider_disabled",
                "Phone logins are disabled",
            ));
        }
        return Err(ApiError::validation("missing email or phone"));
    }
    let invalid = || ApiError::bad_request("invalid_credentials", INVALID_LOGIN);
    let user = {
        let mut conn = twin.config.pool.acquire().await?;
        users::by_email(&mut conn, &body.email).await?
    };
    let Some(user) = user else {
        return Err(invalid());
    };
    let Some(hash) = user.password_hash().map(str::to_string) else {
        return Err(invalid());
    };
    if user.is_banned() {
        return Err(ApiError::bad_request("user_banned", "User is banned"));
    }
    if !crypto::password_matches(body.password.clone(), hash).await {
        return Err(invalid());
    }
    // A correct password that no longer meets the rules signs in, with a warning.
    let weak_password = match check_password_strength(&body.password) {
        Err(ApiError::WeakPassword { msg, reasons }) => {
            Some(json!({"message": msg, "reasons": reasons}))
        }
        _ => None,
    };
    if !user.is_confirmed() {
        return Err(ApiError::bad_request(
            "email_not_confirmed",
            "Email not confirmed",
        ));
    }
    let mut tx = twin.config.pool.begin().await?;
    let mut session = sessions::issue(twin, &mut tx, user.id, Method::Password, headers).await?;
    tx.commit().await?;
    if let (Some(weak), Value::Object(map)) = (weak_password, &mut session) {
        map.insert("weak_password".into(), weak);
    }
    Ok(Json(session))
}

#[derive(Deserialize)]
struct PkceBody {
    #[serde(default)]
    auth_code: String,
    #[serde(default)]
    code_verifier: String,
}

#[derive(sqlx::FromRow)]
struct FlowStateRow {
    id: Uuid,
    user_id: Option<Uuid>,
    code_challenge: String,
    code_challenge_method: String,
    authentication_method: String,
    provider_access_token: Option<String>,
    provider_refresh_token: Option<String>,
    created_at: Option<DateTime<Utc>>,
    auth_code_issued_at: Option<DateTime<Utc>>,
}

/// `grant_type=pkce`: redeems a flow state's code once, with the verifier of its challenge.
async fn pkce_grant(twin: &Twin, headers: &HeaderMap, body: &[u8]) -> ApiResult<Json<Value>> {
    let body: PkceBody = parse_body(body)?;
    if body.auth_code.is_empty() || body.code_verifier.is_empty() {
        return Err(ApiError::validation(
            "invalid request: both auth code and code verifier should be non-empty",
        ));
    }
    let mut tx = twin.config.pool.begin().await?;
    let flow = sqlx::query_as::<_, FlowStateRow>(
        "select id, user_id, code_challenge, code_challenge_method::text as code_challenge_method, \
           authentication_method, provider_access_token, provider_refresh_token, created_at, \
           auth_code_issued_at \
         from auth.flow_state where auth_code = $1 for update",
    )
    .bind(&body.auth_code)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((flow, user_id)) = flow.and_then(|f| f.user_id.map(|id| (f, id))) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "flow_state_not_found",
            "invalid flow state, no valid flow state found",
        ));
    };
    // Counted from when the code was handed out (the link followed, the consent given).
    let started = flow
        .auth_code_issued_at
        .or(flow.created_at)
        .unwrap_or_default();
    if Utc::now() > started + FLOW_STATE_LIFETIME {
        return Err(ApiError::unprocessable(
            "flow_state_expired",
            "invalid flow state, flow state has expired",
        ));
    }
    crypto::verify_pkce(
        &flow.code_challenge,
        &flow.code_challenge_method,
        &body.code_verifier,
    )
    .map_err(|msg| ApiError::bad_request("bad_code_verifier", msg))?;
    if users::by_id(&mut tx, user_id).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            "User not found",
        ));
    }
    let method = Method::parse(&flow.authentication_method).unwrap_or(Method::OAuth);
    let mut session = sessions::issue(twin, &mut tx, user_id, method, headers).await?;
    sqlx::query("delete from auth.flow_state where id = $1")
        .bind(flow.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if let Value::Object(map) = &mut session {
        if let Some(token) = flow.provider_access_token.filter(|t| !t.is_empty()) {
            map.insert("provider_token".into(), json!(token));
        }
        if let Some(token) = flow.provider_refresh_token.filter(|t| !t.is_empty()) {
            map.insert("provider_refresh_token".into(), json!(token));
        }
    }
    Ok(Json(session))
}
