//! The twin's SQL on `storage.buckets` and `storage.objects`: the statements Storage's database
//! layer runs, each on a connection already switched to the role it runs as
//! ([`super::caller::Caller`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// The bucket settings an upload or download needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Bucket {
    pub(super) public: Option<bool>,
    pub(super) file_size_limit: Option<i64>,
    pub(super) allowed_mime_types: Option<Vec<String>>,
}

pub(super) async fn find_bucket(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Bucket>, sqlx::Error> {
    sqlx::query_as(
        "select public, file_size_limit, allowed_mime_types
           from storage.buckets where id = $1 limit 1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// An object row as reads need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct FoundObject {
    pub(super) version: Option<String>,
    pub(super) metadata: Option<Value>,
}

/// `findObject`: the row of `bucket/name`, if the role the connection runs as may see it.
pub(super) async fn find(
    conn: &mut PgConnection,
    bucket: &str,
    name: &str,
) -> Result<Option<FoundObject>, sqlx::Error> {
    sqlx::query_as(
        "select version, metadata from storage.objects
          where name = $1 and bucket_id = $2 limit 1",
    )
    .bind(name)
    .bind(bucket)
    .fetch_optional(conn)
    .await
}

/// `findObject(…, { forUpdate: true })`.
pub(super) async fn find_for_update(
    conn: &mut PgConnection,
    bucket: &str,
    name: &str,
) -> Result<Option<FoundObject>, sqlx::Error> {
    sqlx::query_as(
        "select version, metadata from storage.objects
          where name = $1 and bucket_id = $2 limit 1 for update",
    )
    .bind(name)
    .bind(bucket)
    .fetch_optional(conn)
    .await
}

/// `findObjects`: which of `names` exist in `bucket` and may be seen.
pub(super) async fn find_names(
    conn: &mut PgConnection,
    bucket: &str,
    names: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select name from storage.objects where bucket_id = $1 and name = any($2::text[])",
    )
    .bind(bucket)
    .bind(names)
    .fetch_all(conn)
    .await
}

/// The columns an upload writes.
#[derive(Debug, Clone)]
pub(super) struct ObjectRow<'a> {
    pub(super) bucket: &'a str,
    pub(super) name: &'a str,
    /// The uploader's JWT `sub`, verbatim (`owner_id`); `owner` only when it is a uuid.
    pub(super) owner: Option<&'a str>,
    pub(super) metadata: &'a Value,
    pub(super) user_metadata: Option<&'a Value>,
    pub(super) version: &'a str,
}

impl ObjectRow<'_> {
    fn owner_uuid(&self) -> Option<Uuid> {
        self.owner.and_then(|owner| Uuid::parse_str(owner).ok())
    }
}

/// `createObject`: a plain insert (an existing name is a unique violation).
pub(super) async fn insert(
    conn: &mut PgConnection,
    row: &ObjectRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into storage.objects (name, owner, owner_id, bucket_id, metadata, version, user_metadata)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.name)
    .bind(row.owner_uuid())
    .bind(row.owner)
    .bind(row.bucket)
    .bind(row.metadata)
    .bind(row.version)
    .bind(row.user_metadata)
    .execute(conn)
    .await?;
    Ok(())
}

/// `upsertObject`: insert, or overwrite the existing row's metadata, version and — when the
/// uploader has a `sub` — owner; returns the row's id (an overwritten row keeps its id).
/// Storage's schema bumps `updated_at` with a trigger the compatibility schema lacks, so the
/// update sets it here.
pub(super) async fn upsert(
    conn: &mut PgConnection,
    row: &ObjectRow<'_>,
) -> Result<Uuid, sqlx::Error> {
    let owner_update = if row.owner.is_some() {
        ", owner = excluded.owner, owner_id = excluded.owner_id"
    } else {
        ""
    };
    sqlx::query_scalar(&format!(
        "insert into storage.objects (name, owner, owner_id, bucket_id, metadata, user_metadata, version)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (name, bucket_id) do update
            set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
                version = excluded.version, updated_at = now(){owner_update}
         returning id"
    ))
    .bind(row.name)
    .bind(row.owner_uuid())
    .bind(row.owner)
    .bind(row.bucket)
    .bind(row.metadata)
    .bind(row.user_metadata)
    .bind(row.version)
    .fetch_one(conn)
    .await
}

