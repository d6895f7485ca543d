//! Downloads: `GET /object/sign/{bucket}/{name}?token=…` (no key needed),
//! `GET /object/authenticated/{bucket}/{name}` (as the caller) and `GET /object/{bucket}/{name}`
//! (public buckets for anyone, private ones as a caller with a valid JWT).
//!
//! Answers carry Storage's headers: the stored `Content-Type` (`text/html` served as
//! `text/plain`), `Content-Length`, `ETag`, `Last-Modified`, `Accept-Ranges: bytes`,
//! `X-Robots-Tag: none`, `Content-Disposition` with `?download`, and `Expires` (signed URLs)
//! or the upload's `Cache-Control` (the others); `If-None-Match` / `If-Modified-Since` get 304.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    Twin,
    caller::{Caller, RequestContext},
    error::{StorageError, StorageResult},
    files::FileContents,
    key, objects, query_param, sign,
};

const GET_SIGNED_OBJECT: &str = "storage.object.get_signed";
const GET_AUTH_OBJECT: &str = "storage.object.get_authenticated";

/// `GET /object/sign/{bucket}/{name}?token=…[&download[=file name]]`.
pub(super) async fn signed(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    request: RequestContext,
    uri: Uri,
    headers: HeaderMap,
) -> StorageResult<Response> {
    let token = query_param(&uri, "token").ok_or_else(|| {
        StorageError::validation("querystring must have required property 'token'")
    })?;
    let token = sign::verify_download_token(&twin, &token, &bucket, &name)?;
    // As Storage: the object is the one the token names, looked up as the service role.
    let (bucket, name) = token
        .url
        .split_once('/')
        .unwrap_or((token.url.as_str(), ""));
    let reader = Caller::service(&twin, request);
    let delivery = Delivery {
        expires: token.exp,
        download: query_param(&uri, "download"),
    };
    serve(
        &twin,
        &reader,
        GET_SIGNED_OBJECT,
        bucket,
        name,
        &delivery,
        &headers,
    )
    .await
}

/// `GET /object/authenticated/{bucket}/{name}[?download]`: the caller's JWT is required.
pub(super) async fn authenticated(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    request: RequestContext,
    uri: Uri,
    headers: HeaderMap,
) -> StorageResult<Response> {
    let caller = Caller::authenticate(&twin, request.clone())?;
    get_object(&twin, Some(caller), request, &bucket, &name, &uri, &headers).await
}

/// `GET /object/{bucket}/{name}[?download]`: without a valid JWT, public buckets only.
pub(super) async fn public_or_authenticated(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    request: RequestContext,
    uri: Uri,
    headers: HeaderMap,
) -> StorageResult<Response> {
    let caller = Caller::authenticate_if_possible(&twin, request.clone());
    get_object(&twin, caller, request, &bucket, &name, &uri, &headers).await
}

