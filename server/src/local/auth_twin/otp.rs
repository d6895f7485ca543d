//! `POST /otp` and `POST /magiclink` (email magic links) and `POST /recover`.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Uri},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    Pkce, Twin, create_flow_state, crypto,
    error::{ApiError, ApiResult},
    mail, parse_body, pkce_params, redirect,
    sessions::Method,
    signup::{self, SignUp},
    users, validate_email,
};

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
struct OtpBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default = "default_true")]
    create_user: bool,
    data: Option<Map<String, Value>>,
    #[serde(default)]
    channel: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// `POST /otp`: for an email address, a magic link (a confirmation link for an account not yet
/// confirmed, created first when `create_user` allows).
pub(super) async fn otp(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: OtpBody = parse_body(&body)?;
    if !body.email.is_empty() && !body.phone.is_empty() {
        return Err(ApiError::validation(
            "Only an email address or phone number should be provided",
        ));
    }
    if !body.email.is_empty() && !body.channel.is_empty() {
        return Err(ApiError::validation(
            "Channel should only be specified with Phone OTP",
        ));
    }
    let pkce = pkce_params(
        body.code_challenge.as_deref(),
        body.code_challenge_method.as_deref(),
    )?;
    if !body.phone.is_empty() {
        return Err(ApiError::bad_request(
            "phone_provider_disabled",
            "Unsupported phone provider",
        ));
    }
    if body.email.is_empty() {
        return Err(ApiError::validation("One of email or phone must be set"));
    }
    let email = validate_email(&body.email)?;
    magic_link(
        &twin,
        &uri,
        &headers,
        &email,
        body.create_user,
        body.data.unwrap_or_default(),
        pkce,
    )
    .await
}

#[derive(Deserialize)]
struct MagicLinkBody {
    #[serde(default)]
    email: String,
    data: Option<Map<String, Value>>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// `POST /magiclink` (the older spelling of an email `/otp`).
pub(super) async fn magiclink(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: MagicLinkBody = parse_body(&body)?;
    if body.email.is_empty() {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "Password recovery requires an email",
        ));
    }
    let email = validate_email(&body.email)?;
    let pkce = pkce_params(
        body.code_challenge.as_deref(),
        body.code_challenge_method.as_deref(),
    )?;
    magic_link(
        &twin,
        &uri,
        &headers,
        &email,
        true,
        body.data.unwrap_or_default(),
        pkce,
    )
    .await
}

/// GoTrue's `MagicLink`: a new or unconfirmed address goes through signup (with a throwaway
/// password), which mails a `type=signup` confirmation link — unless confirmation is off, when
/// the account is confirmed at once and gets the magic link.
async fn magic_link(
    twin: &Twin,
    uri: &Uri,
    headers: &HeaderMap,
    email: &str,
    create_user: bool,
    data: Map<String, Value>,
    pkce: Option<Pkce>,
) -> ApiResult<Json<Value>> {
    let redirect_to = redirect::referrer(&twin.config, uri, headers);
    let existing = {
        let mut conn = twin.config.pool.acquire().await?;
        users::by_email(&mut conn, email).await?
    };
    if existing.is_none() && !create_user {
        return Err(ApiError::unprocessable(
            "otp_disabled",
            "Signups not allowed for otp",
        ));
    }
    let is_new = existing.as_ref().is_none_or(|u| !u.is_confirmed());
    let password_hash = if is_new {
        Some(crypto::hash_password(crypto::throwaway_password()).await?)
    } else {
        None
    };

    let mut tx = twin.config.pool.begin().await?;
    if let Some(password_hash) = password_hash {
        let params = SignUp {
            email,
            password_hash: &password_hash,
            data: &data,
            pkce: pkce.as_ref(),
            redirect_to: &redirect_to,
        };
        if !twin.config.autoconfirm {
            signup::sign_up(twin, &mut tx, params, headers).await?;
            tx.commit().await?;
            return Ok(Json(json!({})));
        }
        // With confirmation off the account is confirmed at once (GoTrue signs it up, throwing
        // the session away) and the magic link follows.
        if let Some(user) = signup::prepare_account(&mut tx, &params).await? {
            users::confirm(&mut tx, user.id)
                .await
                .map_err(|e| ApiError::internal("Database error updating user", e))?;
        }
    }
    let user = users::by_email(&mut tx, email)
        .await?
        .ok_or_else(|| ApiError::internal("Database error finding user", "user vanished"))?;
    if let Some(pkce) = &pkce {
        create_flow_state(&mut tx, pkce, "magiclink", Method::MagicLink, Some(user.id)).await?;
    }
    mail::send_one_time_token(
        twin,
        &mut tx,
        &user,
        mail::OneTimeToken::Recovery,
        mail::Kind::MagicLink,
        pkce.is_some(),
        &redirect_to,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct RecoverBody {
    #[serde(default)]
    email: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// `POST /recover`: `{}` whether or not the account exists; a recovery mail when it does.
pub(super) async fn recover(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: RecoverBody = parse_body(&body)?;
    if body.email.is_empty() {
        return Err(ApiError::validation("Password recovery requires an email"));
    }
    let email = validate_email(&body.email)?;
    let pkce = pkce_params(
        body.code_challenge.as_deref(),
        body.code_challenge_method.as_deref(),
    )?;
    let redirect_to = redirect::referrer(&twin.config, &uri, &headers);
    let mut tx = twin.config.pool.begin().await?;
    let Some(user) = users::by_email(&mut tx, &email).await? else {
        return Ok(Json(json!({})));
    };
    if let Some(pkce) = &pkce {
        create_flow_state(&mut tx, pkce, "recovery", Method::Recovery, Some(user.id)).await?;
    }
    mail::send_one_time_token(
        &twin,
        &mut tx,
        &user,
        mail::OneTimeToken::Recovery,
        mail::Kind::Recovery,
        pkce.is_some(),
        &redirect_to,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({})))
}
