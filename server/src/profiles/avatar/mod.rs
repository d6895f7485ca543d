//! Avatars: a person's picture, stored in the private `avatars` bucket at `{user id}/avatar` and
//! shown through short-lived signed URLs. A change is made as the person: Storage holds the
//! upload to their own folder by the bucket's policies, and the profile row is written in a
//! transaction as them, audited.

pub mod clean;
pub mod routes;
pub mod signed_urls;

use std::time::Duration;

use app::avatar::AvatarError;
use axum::body::Bytes;
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::{self, AuditAction, AuditContext, AuditEntry},
    auth::jwt::AccessClaims,
    db::user_scope::begin_as_user,
    storage::{Caller, StorageClient, StorageError, Upload},
};
use signed_urls::SignedUrls;

/// The bucket (created by migration 7: private, 2 MiB, the four picture types).
pub const BUCKET: &str = "avatars";

/// Where a person's avatar lives in [`BUCKET`].
pub fn object_path(user: Uuid) -> String {
    format!("{user}/avatar")
}

/// The signed-in person a change is for: their verified claims (for the database) and their
/// access token (for Storage).
pub struct Owner<'a> {
    pub claims: &'a AccessClaims,
    pub access_token: &'a str,
}

/// The avatar capability.
pub struct Avatars {
    pool: PgPool,
    storage: StorageClient,
    urls: SignedUrls,
}

impl Avatars {
    /// Signed URLs live `url_ttl` (`AVATAR_URL_TTL`).
    pub fn new(pool: PgPool, storage: StorageClient, url_ttl: Duration) -> Self {
        Self {
            pool,
            storage,
            urls: SignedUrls::new(url_ttl),
        }
    }

    /// Checks and cleans `file` (off the async runtime), stores it as the owner's avatar and
    /// records it on their profile. Answers the new picture's signed URL.
    pub async fn replace(
        &self,
        owner: &Owner<'_>,
        context: &AuditContext<'_>,
        file: Bytes,
    ) -> Result<String, AvatarError> {
        let picture = tokio::task::spawn_blocking(move || clean::clean(&file))
            .await
            .map_err(|error| {
                tracing::error!(%error, "the avatar check did not finish");
                AvatarError::Unavailable
            })??;
        let path = object_path(owner.claims.sub);
        let mut tx = begin_as_user(&self.pool, &owner.claims.raw)
            .await
            .map_err(database_failed)?;
        // One change at a time per person, across every server: the row stays locked until this
        // picture is stored and recorded, so the profile always names the last one stored.
        let before = sqlx::query_scalar!(
            "select avatar_path from public.profiles where id = $1 for update",
            owner.claims.sub
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_failed)?
        .ok_or(AvatarError::NotSignedIn)?;
        let (bytes, width, height) = (picture.bytes.len(), picture.width, picture.height);
        self.storage
            .upload(
                Caller::User(owner.access_token),
                Upload {
                    bucket: BUCKET,
                    path: &path,
                    content_type: picture.content_type,
                    // A browser keeps the picture no longer than the URL it came by still lives.
                    max_age: self.urls.ttl() / 2,
                    bytes: Bytes::from(picture.bytes),
                },
            )
            .await
            .map_err(storage_failed)?;
        let updated_at = sqlx::query_scalar!(
            r#"update public.profiles set avatar_path = $2, avatar_updated_at = now()
               where id = $1 returning avatar_updated_at as "updated_at!""#,
            owner.claims.sub,
            path
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(database_failed)?;
        let entry = AuditEntry {
            action: AuditAction::AvatarUpdated,
            target_type: "user",
            target_id: &owner.claims.sub.to_string(),
            metadata: json!({
                "content_type": picture.content_type,
                "bytes": bytes,
                "width": width,
                "height": height,
                "replaced": before.is_some(),
            }),
        };
        audit_and_commit(tx, context, entry).await?;
        self.urls.forget(&path);
        self.url(Caller::User(owner.access_token), &path, updated_at)
            .await
            .ok_or(AvatarError::Unavailable)
    }

    /// Deletes the owner's avatar and clears it from their profile (nothing to do when they
    /// have none).
    pub async fn remove(
        &self,
        owner: &Owner<'_>,
        context: &AuditContext<'_>,
    ) -> Result<(), AvatarError> {
        let mut tx = begin_as_user(&self.pool, &owner.claims.raw)
            .await
            .map_err(database_failed)?;
        let Some(path) = sqlx::query_scalar!(
            "select avatar_path from public.profiles where id = $1 for update",
            owner.claims.sub
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_failed)?
        .ok_or(AvatarError::NotSignedIn)?
        else {
            return Ok(());
        };
        self.storage
            .remove(Caller::User(owner.access_token), BUCKET, &[&path])
            .await
            .map_err(storage_failed)?;
        sqlx::query!(
            "update public.profiles set avatar_path = null, avatar_updated_at = null where id = $1",
            owner.claims.sub
        )
        .execute(&mut *tx)
        .await
        .map_err(database_failed)?;
        let entry = AuditEntry {
            action: AuditAction::AvatarRemoved,
            target_type: "user",
            target_id: &owner.claims.sub.to_string(),
            metadata: json!({}),
        };
        audit_and_commit(tx, context, entry).await?;
        self.urls.forget(&path);
        Ok(())
    }

    /// A signed URL for the picture at `path` that last changed at `updated_at`, reused while it
    /// has most of its life left. `None` when Storage will not sign it (the page shows initials
    /// instead; the reason is logged).
    pub async fn url(
        &self,
        caller: Caller<'_>,
        path: &str,
        updated_at: OffsetDateTime,
    ) -> Option<String> {
        let micros = updated_at.unix_timestamp_nanos() / 1000;
        let key = (path.to_string(), micros as i64);
        if let Some(url) = self.urls.get(&key) {
            return Some(url);
        }
        match self
            .storage
            .sign(caller, BUCKET, path, self.urls.ttl())
            .await
        {
            Ok(url) => {
                self.urls.put(key, url.clone());
                Some(url)
            }
            Err(error) => {
                tracing::warn!(%error, path, "could not sign an avatar URL");
                None
            }
        }
    }
}

/// Writes `entry` as the server (the audit log is not the person's to write) and commits the
/// person's change with it.
async fn audit_and_commit(
    mut tx: Transaction<'static, Postgres>,
    context: &AuditContext<'_>,
    entry: AuditEntry<'_>,
) -> Result<(), AvatarError> {
    sqlx::query("reset role")
        .execute(&mut *tx)
        .await
        .map_err(database_failed)?;
    audit::record(&mut *tx, context, entry)
        .await
        .map_err(database_failed)?;
    tx.commit().await.map_err(database_failed)
}

fn database_failed(error: sqlx::Error) -> AvatarError {
    tracing::error!(%error, "avatar change: database failed");
    AvatarError::Unavailable
}

/// Storage's refusal, in the person's terms where it is about the file; anything else is ours.
fn storage_failed(error: StorageError) -> AvatarError {
    match error.status() {
        Some(413) => AvatarError::TooLarge,
        Some(415) => AvatarError::NotAPicture,
        _ => {
            tracing::error!(%error, "avatar change: Storage failed");
            AvatarError::Unavailable
        }
    }
}
