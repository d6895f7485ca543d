//! Deletes: `DELETE /object/{bucket}/{name}` → `{"message": "Successfully deleted"}`, and
//! `DELETE /object/{bucket}` `{"prefixes": [names]}` → the deleted rows.
//!
//! A row is deleted as the caller (their `delete` policies decide) and its file only once that
//! is committed, so a refused or failed delete leaves the object whole.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
};
use serde_json::{Value, json};

use super::{
    Twin,
    caller::{Caller, RequestContext},
    error::{StorageError, StorageResult},
    json_body, objects, string_list_field,
};

const DELETE_OBJECT: &str = "storage.object.delete";
const DELETE_OBJECTS: &str = "storage.object.delete_many";

/// Storage deletes in batches of this many names, each in a transaction of its own.
const BATCH: usize = 500;

/// `DELETE /object/{bucket}/{name}`: a missing object is `Object not found`; one the caller
/// may not delete (their policies hide or protect it) is `Access denied`.
pub(super) async fn delete_one(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    request: RequestContext,
) -> StorageResult<Json<Value>> {
    let caller = Caller::authenticate(&twin, request)?;
    let mut tx = caller.begin(&twin, DELETE_OBJECT).await?;
    // As Storage: the row is found (and locked) as the service role, then deleted as the caller.
    caller.as_service(&twin).act(&mut tx, DELETE_OBJECT).await?;
    let found = objects::find_for_update(&mut tx, &bucket, &name)
        .await?
        .ok_or_else(StorageError::no_such_key)?;
    caller.act(&mut tx, DELETE_OBJECT).await?;
    if objects::delete(&mut tx, &bucket, &name).await?.is_none() {
        return Err(StorageError::access_denied("Access denied"));
    }
    // Worked out before committing: a name that maps outside the storage folder undoes it.
    let path = twin.files.path(&bucket, &name, found.version.as_deref())?;
    tx.commit().await?;
    twin.files.remove(&path).await;
    Ok(Json(json!({"message": "Successfully deleted"})))
}

/// `DELETE /object/{bucket}` `{"prefixes": [...]}`: the names (exact names, despite the field's
/// name) the caller may delete are deleted; the answer lists their rows, the others are left
/// out silently.
pub(super) async fn delete_many(
    State(twin): State<Twin>,
    Path(bucket): Path<String>,
    request: RequestContext,
    body: Body,
) -> StorageResult<Json<Vec<objects::DeletedObject>>> {
    let body = json_body(body).await?;
    let names = string_list_field(&body, "prefixes", None)?;
    let caller = Caller::authenticate(&twin, request)?;
    let mut deleted_rows = Vec::new();
    for batch in names.chunks(BATCH) {
        let mut tx = caller.begin(&twin, DELETE_OBJECTS).await?;
        let deleted = objects::delete_many(&mut tx, &bucket, batch).await?;
        let paths = deleted
            .iter()
            .map(|row| {
                twin.files.path(
                    &bucket,
                    row.name.as_deref().unwrap_or_default(),
                    row.version.as_deref(),
                )
            })
            .collect::<StorageResult<Vec<_>>>()?;
        tx.commit().await?;
        for path in &paths {
            twin.files.remove(path).await;
        }
        deleted_rows.extend(deleted);
    }
    Ok(Json(deleted_rows))
}
