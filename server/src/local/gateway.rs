//! What Supabase's API gateway does in front of Auth and Storage, for the twins: every call
//! carries the project's `apikey` (header or query parameter), anon or service role.

use axum::{
    Json,
    extract::Request,
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::crypto::constant_time_eq;

/// The project's two keys.
pub struct ApiKeys<'a> {
    pub anon: &'a str,
    pub service_role: &'a str,
}

/// The gateway's own 401 when `request` lacks one of `keys`; `None` lets it through.
pub fn refusal_of(request: &Request, keys: &ApiKeys<'_>) -> Option<Response> {
    let from_header = request
        .headers()
        .get("apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_query = || query_param(request.uri(), "apikey");
    match from_header.or_else(from_query).filter(|k| !k.is_empty()) {
        None => Some(refusal(
            "No API key found in request",
            "No `apikey` request header or url param was found.",
        )),
        Some(key)
            if !constant_time_eq(key.as_bytes(), keys.anon.as_bytes())
                && !constant_time_eq(key.as_bytes(), keys.service_role.as_bytes()) =>
        {
            Some(refusal(
                "Invalid API key",
                "Double check your Supabase `anon` or `service_role` API key.",
            ))
        }
        Some(_) => None,
    }
}

/// The gateway's 401, in its own shape (not the service's).
fn refusal(message: &str, hint: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": message, "hint": hint})),
    )
        .into_response()
}

/// The first value of query parameter `name`.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
