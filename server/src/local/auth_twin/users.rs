//! `auth.users` and `auth.identities`, read and written as GoTrue does, and the user object
//! (`UserSchema`) the API returns.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

/// The audience and role of every user the twin creates.
pub(super) const AUTHENTICATED: &str = "authenticated";

const USER_COLUMNS: &str = "id, aud, role, email, encrypted_password, email_confirmed_at, \
    invited_at, phone, phone_confirmed_at, confirmation_token, confirmation_sent_at, \
    confirmed_at, recovery_token, recovery_sent_at, email_change, email_change_token_new, \
    email_change_token_current, email_change_sent_at, email_change_confirm_status, \
    last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, \
    banned_until, deleted_at, is_anonymous";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: Uuid,
    pub aud: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub encrypted_password: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub invited_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    pub confirmation_token: Option<String>,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub recovery_token: Option<String>,
    pub recovery_sent_at: Option<DateTime<Utc>>,
    pub email_change: Option<String>,
    pub email_change_token_new: Option<String>,
    pub email_change_token_current: Option<String>,
    pub email_change_sent_at: Option<DateTime<Utc>>,
    pub email_change_confirm_status: Option<i16>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub raw_app_meta_data: Option<Value>,
    pub raw_user_meta_data: Option<Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
}

impl UserRow {
    pub(super) fn email(&self) -> &str {
        self.email.as_deref().unwrap_or("")
    }

    /// GoTrue's `IsConfirmed`.
    pub(super) fn is_confirmed(&self) -> bool {
        self.email_confirmed_at.is_some()
    }

    pub(super) fn is_banned(&self) -> bool {
        self.banned_until.is_some_and(|until| until > Utc::now())
    }

    pub(super) fn password_hash(&self) -> Option<&str> {
        self.encrypted_password.as_deref().filter(|h| !h.is_empty())
    }

    pub(super) fn app_metadata(&self) -> Value {
        object_or_empty(self.raw_app_meta_data.as_ref())
    }

    pub(super) fn user_metadata(&self) -> Value {
        object_or_empty(self.raw_user_meta_data.as_ref())
    }
}

fn object_or_empty(value: Option<&Value>) -> Value {
    match value {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        _ => Value::Object(Map::new()),
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct IdentityRow {
    pub id: Uuid,
    pub provider_id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub email: Option<String>,
}

/// RFC 3339 with the sub-second digits Go prints.
pub(super) fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(super) async fn by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from auth.users where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// `FindUserByEmailAndAudience` (non-SSO accounts, case-insensitive).
pub(super) async fn by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from auth.users \
         where lower(email) = lower($1) and aud = $2 and is_sso_user = false \
         order by created_at limit 1"
    ))
    .bind(email)
    .bind(AUTHENTICATED)
    .fetch_optional(conn)
    .await
}

