//! Signed download URLs: `POST /object/sign/{bucket}/{name}`, `POST /object/sign/{bucket}`,
//! and the token check behind `GET /object/sign/{bucket}/{name}?token=…`.
//!
//! The token is an HS256 JWT signed with the project's JWT secret carrying `url`
//! (`"{bucket}/{name}"`), `scope: "download"`, `iat` and `exp`, as Storage's. The twin signs it
//! with the server's own [`sign_hs256`], whose header adds `"typ":"JWT"` to Storage's
//! `{"alg":"HS256"}`: clients treat the token as opaque.

use std::collections::HashSet;

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Twin,
    caller::{Caller, RequestContext, verify_jwt},
    error::{StorageError, StorageResult},
    integer_field, json_body, key, objects, string_list_field,
};
use crate::auth::jwt::sign_hs256;

const SIGN_OBJECT_URL: &str = "storage.object.sign";
const SIGN_OBJECT_URLS: &str = "storage.object.sign_many";

/// Storage's limit on paths per batch (`MAX_OBJECTS_PER_REQUEST`).
const MAX_PATHS: usize = 1000;

/// The per-path error of a batch for a path that is missing or hidden from the caller.
const NOT_FOUND_OR_HIDDEN: &str =
    "Either the object does not exist or you do not have access to it";

/// `POST /object/sign/{bucket}/{name}` `{"expiresIn": seconds}` → `{"signedURL": …}`. The caller
/// must be able to see the object (a `select` policy), else it is `Object not found`.
pub(super) async fn sign_one(
    State(twin): State<Twin>,
    Path((bucket, name)): Path<(String, String)>,
    request: RequestContext,
    body: Body,
) -> StorageResult<Json<Value>> {
    let body = json_body(body).await?;
    let expires_in = integer_field(&body, "expiresIn")?;
    let caller = Caller::authenticate(&twin, request)?;
    check_expiry(expires_in)?;
    key::must_be_valid_key(&name)?;
    let mut tx = caller.begin(&twin, SIGN_OBJECT_URL).await?;
    let found = objects::find(&mut tx, &bucket, &name).await?;
    tx.commit().await?;
    found.ok_or_else(StorageError::no_such_key)?;
    let url = format!("{bucket}/{name}");
    Ok(Json(
        json!({"signedURL": signed_url(&twin, &url, expires_in)}),
    ))
}

/// One path's answer in a batch, fields in Storage's order.
#[derive(Debug, Serialize)]
pub(super) struct SignedPath {
    error: Option<&'static str>,
    path: String,
    #[serde(rename = "signedURL")]
    signed_url: Option<String>,
}

/// `POST /object/sign/{bucket}` `{"expiresIn", "paths": [...]}` → one answer per path, in
/// order: a URL, or an error for a path the caller cannot see.
pub(super) async fn sign_many(
    State(twin): State<Twin>,
    Path(bucket): Path<String>,
    request: RequestContext,
    body: Body,
) -> StorageResult<Json<Vec<SignedPath>>> {
    let body = json_body(body).await?;
    let expires_in = integer_field(&body, "expiresIn")?;
    let paths = string_list_field(&body, "paths", Some(MAX_PATHS))?;
    let caller = Caller::authenticate(&twin, request)?;
    check_expiry(expires_in)?;
    let mut tx = caller.begin(&twin, SIGN_OBJECT_URLS).await?;
    let visible: HashSet<String> = objects::find_names(&mut tx, &bucket, &paths)
        .await?
        .into_iter()
        .collect();
    tx.commit().await?;
    Ok(Json(
        paths
            .into_iter()
            .map(|path| {
                if visible.contains(&path) {
                    let url = format!("{bucket}/{path}");
                    SignedPath {
                        error: None,
                        signed_url: Some(signed_url(&twin, &url, expires_in)),
                        path,
                    }
                } else {
                    SignedPath {
                        error: Some(NOT_FOUND_OR_HIDDEN),
                        signed_url: None,
                        path,
                    }
                }
            })
            .collect(),
    ))
}

/// Storage's `assertValidNumericJWTExpiration`: `exp` must stay a safe JavaScript time.
fn check_expiry(expires_in: i64) -> StorageResult<()> {
    const MAX_EXP_SECONDS: i64 = 9_007_199_254_740; // Number.MAX_SAFE_INTEGER / 1000
    let max = MAX_EXP_SECONDS - chrono::Utc::now().timestamp();
    if (1..=max).contains(&expires_in) {
        Ok(())
    } else {
        Err(StorageError::invalid_parameter("expiresIn"))
    }
}

/// `/object/sign/{url}?token=…` for `url` = `bucket/name`, valid `expires_in` seconds. Relative
/// to `/storage/v1`, the name not re-encoded, exactly as Storage answers.
fn signed_url(twin: &Twin, url: &str, expires_in: i64) -> String {
    let iat = chrono::Utc::now().timestamp();
    let token = sign_hs256(
        &json!({"url": url, "scope": "download", "iat": iat, "exp": iat + expires_in}),
        &twin.config.jwt_secret,
    );
    format!("/object/sign/{url}?token={token}")
}

/// A verified download token.
#[derive(Debug)]
pub(super) struct DownloadToken {
    /// `bucket/name`.
    pub(super) url: String,
    pub(super) exp: Option<i64>,
}

/// Storage's `verifyObjectSignature` for downloads: a JWT that verifies (else `InvalidJWT` with
/// jose's reason), scoped for download (a legacy token without `scope` and without `upsert`
/// counts), for exactly this object, not expired.
pub(super) fn verify_download_token(
    twin: &Twin,
    token: &str,
    bucket: &str,
    name: &str,
) -> StorageResult<DownloadToken> {
    let claims = verify_jwt(token, &twin.config.jwt_secret).map_err(StorageError::invalid_jwt)?;
    let download_scoped = match claims.get("scope") {
        Some(Value::String(scope)) => scope == "download",
        Some(_) => false,
        None => claims.get("upsert").is_none(),
    };
    if !download_scoped {
        return Err(StorageError::invalid_signature(
            "Token is not scoped for download",
        ));
    }
    let url = claims
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if url != format!("{bucket}/{name}") {
        return Err(StorageError::invalid_signature("Invalid signature"));
    }
    let exp = claims.get("exp").and_then(Value::as_f64);
    if exp.is_some_and(|exp| exp * 1000.0 < chrono::Utc::now().timestamp_millis() as f64) {
        return Err(StorageError::expired_signature());
    }
    Ok(DownloadToken {
        url: url.to_string(),
        exp: exp.map(|exp| exp as i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_must_be_a_safe_javascript_time() {
        assert!(check_expiry(60).is_ok());
        assert!(check_expiry(0).is_err());
        assert!(check_expiry(9_007_199_254_740).is_err());
    }
}
