//! A local Supabase Storage: the paths, headers, bodies, status codes and error shapes of
//! `{SUPABASE_URL}/storage/v1` for the object calls Kilat makes, so the production Storage
//! client is the code that runs locally too. Never in production.
//!
//! Object rows live in `storage.objects` exactly as Storage keeps them (`metadata` with size,
//! mimetype, eTag, cacheControl, lastModified, contentLength and httpStatusCode; `owner` and
//! `owner_id` from the uploader's `sub`; a fresh `version` per upload), and every query runs in
//! a transaction as the caller's role with Storage's request settings ([`caller`]), so the
//! bucket limits and the `storage.objects` policies decide as they do on Supabase. The bytes
//! live on disk under [`StorageTwinConfig::root`] ([`files`]). Signed URLs carry an HS256 JWT
//! (`url`, `scope: "download"`, `iat`, `exp`) signed with the project's JWT secret.
//!
//! Deliberate differences from Storage (each noted where it is made): object calls only (no
//! buckets, listing, moves, copies, image transformations, resumable or S3 uploads, public
//! URLs or signed upload URLs); no `Range` requests; whole files are read into memory to be
//! served; no `x-robots-tag` header handling (always `none`); webhooks and the
//! delete-later queue are not emulated (files of replaced or deleted objects are deleted at
//! once, after the database change is committed); no CORS (the gateway's job).

mod caller;
mod delete;
mod download;
mod error;
mod files;
mod key;
mod objects;
mod sign;
mod upload;

use std::{path::PathBuf, sync::Arc};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::Method,
    middleware::{self, Next},
    response::Response,
    routing::{delete as delete_route, get, post},
};
use serde_json::Value;
use sqlx::PgPool;

use error::{StorageError, StorageResult};
use files::ObjectFiles;

/// Storage's project-wide upload limit as the Supabase CLI sets it (`file_size_limit =
/// "50MiB"`); a bucket's own `file_size_limit` can only lower it.
pub const GLOBAL_FILE_SIZE_LIMIT: u64 = 50 * 1024 * 1024;

/// Everything the twin needs.
#[derive(Clone)]
pub struct StorageTwinConfig {
    pub pool: PgPool,
    /// The project JWT secret's raw bytes: verifies callers' JWTs and signs URL tokens.
    pub jwt_secret: Vec<u8>,
    /// The publishable (anon) key the gateway accepts in `apikey`, next to the service key.
    pub anon_key: String,
    /// Where object bytes are kept (`LOCAL_STORAGE_DIR`).
    pub root: PathBuf,
}

impl std::fmt::Debug for StorageTwinConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageTwinConfig")
            .field("jwt_secret", &"<redacted>")
            .field("anon_key", &"<redacted>")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// The shared state of the handlers.
#[derive(Clone)]
struct Twin(Arc<Inner>);

struct Inner {
    config: StorageTwinConfig,
    /// The service-role key for the same secret: the gateway accepts it, and Storage runs its
    /// own lookups (`asSuperUser`) with it.
    service_role_key: String,
    service_role_claims: Value,
    files: ObjectFiles,
}

impl std::ops::Deref for Twin {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The Storage API, with routes relative to `/storage/v1` (the caller nests it there).
///
/// # Panics
/// When `config.jwt_secret` is empty: the twin cannot check or sign tokens without one.
pub fn router(config: StorageTwinConfig) -> Router {
    assert!(
        !config.jwt_secret.is_empty(),
        "the local Storage twin needs a non-empty JWT secret"
    );
    let service_role_key = crate::local::api_key("service_role", &config.jwt_secret);
    let service_role_claims = caller::verify_jwt(&service_role_key, &config.jwt_secret)
        .expect("the service-role key verifies with the secret it was signed with");
    let twin = Twin(Arc::new(Inner {
        files: ObjectFiles::new(config.root.clone()),
        config,
        service_role_key,
        service_role_claims,
    }));
    Router::new()
        .route("/object/sign/{bucket}", post(sign::sign_many))
        .route(
            "/object/sign/{bucket}/{*name}",
            post(sign::sign_one).get(download::signed),
        )
        .route(
            "/object/authenticated/{bucket}/{*name}",
            get(download::authenticated),
        )
        .route("/object/{bucket}", delete_route(delete::delete_many))
        .route(
            "/object/{bucket}/{*name}",
            post(upload::create)
                .put(upload::update)
                .delete(delete::delete_one)
                .get(download::public_or_authenticated),
        )
        .fallback(route_not_found)
        .method_not_allowed_fallback(route_not_found)
        // Uploads stream past any fixed limit, checked against the bucket's own; JSON bodies
        // are read with Storage's 1 MiB limit ([`json_body`]).
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(twin.clone(), require_apikey))
        .with_state(twin)
}

