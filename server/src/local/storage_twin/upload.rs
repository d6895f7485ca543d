//! Uploads: `POST /object/{bucket}/{name}` (`x-upsert: true` overwrites) and
//! `PUT /object/{bucket}/{name}` (always overwrites) → `{"Id", "Key"}`.
//!
//! Storage's steps, in its order: the bucket must exist; the body is a raw stream (its
//! `Content-Type` is the mimetype, `Cache-Control` the cache control, default `no-cache`) or a
//! `multipart/form-data` form (its first file part, with optional `cacheControl` — seconds —,
//! `contentType` and `metadata` fields before it, as supabase-js sends a `Blob`); the type must
//! be one of the bucket's `allowed_mime_types` (`image/*` wildcards included); a declared
//! `Content-Length` over the limit is refused at once; the name must be a valid key; the
//! caller's policies are tried with the insert (or upsert) Storage will do, in a transaction
//! rolled back; then the bytes are streamed to disk, refused the moment they pass the limit,
//! and the row is written as the service role under a per-object lock. A refused upload
//! leaves no row and no file; its body is read to the end (up to [`DRAIN_LIMIT`]) before the
//! answer, so the client is not cut off mid-send.

use std::{collections::HashMap, pin::Pin};

use axum::{
    Json,
    body::{Body, Bytes, HttpBody},
    extract::{FromRequest, Multipart, Path, Request, State, multipart::Field},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    GLOBAL_FILE_SIZE_LIMIT, Twin,
    caller::{Caller, RequestContext},
    error::{StorageError, StorageResult},
    files::{StoreError, UploadStream},
    key, objects,
};

const CREATE_OBJECT: &str = "storage.object.upload";
const UPDATE_OBJECT: &str = "storage.object.upload_update";

/// How much of a refused upload's body is read (and thrown away) before answering.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Busboy's limit on a form field's value (longer values are cut).
const FIELD_LIMIT: usize = 1024 * 1024;

/// Storage's limit on custom metadata.
const USER_METADATA_LIMIT: usize = 1024 * 1024;

/// The answer to an upload.
#[derive(Debug, Serialize)]
struct Uploaded {
    #[serde(rename = "Id")]
    id: Uuid,
    #[serde(rename = "Key")]
    key: String,
}

/// Where an upload goes.
struct Target {
    bucket: String,
    name: String,
    upsert: bool,
    operation: &'static str,
}

/// `POST /object/{bucket}/{name}`.
pub(super) async fn create(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    context: RequestContext,
    request: Request,
) -> Response {
    let upsert = request
        .headers()
        .get("x-upsert")
        .is_some_and(|v| v.as_bytes() == b"true");
    let target = Target {
        bucket,
        name,
        upsert,
        operation: CREATE_OBJECT,
    };
    receive(&twin, target, context, request).await
}

/// `PUT /object/{bucket}/{name}`.
pub(super) async fn update(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    context: RequestContext,
    request: Request,
) -> Response {
    let target = Target {
        bucket,
        name,
        upsert: true,
        operation: UPDATE_OBJECT,
    };
    receive(&twin, target, context, request).await
}

async fn receive(
    twin: &Twin,
    target: Target,
    context: RequestContext,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let is_form = header_text(&headers, header::CONTENT_TYPE)
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let result = if is_form {
        match Multipart::from_request(request, &()).await {
            Ok(mut form) => {
                let result = upload_form(twin, &target, context, &headers, &mut form).await;
                if result.is_err() {
                    drain_form(&mut form).await;
                }
                result
            }
            Err(rejection) => Err(StorageError::no_content(rejection.body_text())),
        }
    } else {
        let mut body = RawUpload(request.into_body());
        let result = upload_raw(twin, &target, context, &headers, &mut body).await;
        if result.is_err() {
            drain(&mut body).await;
        }
        result
    };
    match result {
        Ok(uploaded) => Json(uploaded).into_response(),
        Err(error) => error.into_response(),
    }
}

