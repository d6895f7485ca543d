//! `GET /user`, `PUT /user` and `POST /logout`: the calls made with an access token.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    Twin, check_password_strength, crypto, email_change,
    error::{ApiError, ApiResult},
    parse_body, pkce_params, query_param, redirect, sessions, users, validate_email,
};

/// `POST /logout?scope=global|local|others` (GoTrue's default is `global`): deletes the
/// sessions, and with them their refresh tokens. The access token itself stays valid until it
/// expires, but GoTrue (and the twin) refuse it once its session is gone.
pub(super) async fn logout(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut tx = twin.config.pool.begin().await?;
    let auth = sessions::authenticate(&twin, &mut tx, &headers).await?;
    let scope = query_param(&uri, "scope").unwrap_or_default();
    if !matches!(scope.as_str(), "" | "global" | "local" | "others") {
        return Err(ApiError::validation(format!(
            "Unsupported logout scope {scope:?}"
        )));
    }
    let user_id = auth.user.id;
    match (scope.as_str(), auth.session.as_ref()) {
        ("local", Some(session)) => {
            sqlx::query("delete from auth.sessions where id = $1")
                .bind(session.id)
                .execute(&mut *tx)
                .await?;
        }
        ("others", Some(session)) => {
            sqlx::query("delete from auth.sessions where id <> $1 and user_id = $2")
                .bind(session.id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        _ => {
            sqlx::query("delete from auth.sessions where user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /user`.
pub(super) async fn get_user(
    State(twin): State<Twin>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let mut conn = twin.config.pool.acquire().await?;
    let auth = sessions::authenticate(&twin, &mut conn, &headers).await?;
    Ok(Json(users::to_json(&mut conn, &auth.user).await?))
}

#[derive(Deserialize)]
struct UpdateBody {
    #[serde(default)]
    email: String,
    password: Option<String>,
    data: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    phone: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// `PUT /user {password?, data?, email?}`: a new password (other sessions end, pending links
/// die), metadata merged in (`null` deletes a key), or an email change (links mailed to both
/// addresses).
pub(super) async fn update_user(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    // GoTrue authenticates before it reads the body.
    let auth = {
        let mut conn = twin.config.pool.acquire().await?;
        sessions::authenticate(&twin, &mut conn, &headers).await?
    };
    let body: UpdateBody = parse_body(&body)?;
    let new_email = if body.email.is_empty() {
        None
    } else {
        Some(validate_email(&body.email)?)
    };
    if !body.phone.is_empty() {
        return Err(ApiError::bad_request(
            "phone_provider_disabled",
            "Unsupported phone provider",
        ));
    }
    if let Some(password) = &body.password {
        check_password_strength(password)?;
    }
    let pkce = pkce_params(
        body.code_challenge.as_deref(),
        body.code_challenge_method.as_deref(),
    )?;

    let user = auth.user;
    if body.app_metadata.is_some() {
        return Err(ApiError::forbidden(
            "not_admin",
            "Updating app_metadata requires admin privileges",
        ));
    }
    let new_email = new_email.filter(|email| email != user.email());
    if let Some(email) = &new_email {
        let mut conn = twin.config.pool.acquire().await?;
        if users::by_email(&mut conn, email)
            .await?
            .is_some_and(|other| other.id != user.id)
        {
            return Err(ApiError::unprocessable(
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
    }
    let new_hash = match body.password.as_deref().filter(|p| !p.is_empty()) {
        Some(password) => {
            if let Some(current) = user.password_hash()
                && crypto::password_matches(password.to_string(), current.to_string()).await
            {
                return Err(ApiError::unprocessable(
                    "same_password",
                    "New password should be different from the old password.",
                ));
            }
            Some(crypto::hash_password(password.to_string()).await?)
        }
        None => None,
    };

    let mut tx = twin.config.pool.begin().await?;
    let Some(user) = users::lock(&mut tx, user.id).await? else {
        return Err(ApiError::forbidden(
            "user_not_found",
            "User from sub claim in JWT does not exist",
        ));
    };
    if let Some(hash) = &new_hash {
        // `User.UpdatePassword`: pending links die, every other session ends.
        sqlx::query(
            "update auth.users set encrypted_password = $2, confirmation_token = '', \
               confirmation_sent_at = null, recovery_token = '', recovery_sent_at = null, \
               email_change_token_current = '', email_change_token_new = '', \
               email_change_sent_at = null, reauthentication_token = '', \
               reauthentication_sent_at = null, updated_at = now() \
             where id = $1",
        )
        .bind(user.id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        users::clear_one_time_tokens(&mut tx, user.id).await?;
        match &auth.session {
            Some(session) => {
                sqlx::query("delete from auth.sessions where user_id = $1 and id <> $2")
                    .bind(user.id)
                    .bind(session.id)
                    .execute(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query("delete from auth.sessions where user_id = $1")
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?
            }
        };
    }
    if let Some(data) = &body.data {
        users::merge_user_metadata(&mut tx, user.id, data).await?;
    }
    if let Some(email) = &new_email {
        let redirect_to = redirect::referrer(&twin.config, &uri, &headers);
        let user = users::by_id(&mut tx, user.id)
            .await?
            .unwrap_or(user.clone());
        if twin.config.autoconfirm {
            // GoTrue's `UserUpdate`: with auto-confirm the address changes at once, no links.
            sqlx::query(
                "update auth.users set email_change = $2, updated_at = now() where id = $1",
            )
            .bind(user.id)
            .bind(email)
            .execute(&mut *tx)
            .await?;
            let user = users::by_id(&mut tx, user.id)
                .await?
                .ok_or_else(|| ApiError::internal("Error updating user", "user vanished"))?;
            email_change::verify(&twin, &mut tx, &user, "").await?;
        } else {
            email_change::request(&twin, &mut tx, &user, email, pkce.as_ref(), &redirect_to)
                .await?;
        }
    }
    let updated = users::by_id(&mut tx, user.id)
        .await?
        .ok_or_else(|| ApiError::internal("Error updating user", "user vanished"))?;
    let answer = users::to_json(&mut tx, &updated).await?;
    tx.commit().await?;
    Ok(Json(answer))
}
