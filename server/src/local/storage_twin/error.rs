//! Storage's error answers.
//!
//! Storage renders every error as `{"statusCode": "<its status, as a string>", "error",
//! "message", "code"}` (in that order, its `errorSchema`), and sends most of them with HTTP 400
//! whatever the `statusCode` says: only 500s go out as 500, and a few errors choose their own.
//! So a missing object is HTTP 400 with `"statusCode": "404"`. `error` is the error's legacy
//! name where it has one (`not_found`, `Duplicate`, `Unauthorized`…), else the `code`.

use std::borrow::Cow;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StorageError {
    /// Storage's `httpStatusCode`, sent as the body's `statusCode`.
    status: u16,
    /// The status the answer is sent with (Storage's `userStatusCode`).
    http_status: StatusCode,
    code: &'static str,
    error: Cow<'static, str>,
    message: String,
}

pub(super) type StorageResult<T> = Result<T, StorageError>;

/// The message of an unexpected failure; the cause goes to the log, never to the caller.
const INTERNAL: &str = "Internal Server Error";

impl StorageError {
    /// A `StorageBackendError`: sent as 400, or 500 when its own status is 500.
    fn backend(
        status: u16,
        code: &'static str,
        error: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            http_status: if status == 500 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            },
            code,
            error: Cow::Borrowed(error.unwrap_or(code)),
            message: message.into(),
        }
    }

    pub(super) fn no_such_bucket() -> Self {
        Self::backend(
            404,
            "NoSuchBucket",
            Some("Bucket not found"),
            "Bucket not found",
        )
    }

    pub(super) fn no_such_key() -> Self {
        Self::backend(404, "NoSuchKey", Some("not_found"), "Object not found")
    }

    /// A JWT that does not verify; `reason` is what Storage's JWT library says (jose's words).
    pub(super) fn access_denied(reason: impl Into<String>) -> Self {
        Self::backend(403, "AccessDenied", Some("Unauthorized"), reason)
    }

    /// An insert or update refused by a `storage.objects` policy.
    pub(super) fn row_level_security() -> Self {
        Self::access_denied("new row violates row-level security policy")
    }

    pub(super) fn key_already_exists() -> Self {
        Self::backend(
            409,
            "KeyAlreadyExists",
            Some("Duplicate"),
            "The resource already exists",
        )
    }

    pub(super) fn resource_already_exists() -> Self {
        Self::backend(
            409,
            "ResourceAlreadyExists",
            Some("Duplicate"),
            "The resource already exists",
        )
    }

    /// `entity` is `object`, or `user_metadata` for oversized custom metadata.
    pub(super) fn entity_too_large(entity: &str) -> Self {
        Self::backend(
            413,
            "EntityTooLarge",
            Some("Payload too large"),
            format!("The {entity} exceeded the maximum allowed size"),
        )
    }

    pub(super) fn invalid_mime_type(mime_type: &str) -> Self {
        Self::backend(
            415,
            "InvalidMimeType",
            Some("invalid_mime_type"),
            format!("mime type {mime_type} is not supported"),
        )
    }

    /// A key outside Storage's allowed characters (`mustBeValidKey`).
    pub(super) fn invalid_key(key: &str) -> Self {
        Self::backend(400, "InvalidKey", None, format!("Invalid key: {key}"))
    }

    /// A storage path that would not stay inside the storage directory
    /// (`resolveSecureFilesystemPath`): `path` is the relative path, `reason` why.
    pub(super) fn invalid_path(path: &str, reason: &str) -> Self {
        Self::backend(
            400,
            "InvalidKey",
            None,
            format!("Invalid key: {path} {reason}"),
        )
    }

    /// A signed-URL token that does not verify (signature, shape, expiry per jose).
    pub(super) fn invalid_jwt(reason: impl Into<String>) -> Self {
        Self::backend(400, "InvalidJWT", None, reason)
    }

    pub(super) fn invalid_signature(message: &str) -> Self {
        Self::backend(400, "InvalidSignature", None, message)
    }

    pub(super) fn expired_signature() -> Self {
        Self::backend(400, "ExpiredToken", None, "The provided token has expired.")
    }

    pub(super) fn invalid_parameter(parameter: &str) -> Self {
        Self::backend(
            400,
            "InvalidParameter",
            None,
            format!("Invalid Parameter {parameter}"),
        )
    }

    pub(super) fn no_content(message: impl Into<String>) -> Self {
        Self::backend(400, "InvalidRequest", None, message)
    }

    pub(super) fn resource_locked() -> Self {
        Self::backend(423, "ResourceLocked", None, "The resource is locked")
    }

    pub(super) fn lock_timeout() -> Self {
        Self::backend(
            503,
            "LockTimeout",
            Some("acquiring_lock_timeout"),
            "acquiring lock timeout",
        )
    }

    /// A request that fails the route's schema (Fastify's validation error, rendered by
    /// Storage's error handler): `message` is Ajv's, e.g. `body must have required property
    /// 'expiresIn'`.
    pub(super) fn validation(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            http_status: StatusCode::BAD_REQUEST,
            code: "InvalidRequest",
            error: Cow::Borrowed("Error"),
            message: message.into(),
        }
    }

    /// A JSON body that does not parse (Fastify's parser error).
    pub(super) fn invalid_json() -> Self {
        Self {
            status: 400,
            http_status: StatusCode::BAD_REQUEST,
            code: "InternalError",
            error: Cow::Borrowed("SyntaxError"),
            message: "Body is not valid JSON".into(),
        }
    }

    /// A JSON body over Fastify's 1 MiB limit.
    pub(super) fn body_too_large() -> Self {
        Self {
            status: 413,
            http_status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "EntityTooLarge",
            error: Cow::Borrowed("FastifyError"),
            message: "Request body is too large".into(),
        }
    }

    /// The renderer's answer when the object's row exists but its bytes do not.
    pub(super) fn resource_not_found() -> Self {
        Self::backend(
            404,
            "NoSuchKey",
            Some("Not found"),
            "The resource was not found",
        )
    }

    /// Storage's not-found handler (a real 404).
    pub(super) fn route_not_found(method: &str, url: &str) -> Self {
        Self {
            status: 404,
            http_status: StatusCode::NOT_FOUND,
            code: "InvalidRequest",
            error: Cow::Borrowed("Not Found"),
            message: format!("Route {method}:{url} not found"),
        }
    }

    /// An unexpected failure; `cause` is logged, never shown.
    pub(super) fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "storage twin: unexpected failure");
        Self {
            status: 500,
            http_status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "InternalError",
            error: Cow::Borrowed("Internal"),
            message: INTERNAL.into(),
        }
    }

    #[cfg(test)]
    pub(super) fn code(&self) -> &'static str {
        self.code
    }
}