/// What Storage learns about the file before its bytes.
struct FileUpload {
    mimetype: String,
    cache_control: String,
    /// The request's `Content-Length`, as declared.
    declared_length: Option<u64>,
    user_metadata: Option<Value>,
}

async fn upload_raw(
    twin: &Twin,
    target: &Target,
    context: RequestContext,
    headers: &HeaderMap,
    body: &mut RawUpload,
) -> StorageResult<Uploaded> {
    let caller = Caller::authenticate(twin, context)?;
    let (limit, allowed) = bucket_rules(twin, &caller, target).await?;
    let mimetype = header_text(headers, header::CONTENT_TYPE)
        .unwrap_or("application/octet-stream")
        .to_string();
    check_mime_type(&target.name, &mimetype, &allowed)?;
    let declared_length = header_text(headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
    if declared_length.is_some_and(|length: u64| length > limit) {
        return Err(StorageError::entity_too_large("object"));
    }
    let file = FileUpload {
        mimetype,
        cache_control: header_text(headers, header::CACHE_CONTROL)
            .unwrap_or("no-cache")
            .to_string(),
        declared_length,
        // Storage's `x-metadata`: base64 of a JSON object.
        user_metadata: header_text(headers, header::HeaderName::from_static("x-metadata"))
            .and_then(|v| STANDARD.decode(v).ok())
            .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
            .filter(Value::is_object),
    };
    store(twin, &caller, target, file, limit, body).await
}

async fn upload_form(
    twin: &Twin,
    target: &Target,
    context: RequestContext,
    headers: &HeaderMap,
    form: &mut Multipart,
) -> StorageResult<Uploaded> {
    let caller = Caller::authenticate(twin, context)?;
    let (limit, allowed) = bucket_rules(twin, &caller, target).await?;
    // Busboy's view: the fields before the first file part, then that file.
    let mut fields: HashMap<String, String> = HashMap::new();
    let file = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.file_name().is_some() => break field,
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let value = field_text(field).await?;
                fields.insert(name, value);
            }
            Ok(None) => return Err(StorageError::no_content("No content provided")),
            Err(error) => return Err(StorageError::no_content(error.body_text())),
        }
    };
    let field = |name: &str| fields.get(name).filter(|v| !v.is_empty());
    let mimetype = field("contentType")
        .cloned()
        .or_else(|| {
            file.content_type().map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
        })
        .unwrap_or_else(|| "text/plain".into());
    check_mime_type(&target.name, &mimetype, &allowed)?;
    let custom = fields
        .get("metadata")
        .or_else(|| fields.get("userMetadata"));
    if custom.is_some_and(|custom| custom.len() > USER_METADATA_LIMIT) {
        return Err(StorageError::entity_too_large("user_metadata"));
    }
    let upload = FileUpload {
        mimetype,
        cache_control: field("cacheControl").map_or_else(
            || "no-cache".to_string(),
            |seconds| format!("max-age={seconds}"),
        ),
        declared_length: header_text(headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        user_metadata: custom
            .and_then(|custom| serde_json::from_str::<Value>(custom).ok())
            .filter(Value::is_object),
    };
    store(twin, &caller, target, upload, limit, &mut FormFile(file)).await
}

/// The bucket (looked up as the service role) and what it allows: the size limit in bytes
/// (0 for an empty-folder placeholder) and the allowed types (none for a placeholder).
async fn bucket_rules(
    twin: &Twin,
    caller: &Caller,
    target: &Target,
) -> StorageResult<(u64, Vec<String>)> {
    let service = caller.as_service(twin);
    let mut tx = service.begin(twin, target.operation).await?;
    let bucket = objects::find_bucket(&mut tx, &target.bucket).await?;
    tx.commit().await?;
    let bucket = bucket.ok_or_else(StorageError::no_such_bucket)?;
    if key::is_empty_folder(&target.name) {
        return Ok((0, Vec::new()));
    }
    let limit = bucket
        .file_size_limit
        .and_then(|limit| u64::try_from(limit).ok())
        .map_or(GLOBAL_FILE_SIZE_LIMIT, |limit| {
            limit.min(GLOBAL_FILE_SIZE_LIMIT)
        });
    Ok((limit, bucket.allowed_mime_types.unwrap_or_default()))
}

