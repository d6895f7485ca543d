//! `POST /signup`, and the signup steps `/otp` reuses for new addresses.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Uri},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Pkce, Twin, check_password_strength, create_flow_state, crypto,
    error::{ApiError, ApiResult},
    mail, parse_body, pkce_params, redirect,
    sessions::{self, Method},
    users::{self, NewUser, UserRow},
    validate_email,
};

#[derive(Deserialize)]
struct SignupBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    data: Option<Map<String, Value>>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

pub(super) async fn signup(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: SignupBody = parse_body(&body)?;
    if body.password.is_empty() {
        return Err(ApiError::validation("Signup requires a valid password"));
    }
    check_password_strength(&body.password)?;
    if !body.email.is_empty() && !body.phone.is_empty() {
        return Err(ApiError::validation(
            "Only an email address or phone number should be provided on signup.",
        ));
    }
    let pkce = pkce_params(
        body.code_challenge.as_deref(),
        body.code_challenge_method.as_deref(),
    )?;
    if body.email.is_empty() {
        if !body.phone.is_empty() {
            return Err(ApiError::bad_request(
                "phone_provider_disabled",
                "Phone signups are disabled",
            ));
        }
        return Err(ApiError::validation(
            "Sign up only available with email provider",
        ));
    }
    let email = validate_email(&body.email)?;
    let data = body.data.unwrap_or_default();
    let redirect_to = redirect::referrer(&twin.config, &uri, &headers);
    let password_hash = crypto::hash_password(body.password).await?;

    let mut tx = twin.config.pool.begin().await?;
    let outcome = sign_up(
        &twin,
        &mut tx,
        SignUp {
            email: &email,
            password_hash: &password_hash,
            data: &data,
            pkce: pkce.as_ref(),
            redirect_to: &redirect_to,
        },
        &headers,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(match outcome {
        Outcome::Session(session) | Outcome::User(session) => session,
        Outcome::AlreadyConfirmed if twin.config.autoconfirm => {
            return Err(ApiError::unprocessable(
                "user_already_exists",
                "User already registered",
            ));
        }
        Outcome::AlreadyConfirmed => obfuscated_user(&email, &data),
    }))
}

/// What to sign up.
pub(super) struct SignUp<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub data: &'a Map<String, Value>,
    pub pkce: Option<&'a Pkce>,
    pub redirect_to: &'a str,
}

pub(super) enum Outcome {
    /// Confirmation is off: signed in (`AccessTokenResponse`).
    Session(Value),
    /// A confirmation mail went out: the user object.
    User(Value),
    /// The address belongs to a confirmed account (nothing was changed).
    AlreadyConfirmed,
}

/// GoTrue's `Signup` for an email address, inside the request's transaction. An unconfirmed
/// account with the address is reused as it is (GoTrue cannot know who is asking), with a new
/// confirmation mail.
pub(super) async fn sign_up(
    twin: &Twin,
    conn: &mut PgConnection,
    params: SignUp<'_>,
    headers: &HeaderMap,
) -> ApiResult<Outcome> {
    let Some(user) = prepare_account(conn, &params).await? else {
        return Ok(Outcome::AlreadyConfirmed);
    };
    if twin.config.autoconfirm {
        users::confirm(conn, user.id)
            .await
            .map_err(|e| ApiError::internal("Database error updating user", e))?;
        return Ok(Outcome::Session(
            sessions::issue(twin, conn, user.id, Method::Password, headers).await?,
        ));
    }
    if let Some(pkce) = params.pkce {
        create_flow_state(conn, pkce, "email", Method::EmailSignup, Some(user.id)).await?;
    }
    mail::send_one_time_token(
        twin,
        conn,
        &user,
        mail::OneTimeToken::Confirmation,
        mail::Kind::Signup,
        params.pkce.is_some(),
        params.redirect_to,
    )
    .await?;
    let user = users::by_id(conn, user.id)
        .await?
        .ok_or_else(|| ApiError::internal("Database error finding user", "user vanished"))?;
    Ok(Outcome::User(users::to_json(conn, &user).await?))
}

/// The account for `params.email`, created when there is none and locked; `None` when a
/// confirmed account has the address.
pub(super) async fn prepare_account(
    conn: &mut PgConnection,
    params: &SignUp<'_>,
) -> ApiResult<Option<UserRow>> {
    let user_id = match users::by_email(conn, params.email).await? {
        Some(user) if user.is_confirmed() => return Ok(None),
        Some(user) => user.id,
        None => users::insert(
            conn,
            NewUser {
                email: params.email,
                password_hash: Some(params.password_hash),
                user_metadata: Value::Object(params.data.clone()),
                provider: "email",
            },
        )
        .await
        .map_err(|e| ApiError::internal("Database error saving new user", e))?,
    };
    let user = users::lock(conn, user_id)
        .await?
        .ok_or_else(|| ApiError::internal("Database error finding user", "user vanished"))?;
    ensure_email_identity(conn, &user, params.data).await?;
    Ok(Some(user))
}

/// The `email` identity GoTrue gives every email account (its `sub` is the user id); creating
/// it resets the unconfirmed account's metadata to the identity's data, as
/// `RemoveUnconfirmedIdentities` does, and drops identities nobody confirmed.
async fn ensure_email_identity(
    conn: &mut PgConnection,
    user: &UserRow,
    data: &Map<String, Value>,
) -> ApiResult<()> {
    let provider_id = user.id.to_string();
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from auth.identities where provider_id = $1 and provider = 'email')",
    )
    .bind(&provider_id)
    .fetch_one(&mut *conn)
    .await?;
    if exists {
        return Ok(());
    }
    let mut identity_data = json!({
        "sub": provider_id,
        "email": user.email(),
        "email_verified": false,
        "phone_verified": false,
    });
    if let Value::Object(map) = &mut identity_data {
        for (key, value) in data {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    let identity_id =
        users::insert_identity(conn, user.id, "email", &provider_id, &identity_data).await?;
    sqlx::query("update auth.users set raw_user_meta_data = $2, updated_at = now() where id = $1")
        .bind(user.id)
        .bind(&identity_data)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from auth.identities where user_id = $1 and id <> $2")
        .bind(user.id)
        .bind(identity_id)
        .execute(&mut *conn)
        .await?;
    users::refresh_providers(conn, user.id).await?;
    Ok(())
}

/// `sanitizeUser`: what a repeated signup of a confirmed address answers when confirmation is
/// on — shaped like a fresh unconfirmed user, so the answer does not reveal the account.
fn obfuscated_user(email: &str, data: &Map<String, Value>) -> Value {
    let now = users::timestamp(&Utc::now());
    json!({
        "id": Uuid::new_v4(),
        "aud": users::AUTHENTICATED,
        "role": "",
        "email": email,
        "phone": "",
        "confirmation_sent_at": now,
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": data,
        "identities": [],
        "created_at": now,
        "updated_at": now,
        "is_anonymous": false,
    })
}
