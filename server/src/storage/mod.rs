//! Supabase Storage over its REST API (`{SUPABASE_URL}/storage/v1`, facts in
//! `reference/supabase.md`), or the local twin that speaks it: upload, signed URLs, download,
//! delete. Each call says who makes it ([`Caller`]): the service key (past every policy) or a
//! signed-in person's access token (held to the bucket's RLS policies, as in the browser).

use std::time::Duration;

use axum::body::Bytes;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

/// Who a call is made as.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    /// The service key: every object, every bucket. Only for work the server does on its own
    /// account (an admin's view of other people's avatars).
    Service,
    /// A signed-in person's access token: what the bucket's policies allow them.
    User(&'a str),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Storage answered with an error. `status` is the real one, from the body's `statusCode`
    /// (Storage sends most refusals as HTTP 400).
    #[error("Storage refused the call ({status} {error}): {message}")]
    Refused {
        status: u16,
        error: String,
        message: String,
    },
    #[error("Storage could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
}

impl StorageError {
    /// The real status of a refusal (`None` when Storage was not reached).
    pub fn status(&self) -> Option<u16> {
        match self {
            StorageError::Refused { status, .. } => Some(*status),
            StorageError::Unreachable(_) => None,
        }
    }
}

/// Storage's error body. `statusCode` is a string ("404"), `error` a short name.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "statusCode")]
    status_code: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Signed {
    #[serde(rename = "signedURL")]
    signed_url: String,
}

#[derive(Deserialize)]
struct SignedOneOfMany {
    path: Option<String>,
    #[serde(rename = "signedURL")]
    signed_url: Option<String>,
}

/// A Storage client. `base_url` is `{SUPABASE_URL}/storage/v1`.
#[derive(Clone)]
pub struct StorageClient {
    http: reqwest::Client,
    base_url: String,
    anon_key: String,
    service_key: String,
}

impl std::fmt::Debug for StorageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// One object to upload.
pub struct Upload<'a> {
    pub bucket: &'a str,
    pub path: &'a str,
    pub content_type: &'a str,
    /// How long browsers may keep a downloaded copy: Storage serves it as `Cache-Control`.
    pub max_age: Duration,
    pub bytes: Bytes,
}

impl StorageClient {
    /// `http` is the server's shared outbound client; `supabase_url` the project (or the local
    /// twin's) address.
    pub fn new(
        http: reqwest::Client,
        supabase_url: &str,
        anon_key: impl Into<String>,
        service_key: impl Into<String>,
    ) -> Self {
        Self {
            http,
            base_url: format!("{}/storage/v1", supabase_url.trim_end_matches('/')),
            anon_key: anon_key.into(),
            service_key: service_key.into(),
        }
    }

    /// A call to `{base}/{route…}/{object path}`, each segment escaped as a path segment.
    fn request(
        &self,
        caller: Caller<'_>,
        method: Method,
        route: &[&str],
        object_path: &str,
    ) -> RequestBuilder {
        let (apikey, bearer) = match caller {
            Caller::Service => (self.service_key.as_str(), self.service_key.as_str()),
            Caller::User(token) => (self.anon_key.as_str(), token),
        };
        let mut url = url::Url::parse(&self.base_url).expect("SUPABASE_URL is a URL");
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .extend(route)
            .extend(object_path.split('/').filter(|segment| !segment.is_empty()));
        self.http
            .request(method, url)
            .header("apikey", apikey)
            .bearer_auth(bearer)
    }

    /// `POST /object/{bucket}/{path}` with `x-upsert: true`: creates or replaces the object.
    pub async fn upload(&self, caller: Caller<'_>, upload: Upload<'_>) -> Result<(), StorageError> {
        let response = self
            .request(
                caller,
                Method::POST,
                &["object", upload.bucket],
                upload.path,
            )
            .header("x-upsert", "true")
            .header(reqwest::header::CONTENT_TYPE, upload.content_type)
            .header(
                reqwest::header::CACHE_CONTROL,
                format!("max-age={}", upload.max_age.as_secs()),
            )
            .body(upload.bytes)
            .send()
            .await?;
        checked(response).await.map(|_| ())
    }

