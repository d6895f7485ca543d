//! Who is calling, and running their queries as them.
//!
//! Storage verifies the `Authorization: Bearer` JWT with the project's JWT secret alone (HS256,
//! no `aud` or `iss` check, `exp` only when present), so the anon key, the service-role key and
//! a user's access token all pass, and runs every query in a transaction as the role the token
//! names, with the settings its policies may read: `role`, `request.jwt.claim.role`,
//! `request.jwt`, `request.jwt.claim.sub`, `request.jwt.claims`, `request.headers`,
//! `request.method`, `request.path`, `storage.operation` and `storage.allow_delete_query`.

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};
use sqlx::{PgConnection, Postgres, Transaction};

use super::{
    Twin,
    error::{StorageError, StorageResult},
};
use crate::db::user_scope::{self, ApiRole};

/// What Storage's queries may learn about the request (`request.headers`, `request.method`,
/// `request.path`), whoever runs them. No `Debug`: it holds the caller's credentials.
#[derive(Clone)]
pub(super) struct RequestContext {
    method: String,
    /// Path and query as Storage sees them, i.e. without the gateway's `/storage/v1`.
    path: String,
    /// The request headers as one JSON object, names lowercased.
    headers: String,
    authorization: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self {
            method: parts.method.to_string(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.to_string()),
            headers: headers_json(&parts.headers),
            authorization: parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        })
    }
}

/// Node's view of the headers: lowercase names, repeated ones joined with `, `.
fn headers_json(headers: &HeaderMap) -> String {
    let mut map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    Value::Object(map).to_string()
}

/// A caller whose JWT verified: the role it runs as, and its claims. No `Debug`: it holds the
/// caller's token.
#[derive(Clone)]
pub(super) struct Caller {
    role: ApiRole,
    claims: Value,
    jwt: String,
    request: RequestContext,
}

impl Caller {
    /// Storage's `Authorization` rule: the header is required (a schema error without it) and
    /// must carry a JWT signed with the project secret (`AccessDenied` with jose's reason).
    pub(super) fn authenticate(twin: &Twin, request: RequestContext) -> StorageResult<Self> {
        let Some(authorization) = request.authorization.as_deref() else {
            return Err(StorageError::validation(
                "headers must have required property 'authorization'",
            ));
        };
        let token = bearer(authorization).to_string();
        Self::from_jwt(twin, &token, request)
    }

    /// For routes that also serve public buckets: without a valid JWT the caller is anonymous
    /// and unauthenticated (`None`), as Storage's `allowInvalidJwt` routes treat them.
    pub(super) fn authenticate_if_possible(twin: &Twin, request: RequestContext) -> Option<Self> {
        let token = bearer(request.authorization.as_deref()?).to_string();
        Self::from_jwt(twin, &token, request).ok()
    }

    fn from_jwt(twin: &Twin, token: &str, request: RequestContext) -> StorageResult<Self> {
        let claims =
            verify_jwt(token, &twin.config.jwt_secret).map_err(StorageError::access_denied)?;
        let role_claim = claims.get("role").and_then(Value::as_str).unwrap_or("anon");
        // Postgres would refuse to switch to any other role (the API connects as a role that
        // may only become these three).
        let role = ApiRole::from_claim(role_claim).ok_or_else(|| {
            StorageError::access_denied(format!("permission denied to set role \"{role_claim}\""))
        })?;
        Ok(Self {
            role,
            claims,
            jwt: token.to_string(),
            request,
        })
    }

    /// The service role for the same request: what Storage's `asSuperUser()` runs as.
    pub(super) fn service(twin: &Twin, request: RequestContext) -> Self {
        Self {
            role: ApiRole::ServiceRole,
            claims: twin.service_role_claims.clone(),
            jwt: twin.service_role_key.clone(),
            request,
        }
    }

    /// The service role for this caller's request.
    pub(super) fn as_service(&self, twin: &Twin) -> Self {
        Self::service(twin, self.request.clone())
    }

    /// The JWT's `sub`: Storage's object `owner`. The anon and service keys have none.
    pub(super) fn owner(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }

    /// A transaction as this caller, for `operation` (Storage's route operation name).
    pub(super) async fn begin(
        &self,
        twin: &Twin,
        operation: &str,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let settings = self.settings(operation);
        user_scope::begin_as(
            &twin.config.pool,
            self.role,
            &self.claims,
            &settings_refs(&settings),
        )
        .await
    }

    /// Switches the open transaction on `conn` to this caller.
    pub(super) async fn act(
        &self,
        conn: &mut PgConnection,
        operation: &str,
    ) -> Result<(), sqlx::Error> {
        let settings = self.settings(operation);
        user_scope::act_as(conn, self.role, &self.claims, &settings_refs(&settings)).await
    }

    fn settings(&self, operation: &str) -> [(&'static str, String); 8] {
        [
            ("request.jwt.claim.role", self.role.as_str().to_string()),
            ("request.jwt", self.jwt.clone()),
            (
                "request.jwt.claim.sub",
                self.owner().unwrap_or_default().to_string(),
            ),
            ("request.headers", self.request.headers.clone()),
            ("request.method", self.request.method.clone()),
            ("request.path", self.request.path.clone()),
            ("storage.operation", operation.to_string()),
            ("storage.allow_delete_query", "true".to_string()),
        ]
    }
}

fn settings_refs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// The token of an `Authorization` header: Storage strips a leading `Bearer ` (any case).
fn bearer(authorization: &str) -> &str {
    match (authorization.get(..6), authorization.get(6..)) {
        (Some(scheme), Some(rest))
            if scheme.eq_ignore_ascii_case("bearer") && rest.starts_with(char::is_whitespace) =>
        {
            rest.trim_start()
        }
        _ => authorization,
    }
}

/// Storage's `verifyJWT` with an HS256 project secret and no JWKS: the signature, then `exp`
/// and `nbf` when present, with jose's messages for what fails.
pub(super) fn verify_jwt(token: &str, secret: &[u8]) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        ErrorKind::InvalidToken => "Invalid Compact JWS".to_string(),
        _ => "JWS Protected Header is invalid".to_string(),
    })?;
    if header.alg != Algorithm::HS256 {
        return Err("\"alg\" (Algorithm) Header Parameter value not allowed".into());
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|e| {
            match e.kind() {
                ErrorKind::InvalidToken => "Invalid Compact JWS",
                ErrorKind::InvalidSignature => "signature verification failed",
                ErrorKind::ExpiredSignature => "\"exp\" claim timestamp check failed",
                ErrorKind::ImmatureSignature => "\"nbf\" claim timestamp check failed",
                ErrorKind::InvalidAlgorithm => {
                    "\"alg\" (Algorithm) Header Parameter value not allowed"
                }
                _ => "JWT Claims Set must be a top-level JSON object",
            }
            .to_string()
        })?;
    if !data.claims.is_object() {
        return Err("JWT Claims Set must be a top-level JSON object".into());
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::jwt::sign_hs256;

    const SECRET: &[u8] = b"a-test-secret-of-at-least-32-characters";

    #[test]
    fn bearer_is_optional_and_case_insensitive() {
        assert_eq!(bearer("Bearer abc"), "abc");
        assert_eq!(bearer("bearer   abc"), "abc");
        assert_eq!(bearer("abc"), "abc");
        assert_eq!(bearer("Bearerabc"), "Bearerabc");
    }

    #[test]
    fn jwts_verify_as_storage_verifies_them() {
        let now = chrono::Utc::now().timestamp();
        let key = crate::local::api_key("anon", SECRET);
        assert_eq!(verify_jwt(&key, SECRET).unwrap()["role"], "anon");
        let no_exp = sign_hs256(&json!({"role": "service_role"}), SECRET);
        assert!(verify_jwt(&no_exp, SECRET).is_ok());
        let expired = sign_hs256(&json!({"role": "anon", "exp": now - 5}), SECRET);
        assert_eq!(
            verify_jwt(&expired, SECRET).unwrap_err(),
            "\"exp\" claim timestamp check failed"
        );
        assert_eq!(
            verify_jwt(&key, b"another-secret-of-at-least-32-chars").unwrap_err(),
            "signature verification failed"
        );
        assert_eq!(
            verify_jwt("xxx", SECRET).unwrap_err(),
            "Invalid Compact JWS"
        );
    }
}