/// Storage's `validateMimeType`: `type/subtype` must match an allowed `type/subtype` or
/// `type/*` exactly (no parameters, case-sensitive).
fn check_mime_type(name: &str, mimetype: &str, allowed: &[String]) -> StorageResult<()> {
    if allowed.is_empty() || key::is_empty_folder(name) {
        return Ok(());
    }
    let requested: Vec<&str> = mimetype.split('/').collect();
    let matches = requested.len() >= 2
        && allowed.iter().any(|allowed| {
            let mut parts = allowed.split('/');
            let allowed_type = parts.next().unwrap_or_default();
            parts.next().is_some_and(|subtype| {
                allowed_type == requested[0] && (subtype == "*" || subtype == requested[1])
            })
        });
    if matches {
        Ok(())
    } else {
        Err(StorageError::invalid_mime_type(mimetype))
    }
}

/// The rest of an upload once its type and declared size passed: key, policies, bytes, row.
async fn store(
    twin: &Twin,
    caller: &Caller,
    target: &Target,
    file: FileUpload,
    limit: u64,
    upload: &mut impl UploadStream,
) -> StorageResult<Uploaded> {
    let (bucket, name) = (target.bucket.as_str(), target.name.as_str());
    key::must_be_valid_key(name)?;
    try_policies(twin, caller, target, &file).await?;

    let version = Uuid::new_v4().to_string();
    let path = twin.files.path(bucket, name, Some(&version))?;
    let stored = match twin.files.store(&path, upload, limit).await {
        Ok(stored) => stored,
        Err(StoreError::TooLarge) => return Err(StorageError::entity_too_large("object")),
        Err(StoreError::Interrupted(reason)) => return Err(StorageError::no_content(reason)),
        Err(StoreError::Io(error)) => return Err(StorageError::internal(error)),
    };
    let metadata = json!({
        "eTag": stored.e_tag,
        "size": stored.size,
        "mimetype": file.mimetype,
        "cacheControl": file.cache_control,
        "lastModified": objects::js_iso(stored.last_modified),
        "contentLength": stored.size,
        "httpStatusCode": 200,
    });
    let user_metadata = file.user_metadata.unwrap_or_else(|| json!({}));
    let row = objects::ObjectRow {
        bucket,
        name,
        owner: caller.owner(),
        metadata: &metadata,
        user_metadata: Some(&user_metadata),
        version: &version,
    };
    // Storage's `completeUpload`: as the service role, one writer per object at a time.
    let service = caller.as_service(twin);
    let completed: StorageResult<_> = async {
        let mut tx = service.begin(twin, target.operation).await?;
        objects::lock(&mut tx, bucket, name)
            .await
            .map_err(|error| match StorageError::from(error) {
                locked if locked == StorageError::resource_locked() => StorageError::lock_timeout(),
                other => other,
            })?;
        let previous = objects::find_for_update(&mut tx, bucket, name).await?;
        let id = objects::upsert(&mut tx, &row).await?;
        tx.commit().await?;
        Ok((id, previous.and_then(|previous| previous.version)))
    }
    .await;
    let (id, previous_version) = match completed {
        Ok(completed) => completed,
        Err(error) => {
            twin.files.remove(&path).await;
            return Err(error);
        }
    };
    if let Some(previous) = previous_version.filter(|previous| *previous != version)
        && let Ok(previous) = twin.files.path(bucket, name, Some(&previous))
    {
        twin.files.remove(&previous).await;
    }
    Ok(Uploaded {
        id,
        key: format!("{bucket}/{name}"),
    })
}