/// Storage's not-found handler, for a path or method it has no route for.
async fn route_not_found(request: Request) -> StorageError {
    let url = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |p| p.to_string());
    StorageError::route_not_found(request.method().as_str(), &url)
}

/// Links a browser follows without keys: a signed URL works on its own, as on Supabase.
fn is_open(method: &Method, path: &str) -> bool {
    method == Method::GET && path.starts_with("/object/sign/")
}

/// Supabase's gateway in front of every call but the open ones (see
/// [`gateway::refusal_of`](crate::local::gateway::refusal_of)).
async fn require_apikey(State(twin): State<Twin>, request: Request, next: Next) -> Response {
    if is_open(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let keys = crate::local::gateway::ApiKeys {
        anon: &twin.config.anon_key,
        service_role: &twin.service_role_key,
    };
    match crate::local::gateway::refusal_of(&request, &keys) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

use crate::local::gateway::query_param;

/// Fastify's JSON body limit.
const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body as Fastify hands it to a route: over 1 MiB is refused, an empty body is
/// no object (the schema's `body must be object`), and what does not parse is a syntax error.
async fn json_body(body: axum::body::Body) -> StorageResult<Value> {
    let bytes = axum::body::to_bytes(body, JSON_BODY_LIMIT)
        .await
        .map_err(|_| StorageError::body_too_large())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(StorageError::validation("body must be object"));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| StorageError::invalid_json())?;
    if !value.is_object() {
        return Err(StorageError::validation("body must be object"));
    }
    Ok(value)
}

/// Ajv's `integer` at `body/{field}`, at least 1 (with Fastify's type coercion).
fn integer_field(body: &Value, field: &str) -> StorageResult<i64> {
    let value = body.get(field).ok_or_else(|| {
        StorageError::validation(format!("body must have required property '{field}'"))
    })?;
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    match number {
        Some(n) if n.fract() == 0.0 && n.is_finite() => {
            if n < 1.0 {
                Err(StorageError::validation(format!(
                    "body/{field} must be >= 1"
                )))
            } else if n > i64::MAX as f64 {
                Err(StorageError::invalid_parameter(field))
            } else {
                Ok(n as i64)
            }
        }
        _ => Err(StorageError::validation(format!(
            "body/{field} must be integer"
        ))),
    }
}

/// Ajv's array of strings with at least one item (and at most `max`), at `body/{field}`.
fn string_list_field(body: &Value, field: &str, max: Option<usize>) -> StorageResult<Vec<String>> {
    let value = body.get(field).ok_or_else(|| {
        StorageError::validation(format!("body must have required property '{field}'"))
    })?;
    let Value::Array(items) = value else {
        return Err(StorageError::validation(format!(
            "body/{field} must be array"
        )));
    };
    if items.is_empty() {
        return Err(StorageError::validation(format!(
            "body/{field} must NOT have fewer than 1 items"
        )));
    }
    if let Some(max) = max.filter(|max| items.len() > *max) {
        return Err(StorageError::validation(format!(
            "body/{field} must NOT have more than {max} items"
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(StorageError::validation(format!(
                "body/{field}/{i} must be string"
            ))),
        })
        .collect()
}