/// Storage's `getObject`: a private bucket's object is looked up as the caller (its `select`
/// policies decide), a public one's as the service role.
async fn get_object(
    twin: &Twin,
    caller: Option<Caller>,
    request: RequestContext,
    bucket: &str,
    name: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> StorageResult<Response> {
    let service = Caller::service(twin, request);
    let mut tx = service.begin(twin, GET_AUTH_OBJECT).await?;
    let found_bucket = objects::find_bucket(&mut tx, bucket).await?;
    tx.commit().await?;
    let public = match (found_bucket, &caller) {
        (Some(found), _) if found.public == Some(true) => true,
        (Some(_), Some(_)) => false,
        _ => return Err(StorageError::no_such_bucket()),
    };
    let reader = match caller {
        Some(caller) if !public => caller,
        _ => service,
    };
    let delivery = Delivery {
        expires: None,
        download: query_param(uri, "download"),
    };
    serve(
        twin,
        &reader,
        GET_AUTH_OBJECT,
        bucket,
        name,
        &delivery,
        headers,
    )
    .await
}

/// How an object is handed out.
struct Delivery {
    /// A signed URL's `exp`: sent as `Expires` instead of `Cache-Control`.
    expires: Option<i64>,
    /// `?download` (a file name, or empty): sent as an attachment.
    download: Option<String>,
}

/// Finds `bucket/name` as `reader` and answers with its bytes. A concurrent overwrite can
/// delete the file of the version just looked up, so a missing file is looked up once more.
async fn serve(
    twin: &Twin,
    reader: &Caller,
    operation: &str,
    bucket: &str,
    name: &str,
    delivery: &Delivery,
    request_headers: &HeaderMap,
) -> StorageResult<Response> {
    key::must_be_valid_key(name)?;
    for _ in 0..2 {
        let mut tx = reader.begin(twin, operation).await?;
        let found = objects::find(&mut tx, bucket, name).await?;
        tx.commit().await?;
        let found = found.ok_or_else(StorageError::no_such_key)?;
        let path = twin.files.path(bucket, name, found.version.as_deref())?;
        let Some(file) = twin
            .files
            .read(&path)
            .await
            .map_err(StorageError::internal)?
        else {
            continue;
        };
        return Ok(render(&found, file, delivery, request_headers));
    }
    Err(StorageError::resource_not_found())
}

fn render(
    found: &objects::FoundObject,
    file: FileContents,
    delivery: &Delivery,
    request_headers: &HeaderMap,
) -> Response {
    let metadata = |field: &str| {
        found
            .metadata
            .as_ref()
            .and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mimetype = metadata("mimetype").unwrap_or_else(|| "application/octet-stream".into());
    let cache_control = metadata("cacheControl").unwrap_or_else(|| "no-cache".into());
    let FileContents {
        bytes,
        e_tag,
        last_modified,
    } = file;
    let if_none_match = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    // Storage's file backend: either condition answers 304.
    let not_modified = if_none_match == Some(e_tag.as_str())
        || request_headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| last_modified <= since);

    let (status, body, length) = if not_modified {
        (StatusCode::NOT_MODIFIED, Body::empty(), 0)
    } else {
        let length = bytes.len();
        (StatusCode::OK, Body::from(bytes), length)
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::ACCEPT_RANGES, "bytes");
    let content_type = if mimetype.contains("text/html") {
        "text/plain"
    } else {
        mimetype.as_str()
    };
    set(header::CONTENT_TYPE, content_type);
    set(header::ETAG, &e_tag);
    set(header::HeaderName::from_static("x-robots-tag"), "none");
    set(header::LAST_MODIFIED, &http_date(last_modified));
    set(header::CONTENT_LENGTH, &length.to_string());
    match delivery.expires {
        Some(exp) => {
            let expires = DateTime::<Utc>::from_timestamp(exp, 0).unwrap_or_default();
            set(header::EXPIRES, &http_date(expires));
        }
        None => {
            // Storage's `handleCacheControl`: a revalidation that misses may serve stale.
            let mut value = cache_control;
            if if_none_match.is_some_and(|tag| tag != e_tag) {
                value.push_str(", stale-while-revalidate=30");
            }
            if !value.is_empty() {
                set(header::CACHE_CONTROL, &value);
            }
        }
    }
    match delivery.download.as_deref() {
        None => {}
        Some("") => set(header::CONTENT_DISPOSITION, "attachment;"),
        Some(file_name) => {
            let encoded = encode_uri_component(file_name);
            set(
                header::CONTENT_DISPOSITION,
                &format!("attachment; filename={encoded}; filename*=UTF-8''{encoded}"),
            );
        }
    }
    response
}

/// JavaScript's `Date.prototype.toUTCString()`.
fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// JavaScript's `encodeURIComponent`.
fn encode_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_formats() {
        let time = DateTime::parse_from_rfc3339("2021-08-12T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(http_date(time), "Thu, 12 Aug 2021 16:00:00 GMT");
        assert_eq!(
            encode_uri_component("foto saya (1).png"),
            "foto%20saya%20(1).png"
        );
        assert_eq!(encode_uri_component("é"), "%C3%A9");
    }
}
