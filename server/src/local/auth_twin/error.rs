//! GoTrue's error answers.
//!
//! Most errors are `{"code": <status>, "error_code": "<snake_case>", "msg": "<message>"}` with an
//! `x-sb-error-code` header; OAuth-flavoured ones are `{"error", "error_description"}` with 400.
//! A request carrying `X-Supabase-Api-Version: 2024-01-01` (as supabase-js sends) gets GoTrue's
//! newer shape `{"code": "<snake_case>", "message": "<message>"}` instead ([`api_version`]).

use std::fmt::Display;

use axum::{
    Json,
    extract::Request,
    http::{HeaderName, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use serde_json::{Value, json};

/// The message of an unexpected failure; the cause goes to the log, never to the caller.
pub(super) const UNEXPECTED: &str =
    "Unexpected failure, please check server logs for more information";

const API_VERSION_HEADER: HeaderName = HeaderName::from_static("x-supabase-api-version");
const ERROR_CODE_HEADER: HeaderName = HeaderName::from_static("x-sb-error-code");

#[derive(Debug)]
pub(super) enum ApiError {
    /// GoTrue's `HTTPError`.
    Http {
        status: StatusCode,
        code: &'static str,
        msg: String,
    },
    /// A password that fails the strength rules (422 `weak_password`, with the reasons).
    WeakPassword {
        msg: String,
        reasons: Vec<&'static str>,
    },
    /// GoTrue's `OAuthError`: always 400.
    OAuth {
        error: &'static str,
        description: String,
    },
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        Self::Http {
            status,
            code,
            msg: msg.into(),
        }
    }

    pub(super) fn bad_request(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    pub(super) fn forbidden(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, msg)
    }

    pub(super) fn unprocessable(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, msg)
    }

    pub(super) fn validation(msg: impl Into<String>) -> Self {
        Self::bad_request("validation_failed", msg)
    }

    /// A 500 whose `public` message is shown and whose `cause` is only logged.
    pub(super) fn internal(public: &str, cause: impl Display) -> Self {
        tracing::error!(error = %cause, "auth twin: {public}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            public,
        )
    }

    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::Http { status, .. } => *status,
            Self::WeakPassword { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error_code` (or, for OAuth errors, the `error`).
    pub(super) fn code(&self) -> &'static str {
        match self {
            Self::Http { code, .. } => code,
            Self::WeakPassword { .. } => "weak_password",
            Self::OAuth { error, .. } => error,
        }
    }

    pub(super) fn message(&self) -> &str {
        match self {
            Self::Http { msg, .. } | Self::WeakPassword { msg, .. } => msg,
            Self::OAuth { description, .. } => description,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(error = %error, "auth twin: database error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            UNEXPECTED,
        )
    }
}

/// What the [`api_version`] layer needs to re-shape an error answer.
#[derive(Clone)]
struct ErrorParts {
    code: &'static str,
    message: String,
    reasons: Option<Vec<&'static str>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (body, parts) = match &self {
            Self::Http { code, msg, .. } => (
                json!({"code": status.as_u16(), "error_code": code, "msg": msg}),
                Some(ErrorParts {
                    code,
                    message: msg.clone(),
                    reasons: None,
                }),
            ),
            Self::WeakPassword { msg, reasons } => (
                json!({
                    "code": status.as_u16(), "error_code": "weak_password", "msg": msg,
                    "weak_password": {"reasons": reasons},
                }),
                Some(ErrorParts {
                    code: "weak_password",
                    message: msg.clone(),
                    reasons: Some(reasons.clone()),
                }),
            ),
            Self::OAuth { error, description } => (
                json!({"error": error, "error_description": description}),
                None,
            ),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(parts) = parts {
            response
                .headers_mut()
                .insert(ERROR_CODE_HEADER, HeaderValue::from_static(parts.code));
            response.extensions_mut().insert(parts);
        }
        response
    }
}

/// GoTrue's API versioning: from `2024-01-01` on, errors are `{"code", "message"}` and the
/// version header is echoed.
pub(super) async fn api_version(request: Request, next: Next) -> Response {
    let versioned = request
        .headers()
        .get(&API_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
        .is_some_and(|date| date >= NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default());
    let mut response = next.run(request).await;
    if !versioned {
        return response;
    }
    response
        .headers_mut()
        .insert(API_VERSION_HEADER, HeaderValue::from_static("2024-01-01"));
    let Some(parts) = response.extensions_mut().remove::<ErrorParts>() else {
        return response;
    };
    let mut body = json!({"code": parts.code, "message": parts.message});
    if let (Some(reasons), Value::Object(map)) = (parts.reasons, &mut body) {
        map.insert("weak_password".into(), json!({"reasons": reasons}));
    }
    let (mut head, _) = response.into_parts();
    head.headers.remove(axum::http::header::CONTENT_LENGTH);
    let fresh = Json(body).into_response();
    let (fresh_head, fresh_body) = fresh.into_parts();
    if let Some(content_type) = fresh_head.headers.get(axum::http::header::CONTENT_TYPE) {
        head.headers
            .insert(axum::http::header::CONTENT_TYPE, content_type.clone());
    }
    Response::from_parts(head, fresh_body)
}