    /// `POST /object/sign/{bucket}/{path}`: an address that serves the object to anyone who has
    /// it, for `expires_in`. Absolute (Storage answers with a path under `/storage/v1`).
    pub async fn sign(
        &self,
        caller: Caller<'_>,
        bucket: &str,
        path: &str,
        expires_in: Duration,
    ) -> Result<String, StorageError> {
        let response = self
            .request(caller, Method::POST, &["object", "sign", bucket], path)
            .json(&json!({ "expiresIn": expires_in.as_secs() }))
            .send()
            .await?;
        let signed: Signed = checked(response).await?.json().await?;
        Ok(format!("{}{}", self.base_url, signed.signed_url))
    }

    /// `POST /object/sign/{bucket}` for many paths in one call: each path with its address, or
    /// `None` where Storage would not sign it (missing, or not the caller's to read).
    pub async fn sign_many(
        &self,
        caller: Caller<'_>,
        bucket: &str,
        paths: &[&str],
        expires_in: Duration,
    ) -> Result<Vec<(String, Option<String>)>, StorageError> {
        let response = self
            .request(caller, Method::POST, &["object", "sign", bucket], "")
            .json(&json!({ "expiresIn": expires_in.as_secs(), "paths": paths }))
            .send()
            .await?;
        let signed: Vec<SignedOneOfMany> = checked(response).await?.json().await?;
        Ok(signed
            .into_iter()
            .filter_map(|one| {
                let url = one.signed_url.map(|url| format!("{}{url}", self.base_url));
                Some((one.path?, url))
            })
            .collect())
    }

    /// `GET /object/authenticated/{bucket}/{path}`: the object's bytes and content type.
    pub async fn download(
        &self,
        caller: Caller<'_>,
        bucket: &str,
        path: &str,
    ) -> Result<(Bytes, String), StorageError> {
        let response = self
            .request(
                caller,
                Method::GET,
                &["object", "authenticated", bucket],
                path,
            )
            .send()
            .await?;
        let response = checked(response).await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        Ok((response.bytes().await?, content_type))
    }

    /// `DELETE /object/{bucket}` with `prefixes`: removes these objects (a missing one is no
    /// error, as in Storage).
    pub async fn remove(
        &self,
        caller: Caller<'_>,
        bucket: &str,
        paths: &[&str],
    ) -> Result<(), StorageError> {
        let response = self
            .request(caller, Method::DELETE, &["object", bucket], "")
            .json(&json!({ "prefixes": paths }))
            .send()
            .await?;
        checked(response).await.map(|_| ())
    }
}

/// The response when it succeeded, else the refusal it carries.
async fn checked(response: Response) -> Result<Response, StorageError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: Option<ErrorBody> = response.json().await.ok();
    Err(refusal(status, body))
}

fn refusal(status: StatusCode, body: Option<ErrorBody>) -> StorageError {
    let body = body.unwrap_or(ErrorBody {
        status_code: None,
        error: None,
        message: None,
    });
    StorageError::Refused {
        status: body
            .status_code
            .as_deref()
            .and_then(|code| code.parse().ok())
            .unwrap_or(status.as_u16()),
        error: body.error.unwrap_or_default(),
        message: body.message.unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unknown error")
                .to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_status_comes_from_the_body() {
        let body = serde_json::from_str::<ErrorBody>(
            r#"{"statusCode":"409","error":"Duplicate","message":"The resource already exists"}"#,
        )
        .unwrap();
        let error = refusal(StatusCode::BAD_REQUEST, Some(body));
        assert_eq!(error.status(), Some(409));
        assert!(error.to_string().contains("Duplicate"), "{error}");
        // A body that is not Storage's keeps the HTTP status.
        assert_eq!(refusal(StatusCode::BAD_GATEWAY, None).status(), Some(502));
    }
}