/// Storage's `DBError.fromDBError`: what a failed query means to the caller.
impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &error else {
            return Self::internal(error);
        };
        match db.code().as_deref() {
            Some("42501") if db.message().contains("row-level security") => {
                Self::row_level_security()
            }
            Some("42501") => Self::access_denied(db.message()),
            Some("23505") => Self::resource_already_exists(),
            Some("55P03") => Self::resource_locked(),
            Some(code) => {
                tracing::error!(error = %error, "storage twin: database error");
                Self::backend(
                    500,
                    "DatabaseError",
                    None,
                    format!("database error, code: {code}"),
                )
            }
            None => Self::internal(error),
        }
    }
}

/// The body, in Storage's field order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    status_code: String,
    error: &'a str,
    message: &'a str,
    code: &'a str,
}

impl IntoResponse for StorageError {
    fn into_response(self) -> Response {
        let body = Body {
            status_code: self.status.to_string(),
            error: &self.error,
            message: &self.message,
            code: self.code,
        };
        let mut response = (self.http_status, Json(body)).into_response();
        if self.code == "NoSuchKey" && self.error == "Not found" {
            // The renderer marks a missing file uncacheable.
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: StorageError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn errors_render_in_storages_shape_and_order() {
        assert_eq!(
            body_of(StorageError::no_such_key()).await,
            (
                StatusCode::BAD_REQUEST,
                r#"{"statusCode":"404","error":"not_found","message":"Object not found","code":"NoSuchKey"}"#.into()
            )
        );
        assert_eq!(
            body_of(StorageError::invalid_key("a\\b")).await.1,
            r#"{"statusCode":"400","error":"InvalidKey","message":"Invalid key: a\\b","code":"InvalidKey"}"#
        );
        let (status, _) = body_of(StorageError::internal("boom")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let (status, _) = body_of(StorageError::route_not_found("GET", "/x")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
