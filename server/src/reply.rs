//! How a route that serves both a page's plain form and a script answers: JSON for
//! `Accept: application/json`, otherwise a redirect back to the page with `?notice=<code>` or
//! `?error=<code>` (the page shows the code's words), in the person's language either way.

use app::i18n::{Locale, request_locale};
use axum::{
    Json,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Redirect, Response},
};
use serde_json::json;

/// A capability's refusal as such routes answer it.
pub trait Refusal: Copy {
    /// Stable, for `?error=` and the JSON answer's `code`.
    fn code(self) -> &'static str;
    fn status(self) -> u16;
    /// What the person reads.
    fn message(self, locale: Locale) -> String;
    /// For `Retry-After`, when the refusal is a rate limit.
    fn retry_after_secs(self) -> Option<u64>;
    /// The form field the refusal is about, for the JSON answer's `field`.
    fn field(self) -> Option<&'static str> {
        None
    }
}

impl Refusal for app::avatar::AvatarError {
    fn code(self) -> &'static str {
        Self::code(self)
    }
    fn status(self) -> u16 {
        Self::status(self)
    }
    fn message(self, locale: Locale) -> String {
        Self::message(self, locale)
    }
    fn retry_after_secs(self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        }
    }
}

impl Refusal for app::billing::BillingError {
    fn code(self) -> &'static str {
        Self::code(self)
    }
    fn status(self) -> u16 {
        Self::status(self)
    }
    fn message(self, locale: Locale) -> String {
        Self::message(self, locale)
    }
    fn retry_after_secs(self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        }
    }
}

impl Refusal for app::outreach::OutreachError {
    fn code(self) -> &'static str {
        Self::code(self)
    }
    fn status(self) -> u16 {
        Self::status(self)
    }
    fn message(self, locale: Locale) -> String {
        Self::message(self, locale)
    }
    fn retry_after_secs(self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        }
    }
    fn field(self) -> Option<&'static str> {
        Self::field(self)
    }
}

/// What the caller wants back.
pub struct Reply {
    pub json: bool,
    pub locale: Locale,
}

impl Reply {
    pub fn to(uri: &Uri, headers: &HeaderMap, default: Locale) -> Self {
        let json = headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("application/json"));
        Self {
            json,
            locale: request_locale(uri, headers, default),
        }
    }

    /// The refusal: its status and JSON `{code, message}`, or back to `page` with its code.
    pub fn refused(&self, error: impl Refusal, page: &str) -> Response {
        let mut response = if self.json {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut body = json!({ "code": error.code(), "message": error.message(self.locale) });
            if let Some(field) = error.field() {
                body["field"] = field.into();
            }
            (status, Json(body)).into_response()
        } else {
            Redirect::to(&back_to(page, "error", error.code())).into_response()
        };
        if let Some(secs) = error.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }

    /// Success: `body` as JSON, or back to `page` with `?notice=<notice>`.
    pub fn done(&self, body: serde_json::Value, page: &str, notice: &str) -> Response {
        if self.json {
            Json(body).into_response()
        } else {
            Redirect::to(&back_to(page, "notice", notice)).into_response()
        }
    }
}

/// `page` (a path of ours, maybe with a query and a `#fragment`) with `key=value` added to its
/// query, before the fragment. `value` is a code of ours, never input.
pub fn back_to(page: &str, key: &str, value: &str) -> String {
    let (path, fragment) = page
        .split_once('#')
        .map_or((page, None), |(p, f)| (p, Some(f)));
    let separator = if path.contains('?') { '&' } else { '?' };
    match fragment {
        Some(fragment) => format!("{path}{separator}{key}={value}#{fragment}"),
        None => format!("{path}{separator}{key}={value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::back_to;

    #[test]
    fn the_code_goes_into_the_query_before_the_fragment() {
        assert_eq!(
            back_to("/dashboard/settings#avatar", "error", "avatar_too_large"),
            "/dashboard/settings?error=avatar_too_large#avatar"
        );
        assert_eq!(
            back_to("/checkout?plan=PRO", "error", "rate_limited"),
            "/checkout?plan=PRO&error=rate_limited"
        );
        assert_eq!(
            back_to("/dashboard/billing", "notice", "canceled"),
            "/dashboard/billing?notice=canceled"
        );
    }
}