/// `waitObjectLock`: serializes the writes of one object for the rest of the transaction,
/// waiting at most five seconds (`55P03` after that).
pub(super) async fn lock(
    conn: &mut PgConnection,
    bucket: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "select set_config('lock_timeout', '5s', true),
                pg_advisory_xact_lock(hashtextextended($1, 0))",
    )
    .bind(format!("{bucket}/{name}"))
    .execute(conn)
    .await?;
    Ok(())
}

/// A deleted row, serialized as Storage's `objectSchema` renders it: its fields in that order,
/// a missing text value as `""`, times as JavaScript's `toISOString()`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct DeletedObject {
    pub(super) id: Uuid,
    pub(super) bucket_id: Option<String>,
    pub(super) name: Option<String>,
    pub(super) owner: Option<Uuid>,
    pub(super) owner_id: Option<String>,
    pub(super) version: Option<String>,
    pub(super) created_at: Option<DateTime<Utc>>,
    pub(super) updated_at: Option<DateTime<Utc>>,
    pub(super) last_accessed_at: Option<DateTime<Utc>>,
    pub(super) metadata: Option<Value>,
    pub(super) user_metadata: Option<Value>,
}

#[derive(Serialize)]
struct RenderedObject<'a> {
    name: &'a str,
    bucket_id: &'a str,
    owner: String,
    owner_id: &'a str,
    version: &'a str,
    id: String,
    updated_at: Option<String>,
    created_at: Option<String>,
    last_accessed_at: Option<String>,
    metadata: &'a Option<Value>,
    user_metadata: &'a Option<Value>,
}

impl Serialize for DeletedObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RenderedObject {
            name: self.name.as_deref().unwrap_or_default(),
            bucket_id: self.bucket_id.as_deref().unwrap_or_default(),
            owner: self.owner.map(|o| o.to_string()).unwrap_or_default(),
            owner_id: self.owner_id.as_deref().unwrap_or_default(),
            version: self.version.as_deref().unwrap_or_default(),
            id: self.id.to_string(),
            updated_at: self.updated_at.map(js_iso),
            created_at: self.created_at.map(js_iso),
            last_accessed_at: self.last_accessed_at.map(js_iso),
            metadata: &self.metadata,
            user_metadata: &self.user_metadata,
        }
        .serialize(serializer)
    }
}

/// JavaScript's `Date.prototype.toISOString()`.
pub(super) fn js_iso(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

const DELETED_COLUMNS: &str = "id, bucket_id, name, owner, owner_id, version, created_at, \
     updated_at, last_accessed_at, metadata, user_metadata";

/// `deleteObject`: the deleted row, if the role the connection runs as could delete it.
pub(super) async fn delete(
    conn: &mut PgConnection,
    bucket: &str,
    name: &str,
) -> Result<Option<DeletedObject>, sqlx::Error> {
    sqlx::query_as(&format!(
        "delete from storage.objects where name = $1 and bucket_id = $2 returning {DELETED_COLUMNS}"
    ))
    .bind(name)
    .bind(bucket)
    .fetch_optional(conn)
    .await
}

/// `deleteObjects`: the rows among `names` the role could delete.
pub(super) async fn delete_many(
    conn: &mut PgConnection,
    bucket: &str,
    names: &[String],
) -> Result<Vec<DeletedObject>, sqlx::Error> {
    sqlx::query_as(&format!(
        "delete from storage.objects where bucket_id = $1 and name = any($2::text[]) \
         returning {DELETED_COLUMNS}"
    ))
    .bind(bucket)
    .bind(names)
    .fetch_all(conn)
    .await
}