/// The user, locked for the rest of the transaction.
pub(super) async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from auth.users where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub(super) async fn identities(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<IdentityRow>, sqlx::Error> {
    sqlx::query_as::<_, IdentityRow>(
        "select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, \
         updated_at, email from auth.identities where user_id = $1 order by created_at, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// The user object of GoTrue's answers (`UserSchema`), identities included.
pub(super) async fn to_json(conn: &mut PgConnection, user: &UserRow) -> Result<Value, sqlx::Error> {
    let identities = identities(conn, user.id).await?;
    Ok(render(user, &identities))
}

fn render(user: &UserRow, identities: &[IdentityRow]) -> Value {
    let created = user.created_at.unwrap_or_default();
    let mut out = json!({
        "id": user.id,
        "aud": user.aud.as_deref().unwrap_or(""),
        "role": user.role.as_deref().unwrap_or(""),
        "email": user.email(),
        "phone": user.phone.as_deref().unwrap_or(""),
        "app_metadata": user.app_metadata(),
        "user_metadata": user.user_metadata(),
        "identities": identities.iter().map(identity_json).collect::<Vec<_>>(),
        "created_at": timestamp(&created),
        "updated_at": timestamp(&user.updated_at.unwrap_or(created)),
        "is_anonymous": user.is_anonymous,
    });
    let optional_times = [
        ("email_confirmed_at", &user.email_confirmed_at),
        ("invited_at", &user.invited_at),
        ("phone_confirmed_at", &user.phone_confirmed_at),
        ("confirmation_sent_at", &user.confirmation_sent_at),
        ("confirmed_at", &user.confirmed_at),
        ("recovery_sent_at", &user.recovery_sent_at),
        ("email_change_sent_at", &user.email_change_sent_at),
        ("last_sign_in_at", &user.last_sign_in_at),
        ("banned_until", &user.banned_until),
        ("deleted_at", &user.deleted_at),
    ];
    if let Value::Object(map) = &mut out {
        for (key, at) in optional_times {
            if let Some(at) = at {
                map.insert(key.into(), json!(timestamp(at)));
            }
        }
        if let Some(new_email) = user.email_change.as_deref().filter(|e| !e.is_empty()) {
            map.insert("new_email".into(), json!(new_email));
        }
    }
    out
}

/// An identity as GoTrue serialises it: `identity_id` is the row id, `id` the provider's id.
fn identity_json(identity: &IdentityRow) -> Value {
    let mut out = json!({
        "identity_id": identity.id,
        "id": identity.provider_id,
        "user_id": identity.user_id,
        "identity_data": identity.identity_data,
        "provider": identity.provider,
        "created_at": timestamp(&identity.created_at.unwrap_or_default()),
        "updated_at": timestamp(&identity.updated_at.unwrap_or_default()),
    });
    if let Value::Object(map) = &mut out {
        if let Some(at) = &identity.last_sign_in_at {
            map.insert("last_sign_in_at".into(), json!(timestamp(at)));
        }
        if let Some(email) = identity.email.as_deref().filter(|e| !e.is_empty()) {
            map.insert("email".into(), json!(email));
        }
    }
    out
}

/// A new `auth.users` row as GoTrue inserts it. `password_hash: None` stores an empty hash
/// (GoTrue's "no password").
pub(super) struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub user_metadata: Value,
    pub provider: &'a str,
}

/// Inserts the user (the signup triggers fire here) and returns its id.
pub(super) async fn insert(conn: &mut PgConnection, new: NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, \
           confirmation_token, recovery_token, email_change_token_new, email_change, \
           raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at, \
           is_sso_user, is_anonymous) \
         values ($1, $2, $3, $3, $4, $5, '', '', '', '', $6, $7, false, now(), now(), false, false)",
    )
    .bind(Uuid::nil())
    .bind(id)
    .bind(AUTHENTICATED)
    .bind(new.email.to_lowercase())
    .bind(new.password_hash.unwrap_or(""))
    .bind(json!({"provider": new.provider, "providers": [new.provider]}))
    .bind(new.user_metadata)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Adds an identity (`provider_id` from `identity_data.sub`), returning its id.
pub(super) async fn insert_identity(
    conn: &mut PgConnection,
    user_id: Uuid,
    provider: &str,
    provider_id: &str,
    identity_data: &Value,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, \
           last_sign_in_at, created_at, updated_at) \
         values ($1, $2, $3, $4, now(), now(), now()) returning id",
    )
    .bind(provider_id)
    .bind(user_id)
    .bind(identity_data)
    .bind(provider)
    .fetch_one(conn)
    .await
}

/// `UpdateUserMetaData`: keys merge in, `null` values delete.
pub(super) async fn merge_user_metadata(
    conn: &mut PgConnection,
    user_id: Uuid,
    updates: &Map<String, Value>,
) -> Result<(), sqlx::Error> {
    let set: Map<String, Value> = updates
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed: Vec<String> = updates
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    sqlx::query(
        "update auth.users set raw_user_meta_data = \
           (coalesce(raw_user_meta_data, '{}'::jsonb) || $2) - $3::text[], updated_at = now() \
         where id = $1",
    )
    .bind(user_id)
    .bind(Value::Object(set))
    .bind(removed)
    .execute(conn)
    .await?;
    Ok(())
}

/// `User.Confirm`: marks the email confirmed, drops the confirmation token, records
/// `email_verified` in the metadata and clears every one-time token.
pub(super) async fn confirm(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update auth.users set email_confirmed_at = now(), confirmation_token = '', \
           raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || '{\"email_verified\": true}', \
           updated_at = now() \
         where id = $1",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    clear_one_time_tokens(conn, user_id).await
}

pub(super) async fn clear_one_time_tokens(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from auth.one_time_tokens where user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// `CreateOneTimeToken`: at most one token of each kind per user.
pub(super) async fn store_one_time_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: &str,
    token_hash: &str,
    relates_to: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "delete from auth.one_time_tokens where user_id = $1 and token_type = $2::auth.one_time_token_type",
    )
    .bind(user_id)
    .bind(kind)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to) \
         values ($1, $2, $3::auth.one_time_token_type, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(kind)
    .bind(token_hash)
    .bind(relates_to.to_lowercase())
    .execute(conn)
    .await?;
    Ok(())
}

/// `UpdateAppMetaDataProviders`: `providers` lists the user's identity providers, `provider`
/// the first of them.
pub(super) async fn refresh_providers(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    let providers: Vec<String> = sqlx::query_scalar(
        "select provider from auth.identities where user_id = $1 \
         group by provider order by min(created_at), provider",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut patch = json!({"providers": providers});
    if let (Some(first), Value::Object(map)) = (providers.first(), &mut patch) {
        map.insert("provider".into(), json!(first));
    }
    sqlx::query(
        "update auth.users set raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || $2, \
           updated_at = now() where id = $1",
    )
    .bind(user_id)
    .bind(patch)
    .execute(conn)
    .await?;
    Ok(())
}