/// Storage's `canUpload`: the insert (or upsert) it will make, tried as the caller and rolled
/// back, so policies refuse before any byte is stored. A plain insert over an existing name is
/// the `Duplicate` answer.
async fn try_policies(
    twin: &Twin,
    caller: &Caller,
    target: &Target,
    file: &FileUpload,
) -> StorageResult<()> {
    let mut metadata = json!({"mimetype": file.mimetype});
    if let Some(length) = file.declared_length {
        metadata["contentLength"] = json!(length);
    }
    let row = objects::ObjectRow {
        bucket: &target.bucket,
        name: &target.name,
        owner: caller.owner(),
        metadata: &metadata,
        user_metadata: file.user_metadata.as_ref(),
        version: "1",
    };
    let mut tx = caller.begin(twin, target.operation).await?;
    let tried = if target.upsert {
        objects::upsert(&mut tx, &row).await.map(drop)
    } else {
        objects::insert(&mut tx, &row).await
    };
    // The try never stays.
    let _ = tx.rollback().await;
    tried.map_err(|error| match StorageError::from(error) {
        duplicate if duplicate == StorageError::resource_already_exists() => {
            StorageError::key_already_exists()
        }
        other => other,
    })
}

/// A raw request body.
struct RawUpload(Body);

impl UploadStream for RawUpload {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, String>> {
        loop {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut self.0).poll_frame(cx)).await?;
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(Ok(data));
                    }
                }
                Err(_) => {
                    return Some(Err(
                        "Request stream closed before upload could complete".into()
                    ));
                }
            }
        }
    }
}

/// A form's file part.
struct FormFile<'a>(Field<'a>);

impl UploadStream for FormFile<'_> {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, String>> {
        self.0
            .chunk()
            .await
            .map_err(|error| error.body_text())
            .transpose()
    }
}

/// A form field's value, cut at busboy's limit.
async fn field_text(mut field: Field<'_>) -> StorageResult<String> {
    let mut value = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| StorageError::no_content(error.body_text()))?
    {
        let room = FIELD_LIMIT.saturating_sub(value.len());
        value.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(String::from_utf8_lossy(&value).into_owned())
}

/// Reads what is left of a refused raw upload, up to [`DRAIN_LIMIT`].
async fn drain(body: &mut RawUpload) {
    let mut read: u64 = 0;
    while let Some(Ok(chunk)) = body.next_chunk().await {
        read += chunk.len() as u64;
        if read > DRAIN_LIMIT {
            return;
        }
    }
}

/// Reads what is left of a refused form, up to [`DRAIN_LIMIT`].
async fn drain_form(form: &mut Multipart) {
    let mut read: u64 = 0;
    while let Ok(Some(field)) = form.next_field().await {
        let mut field = FormFile(field);
        while let Some(Ok(chunk)) = field.next_chunk().await {
            read += chunk.len() as u64;
            if read > DRAIN_LIMIT {
                return;
            }
        }
    }
}

/// A header's value as text, when it is text.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_match_as_storage_matches_them() {
        let allowed = vec!["image/png".to_string(), "video/*".to_string()];
        assert!(check_mime_type("a", "image/png", &allowed).is_ok());
        assert!(check_mime_type("a", "video/mp4", &allowed).is_ok());
        assert!(check_mime_type("a", "anything", &[]).is_ok());
        assert!(check_mime_type("a/.emptyFolderPlaceholder", "text/plain", &allowed).is_ok());
        for refused in [
            "image/jpeg",
            "image/png; charset=binary",
            "IMAGE/PNG",
            "image",
            "text/plain",
        ] {
            assert_eq!(
                check_mime_type("a", refused, &allowed).unwrap_err(),
                StorageError::invalid_mime_type(refused),
                "{refused}"
            );
        }
    }
}
