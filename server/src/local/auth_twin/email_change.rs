//! Changing a user's email address (`PUT /user {email}`), with GoTrue's "secure email change":
//! a link to the new address and one to the current address, both to be followed. With
//! confirmation off (auto-confirm) the address changes at once, as GoTrue does.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::crypto::constant_time_eq;

use super::{
    Pkce, Twin, check_mail_frequency, create_flow_state, crypto,
    error::{ApiError, ApiResult},
    mail,
    sessions::Method,
    users::{self, UserRow},
};

/// What following one link achieved.
pub(super) enum Step {
    /// The first of the two links: the other one is still needed.
    FirstOfTwo,
    /// The address is changed.
    Changed,
}

/// GoTrue's message after the first of the two links.
pub(super) const FIRST_OF_TWO: &str =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

/// `sendEmailChange`: stores both token hashes and mails both links.
pub(super) async fn request(
    twin: &Twin,
    conn: &mut PgConnection,
    user: &UserRow,
    new_email: &str,
    pkce: Option<&Pkce>,
    redirect_to: &str,
) -> ApiResult<()> {
    check_mail_frequency(user.email_change_sent_at)?;
    let prefix = |hash: String| {
        if pkce.is_some() {
            format!("pkce_{hash}")
        } else {
            hash
        }
    };
    let otp_new = crypto::otp();
    let token_new = prefix(crypto::token_hash(new_email, &otp_new));
    let current = user.email();
    let otp_current = crypto::otp();
    let token_current = if current.is_empty() {
        String::new()
    } else {
        prefix(crypto::token_hash(current, &otp_current))
    };
    sqlx::query(
        "update auth.users set email_change = $2, email_change_token_new = $3, \
           email_change_token_current = $4, email_change_confirm_status = 0, \
           email_change_sent_at = now(), updated_at = now() where id = $1",
    )
    .bind(user.id)
    .bind(new_email)
    .bind(&token_new)
    .bind(&token_current)
    .execute(&mut *conn)
    .await?;
    if !token_current.is_empty() {
        users::store_one_time_token(
            conn,
            user.id,
            "email_change_token_current",
            &token_current,
            current,
        )
        .await?;
    }
    users::store_one_time_token(
        conn,
        user.id,
        "email_change_token_new",
        &token_new,
        new_email,
    )
    .await?;
    if let Some(pkce) = pkce {
        create_flow_state(
            conn,
            pkce,
            "email_change",
            Method::EmailChange,
            Some(user.id),
        )
        .await?;
    }
    let mut mails = vec![(new_email, token_new.as_str(), otp_new.as_str())];
    if !token_current.is_empty() {
        mails.push((current, token_current.as_str(), otp_current.as_str()));
    }
    for (to, token_hash, otp) in mails {
        mail::send(
            twin,
            mail::Message {
                kind: mail::Kind::EmailChange,
                to,
                token_hash,
                otp,
                redirect_to,
                new_email: Some(new_email),
                locale: mail::recipient_locale(user),
            },
        )
        .await?;
    }
    Ok(())
}

/// `emailChangeVerify` for the link whose hash is `token_hash`.
pub(super) async fn verify(
    twin: &Twin,
    conn: &mut PgConnection,
    user: &UserRow,
    token_hash: &str,
) -> ApiResult<Step> {
    let status = user.email_change_confirm_status.unwrap_or(0);
    if !twin.config.autoconfirm && status == 0 && !user.email().is_empty() {
        let sent_to_current = user
            .email_change_token_current
            .as_deref()
            .is_some_and(|stored| constant_time_eq(stored.as_bytes(), token_hash.as_bytes()));
        let (column, kind) = if sent_to_current {
            ("email_change_token_current", "email_change_token_current")
        } else {
            ("email_change_token_new", "email_change_token_new")
        };
        sqlx::query(&format!(
            "update auth.users set email_change_confirm_status = 1, {column} = '', \
               updated_at = now() where id = $1"
        ))
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "delete from auth.one_time_tokens where user_id = $1 \
               and token_type = $2::auth.one_time_token_type",
        )
        .bind(user.id)
        .bind(kind)
        .execute(&mut *conn)
        .await?;
        return Ok(Step::FirstOfTwo);
    }
    let new_email = user.email_change.clone().unwrap_or_default();
    if let Some(other) = users::by_email(conn, &new_email).await?
        && other.id != user.id
    {
        return Err(ApiError::unprocessable(
            "email_exists",
            "A user with this email address has already been registered",
        ));
    }
    sqlx::query(
        "update auth.users set email = $2, email_change = '', email_change_token_current = '', \
           email_change_token_new = '', email_change_confirm_status = 0, updated_at = now() \
         where id = $1",
    )
    .bind(user.id)
    .bind(&new_email)
    .execute(&mut *conn)
    .await?;
    users::clear_one_time_tokens(conn, user.id).await?;
    if !user.is_confirmed() {
        users::confirm(conn, user.id).await?;
    }
    update_email_identity(conn, user.id, &new_email).await?;
    Ok(Step::Changed)
}

/// The `email` identity follows the address (created when the account had none).
async fn update_email_identity(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &str,
) -> ApiResult<()> {
    let provider_id = user_id.to_string();
    let updated = sqlx::query(
        "update auth.identities set identity_data = identity_data || $3, updated_at = now() \
         where provider_id = $1 and provider = 'email' and user_id = $2",
    )
    .bind(&provider_id)
    .bind(user_id)
    .bind(json!({"email": email, "email_verified": true}))
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        let data = json!({"sub": provider_id, "email": email, "email_verified": true, "phone_verified": false});
        users::insert_identity(conn, user_id, "email", &provider_id, &data).await?;
    }
    Ok(())
}
