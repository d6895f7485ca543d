//! The local Supabase Storage twin over real HTTP: the stand-in server as the app starts it
//! (`local::start`), Storage at `/storage/v1` next to Auth at `/auth/v1`, a fresh database and
//! storage folder each. People sign up through the Auth twin and call Storage with the access
//! token it gives them, as the app will.

use std::{path::PathBuf, time::Duration};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use kilat_server::{
    auth::jwt::sign_hs256,
    local::{self, AuthTwinSettings},
    outbound::http_client,
};
use md5::{Digest, Md5};
use reqwest::{Method, RequestBuilder, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::helpers::TestDb;

const SECRET: &str = "local-test-jwt-secret-with-at-least-32-characters";
/// The avatars bucket's `file_size_limit`.
const AVATAR_LIMIT: usize = 2_097_152;

/// Storage's answer to an upload over the limit.
fn too_large() -> Value {
    json!({"statusCode": "413", "error": "Payload too large",
           "message": "The object exceeded the maximum allowed size", "code": "EntityTooLarge"})
}

fn object_not_found() -> Value {
    json!({"statusCode": "404", "error": "not_found", "message": "Object not found",
           "code": "NoSuchKey"})
}

fn rls_refusal() -> Value {
    json!({"statusCode": "403", "error": "Unauthorized",
           "message": "new row violates row-level security policy", "code": "AccessDenied"})
}

struct Storage {
    /// `http://127.0.0.1:<port>`
    base: String,
    client: reqwest::Client,
    pool: PgPool,
    root: PathBuf,
    anon_key: String,
    service_key: String,
}

impl Drop for Storage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Someone signed up through the Auth twin.
struct Person {
    id: Uuid,
    token: String,
}

async fn spawn_storage() -> Storage {
    let db = TestDb::migrated().await;
    let root = std::env::temp_dir().join(format!("kilat-storage-twin-{}", Uuid::new_v4()));
    let anon_key = local::api_key("anon", SECRET.as_bytes());
    let stand_ins = local::start(
        0,
        Some(AuthTwinSettings {
            pool: db.pool.clone(),
            jwt_secret: SECRET.as_bytes().to_vec(),
            anon_key: anon_key.clone(),
            site_url: "http://127.0.0.1:3000".into(),
            mail_from: "Kilat <noreply@kilat.test>".into(),
            autoconfirm: true,
            access_token_ttl: Duration::from_secs(3600),
            http: http_client(),
            storage_dir: root.clone(),
        }),
        None,
    )
    .await
    .expect("the stand-ins start");
    Storage {
        base: stand_ins.base_url,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
        pool: db.pool,
        root,
        anon_key,
        service_key: local::api_key("service_role", SECRET.as_bytes()),
    }
}

impl Storage {
    fn url(&self, path: &str) -> String {
        format!("{}/storage/v1{path}", self.base)
    }

    /// A Storage call with the anon key in `apikey`, as supabase-js makes it, and `jwt` (an
    /// access token or a key) as the bearer.
    fn call(&self, method: Method, path: &str, jwt: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("apikey", &self.anon_key)
            .bearer_auth(jwt)
    }

    async fn sign_up(&self, email: &str) -> Person {
        let session: Value = self
            .client
            .post(format!("{}/auth/v1/signup", self.base))
            .header("apikey", &self.anon_key)
            .json(&json!({"email": email, "password": "rahasia-123"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Person {
            id: session["user"]["id"].as_str().unwrap().parse().unwrap(),
            token: session["access_token"].as_str().unwrap().to_string(),
        }
    }

    /// `POST /object/avatars/{name}` as `jwt`, with `bytes` of `content_type`.
    async fn upload(
        &self,
        jwt: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        answer(
            self.call(Method::POST, &format!("/object/avatars/{name}"), jwt)
                .header(header::CONTENT_TYPE, content_type)
                .body(bytes),
        )
        .await
    }

    /// A signed URL for `avatars/{name}` as `jwt`, made absolute.
    async fn sign(&self, jwt: &str, name: &str, expires_in: i64) -> (StatusCode, Value) {
        answer(
            self.call(Method::POST, &format!("/object/sign/avatars/{name}"), jwt)
                .json(&json!({"expiresIn": expires_in})),
        )
        .await
    }

    /// Signs `avatars/{name}` as `jwt` and fetches it like a browser (no keys).
    async fn fetch_signed(&self, jwt: &str, name: &str) -> reqwest::Response {
        let (status, body) = self.sign(jwt, name, 60).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.client
            .get(self.url(body["signedURL"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
    }

    /// The rows of `avatars/{name}`.
    async fn rows(&self, name: &str) -> i64 {
        sqlx::query_scalar(
            "select count(*) from storage.objects where bucket_id = 'avatars' and name = $1",
        )
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// The files in the folder of `avatars/{name}` (its versions, and any leftovers).
    fn files_of(&self, name: &str) -> Vec<String> {
        let folder = self.root.join("avatars").join(name);
        match std::fs::read_dir(&folder) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether anything at all was written for `avatars/{name}`.
    fn on_disk(&self, name: &str) -> bool {
        self.root.join("avatars").join(name).exists()
    }
}

async fn answer(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("the twin answers");
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON answer, got {text:?}"))
    };
    (status, body)
}

/// A stand-in for an image: only the declared type matters to Storage.
fn picture(size: usize, fill: u8) -> Vec<u8> {
    let mut bytes = vec![fill; size];
    bytes[..4.min(size)].copy_from_slice(&b"\x89PNG"[..4.min(size)]);
    bytes
}

fn e_tag(bytes: &[u8]) -> String {
    let hex: String = Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A part of a form: its field name, `Some((file name, type))` for a file, and its value.
type FormPart<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

/// A `multipart/form-data` body and its `Content-Type`.
fn form(parts: &[FormPart<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("kilat{}", Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, file, value) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some((file_name, content_type)) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An upload sent with `Transfer-Encoding: chunked` (no `Content-Length`, so the twin can only
/// find out the size while reading), over a plain socket.
async fn chunked_upload(
    storage: &Storage,
    jwt: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let address = storage.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /storage/v1/object/avatars/{name} HTTP/1.1\r\nHost: {address}\r\n\
         apikey: {}\r\nAuthorization: Bearer {jwt}\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        storage.anon_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in bytes.chunks(64 * 1024) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        stream.write_all(chunk).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_upload_comes_back_through_its_signed_url_with_its_bytes_and_type() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    let bytes = picture(5000, 7);

    let (status, uploaded) = answer(
        storage
            .call(Method::POST, &format!("/object/avatars/{name}"), &ana.token)
            .header(header::CONTENT_TYPE, "image/png")
            .header(header::CACHE_CONTROL, "max-age=3600")
            .body(bytes.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(uploaded["Key"], format!("avatars/{name}"));
    let id: Uuid = uploaded["Id"].as_str().unwrap().parse().unwrap();

    // The row, as Storage keeps it.
    let (row_id, owner, owner_id, version, metadata, user_metadata): (
        Uuid,
        Option<Uuid>,
        Option<String>,
        String,
        Value,
        Value,
    ) = sqlx::query_as(
        "select id, owner, owner_id, version, metadata, user_metadata from storage.objects
          where bucket_id = 'avatars' and name = $1",
    )
    .bind(&name)
    .fetch_one(&storage.pool)
    .await
    .unwrap();
    assert_eq!(row_id, id);
    assert_eq!(owner, Some(ana.id));
    assert_eq!(owner_id, Some(ana.id.to_string()));
    assert_eq!(metadata["mimetype"], "image/png");
    assert_eq!(metadata["size"], 5000);
    assert_eq!(metadata["contentLength"], 5000);
    assert_eq!(metadata["cacheControl"], "max-age=3600");
    assert_eq!(metadata["httpStatusCode"], 200);
    assert_eq!(metadata["eTag"], e_tag(&bytes));
    assert!(
        chrono::DateTime::parse_from_rfc3339(metadata["lastModified"].as_str().unwrap()).is_ok(),
        "{metadata}"
    );
    assert_eq!(user_metadata, json!({}));
    assert_eq!(
        storage.files_of(&name),
        std::slice::from_ref(&version),
        "one file, named by version"
    );

    // A signed URL: relative to /storage/v1, a token for exactly this object.
    let (status, signed) = storage.sign(&ana.token, &name, 60).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    let signed_url = signed["signedURL"].as_str().unwrap();
    let prefix = format!("/object/sign/avatars/{name}?token=");
    assert!(signed_url.starts_with(&prefix), "{signed_url}");
    let token = claims_of(&signed_url[prefix.len()..]);
    assert_eq!(token["url"], format!("avatars/{name}"));
    assert_eq!(token["scope"], "download");
    assert_eq!(
        token["exp"].as_i64().unwrap() - token["iat"].as_i64().unwrap(),
        60
    );

    // Fetched like an <img src>: no key, no Authorization.
    let fetched = storage
        .client
        .get(storage.url(signed_url))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    let headers = fetched.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(headers[header::CONTENT_LENGTH], "5000");
    assert_eq!(headers[header::ETAG].to_str().unwrap(), e_tag(&bytes));
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes");
    assert_eq!(headers["x-robots-tag"], "none");
    assert!(headers.contains_key(header::LAST_MODIFIED));
    let expires = chrono::DateTime::parse_from_rfc2822(headers[header::EXPIRES].to_str().unwrap())
        .expect("Expires is an HTTP date");
    assert_eq!(expires.timestamp(), token["exp"].as_i64().unwrap());
    assert!(
        !headers.contains_key(header::CACHE_CONTROL),
        "a signed URL answers with Expires instead"
    );
    assert_eq!(fetched.bytes().await.unwrap(), bytes);

    // `download` makes it an attachment; a matching ETag is a 304.
    let attachment = storage
        .client
        .get(format!(
            "{}&download=foto saya.png",
            storage.url(signed_url)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        attachment.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=foto%20saya.png; filename*=UTF-8''foto%20saya.png"
    );
    let revalidated = storage
        .client
        .get(storage.url(signed_url))
        .header(header::IF_NONE_MATCH, e_tag(&bytes))
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    // Downloaded as its owner, with the upload's Cache-Control.
    for path in [
        format!("/object/authenticated/avatars/{name}"),
        format!("/object/avatars/{name}"),
    ] {
        let own = storage
            .call(Method::GET, &path, &ana.token)
            .send()
            .await
            .unwrap();
        assert_eq!(own.status(), StatusCode::OK, "{path}");
        assert_eq!(own.headers()[header::CACHE_CONTROL], "max-age=3600");
        assert_eq!(own.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(own.bytes().await.unwrap(), bytes);
    }
}

#[tokio::test]
async fn the_avatars_bucket_takes_exactly_its_two_mebibytes_and_keeps_nothing_of_more() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;

    let fits = format!("{}/fits", ana.id);
    let (status, body) = storage
        .upload(&ana.token, &fits, "image/png", picture(AVATAR_LIMIT, 1))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fetched = storage.fetch_signed(&ana.token, &fits).await;
    assert_eq!(fetched.bytes().await.unwrap().len(), AVATAR_LIMIT);

    // Declared too large: refused before a byte is read.
    let declared = format!("{}/declared", ana.id);
    let (status, body) = storage
        .upload(
            &ana.token,
            &declared,
            "image/png",
            picture(AVATAR_LIMIT + 1, 2),
        )
        .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, too_large()));
    assert_eq!(storage.rows(&declared).await, 0);
    assert!(!storage.on_disk(&declared));

    // Undeclared (chunked): refused while streaming, the partial file removed.
    let streamed = format!("{}/streamed", ana.id);
    let (status, body) = chunked_upload(
        &storage,
        &ana.token,
        &streamed,
        "image/png",
        &picture(AVATAR_LIMIT + 1, 3),
    )
    .await;
    assert_eq!((status, body), (400, too_large()));
    assert_eq!(storage.rows(&streamed).await, 0);
    assert!(!storage.on_disk(&streamed), "no partial file is left");

    // The same within the limit streams in whole.
    let (status, body) = chunked_upload(
        &storage,
        &ana.token,
        &streamed,
        "image/png",
        &picture(AVATAR_LIMIT, 3),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(storage.rows(&streamed).await, 1);

    // A form's file part is held to the same limit.
    let in_form = format!("{}/in-form", ana.id);
    let big = picture(AVATAR_LIMIT + 1, 4);
    let (content_type, body) = form(&[
        ("cacheControl", None, b"3600"),
        ("", Some(("blob", "image/png")), &big),
    ]);
    let (status, answered) = answer(
        storage
            .call(
                Method::POST,
                &format!("/object/avatars/{in_form}"),
                &ana.token,
            )
            .header(header::CONTENT_TYPE, content_type)
            .body(body),
    )
    .await;
    assert_eq!((status, answered), (StatusCode::BAD_REQUEST, too_large()));
    assert_eq!(storage.rows(&in_form).await, 0);
    assert!(!storage.on_disk(&in_form));
}

#[tokio::test]
async fn a_type_the_bucket_does_not_allow_is_refused() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    for refused in ["text/plain", "image/png; charset=binary", "image/svg+xml"] {
        let (status, body) = storage
            .upload(&ana.token, &name, refused, picture(10, 0))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert_eq!(
            body,
            json!({"statusCode": "415", "error": "invalid_mime_type",
                   "message": format!("mime type {refused} is not supported"),
                   "code": "InvalidMimeType"})
        );
    }
    assert_eq!(storage.rows(&name).await, 0);
    assert!(!storage.on_disk(&name));

    // A wildcard allows a whole family.
    sqlx::query(
        "insert into storage.buckets (id, name, public, allowed_mime_types)
         values ('pictures', 'pictures', false, array['image/*'])",
    )
    .execute(&storage.pool)
    .await
    .unwrap();
    let to_pictures = |content_type: &'static str| {
        storage
            .call(
                Method::POST,
                "/object/pictures/a.avif",
                &storage.service_key,
            )
            .header(header::CONTENT_TYPE, content_type)
            .body(picture(10, 0))
    };
    assert_eq!(answer(to_pictures("image/avif")).await.0, StatusCode::OK);
    assert_eq!(
        answer(to_pictures("video/mp4")).await.1["code"],
        "InvalidMimeType"
    );
}

#[tokio::test]
async fn nobody_but_the_owner_and_the_service_role_touches_a_users_folder() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let budi = storage.sign_up("budi@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    let bytes = picture(100, 9);
    assert_eq!(
        storage
            .upload(&ana.token, &name, "image/png", bytes.clone())
            .await
            .0,
        StatusCode::OK
    );

    // Budi: cannot write into Ana's folder, nor overwrite her picture...
    let (status, body) = storage
        .upload(
            &budi.token,
            &format!("{}/planted", ana.id),
            "image/png",
            picture(10, 0),
        )
        .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, rls_refusal()));
    assert!(!storage.on_disk(&format!("{}/planted", ana.id)));
    let (status, body) = answer(
        storage
            .call(
                Method::POST,
                &format!("/object/avatars/{name}"),
                &budi.token,
            )
            .header(header::CONTENT_TYPE, "image/png")
            .header("x-upsert", "true")
            .body(picture(10, 0)),
    )
    .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, rls_refusal()));
    let (status, body) = answer(
        storage
            .call(Method::PUT, &format!("/object/avatars/{name}"), &budi.token)
            .header(header::CONTENT_TYPE, "image/png")
            .body(picture(10, 0)),
    )
    .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, rls_refusal()));

    // ...cannot sign it or download it: to him it does not exist...
    assert_eq!(
        storage.sign(&budi.token, &name, 60).await,
        (StatusCode::BAD_REQUEST, object_not_found())
    );
    for path in [
        format!("/object/authenticated/avatars/{name}"),
        format!("/object/avatars/{name}"),
    ] {
        assert_eq!(
            answer(storage.call(Method::GET, &path, &budi.token)).await,
            (StatusCode::BAD_REQUEST, object_not_found()),
            "{path}"
        );
    }
    let (status, batch) = answer(
        storage
            .call(Method::POST, "/object/sign/avatars", &budi.token)
            .json(&json!({"expiresIn": 60, "paths": [name]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        batch,
        json!([{"error": "Either the object does not exist or you do not have access to it",
                "path": name, "signedURL": null}])
    );

    // ...and cannot delete it.
    assert_eq!(
        answer(storage.call(
            Method::DELETE,
            &format!("/object/avatars/{name}"),
            &budi.token
        ))
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "403", "error": "Unauthorized", "message": "Access denied",
                   "code": "AccessDenied"})
        )
    );
    assert_eq!(
        answer(
            storage
                .call(Method::DELETE, "/object/avatars", &budi.token)
                .json(&json!({"prefixes": [name]}))
        )
        .await,
        (StatusCode::OK, json!([]))
    );

    // The anon key is nobody: no writes, and a private bucket is not there for the public.
    let (status, body) = storage
        .upload(
            &storage.anon_key,
            &format!("{}/anon", ana.id),
            "image/png",
            picture(10, 0),
        )
        .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, rls_refusal()));
    assert_eq!(
        storage.sign(&storage.anon_key, &name, 60).await,
        (StatusCode::BAD_REQUEST, object_not_found())
    );
    assert_eq!(
        answer(
            storage
                .client
                .get(storage.url(&format!("/object/avatars/{name}")))
                .header("apikey", &storage.anon_key)
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "404", "error": "Bucket not found", "message": "Bucket not found",
                   "code": "NoSuchBucket"})
        )
    );

    // Ana's picture is untouched.
    assert_eq!(
        storage
            .fetch_signed(&ana.token, &name)
            .await
            .bytes()
            .await
            .unwrap(),
        bytes
    );

    // The service role passes every policy; its uploads have no owner.
    let by_service = format!("{}/by-service", ana.id);
    assert_eq!(
        storage
            .upload(
                &storage.service_key,
                &by_service,
                "image/png",
                picture(10, 0)
            )
            .await
            .0,
        StatusCode::OK
    );
    let (owner, owner_id): (Option<Uuid>, Option<String>) = sqlx::query_as(
        "select owner, owner_id from storage.objects where bucket_id = 'avatars' and name = $1",
    )
    .bind(&by_service)
    .fetch_one(&storage.pool)
    .await
    .unwrap();
    assert_eq!((owner, owner_id), (None, None));
    assert_eq!(
        storage
            .fetch_signed(&storage.service_key, &name)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        answer(storage.call(
            Method::DELETE,
            &format!("/object/avatars/{by_service}"),
            &storage.service_key
        ))
        .await,
        (StatusCode::OK, json!({"message": "Successfully deleted"}))
    );
    assert!(!storage.on_disk(&by_service));
}

#[tokio::test]
async fn signed_url_tokens_are_checked_as_storage_checks_them() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    storage
        .upload(&ana.token, &name, "image/png", picture(10, 0))
        .await;
    storage
        .upload(
            &ana.token,
            &format!("{}/other", ana.id),
            "image/png",
            picture(10, 1),
        )
        .await;
    let path = format!("/object/sign/avatars/{name}");
    let storage = &storage;
    let fetch = |token: String| {
        let url = format!("{}?token={token}", storage.url(&path));
        async move { answer(storage.client.get(url)).await }
    };
    let now = chrono::Utc::now().timestamp();
    let url = format!("avatars/{name}");

    let expired = sign_hs256(
        &json!({"url": url, "scope": "download", "iat": now - 120, "exp": now - 60}),
        SECRET.as_bytes(),
    );
    assert_eq!(
        fetch(expired).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "400", "error": "InvalidJWT",
                   "message": "\"exp\" claim timestamp check failed", "code": "InvalidJWT"})
        )
    );

    // A real token for another object of hers.
    let (_, other) = storage
        .sign(&ana.token, &format!("{}/other", ana.id), 60)
        .await;
    let other_token = other["signedURL"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(
        fetch(other_token.clone()).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "400", "error": "InvalidSignature",
                   "message": "Invalid signature", "code": "InvalidSignature"})
        )
    );

    // That token with its `url` rewritten to this object: the signature no longer matches.
    let mut parts: Vec<String> = other_token.split('.').map(str::to_string).collect();
    let mut claims = claims_of(&other_token);
    claims["url"] = json!(url);
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature_failed = (
        StatusCode::BAD_REQUEST,
        json!({"statusCode": "400", "error": "InvalidJWT",
               "message": "signature verification failed", "code": "InvalidJWT"}),
    );
    assert_eq!(fetch(parts.join(".")).await, signature_failed);
    let forged = sign_hs256(
        &json!({"url": url, "scope": "download", "iat": now, "exp": now + 60}),
        b"not-the-project-secret-but-long-enough",
    );
    assert_eq!(fetch(forged).await, signature_failed);

    // Only download tokens open downloads.
    let upload_token = sign_hs256(
        &json!({"url": url, "scope": "upload", "owner": ana.id, "upsert": false, "iat": now, "exp": now + 60}),
        SECRET.as_bytes(),
    );
    assert_eq!(
        fetch(upload_token).await.1["message"],
        "Token is not scoped for download"
    );
    assert_eq!(
        fetch("xxx".into()).await.1["message"],
        "Invalid Compact JWS"
    );
    assert_eq!(
        answer(storage.client.get(storage.url(&path))).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "400", "error": "Error",
                   "message": "querystring must have required property 'token'",
                   "code": "InvalidRequest"})
        )
    );

    // And a good one works.
    let good = sign_hs256(
        &json!({"url": url, "scope": "download", "iat": now, "exp": now + 60}),
        SECRET.as_bytes(),
    );
    assert_eq!(
        storage
            .client
            .get(format!("{}?token={good}", storage.url(&path)))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn uploading_over_an_object_needs_upsert_and_then_replaces_it_whole() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    let (_, first) = storage
        .upload(&ana.token, &name, "image/png", picture(300, 1))
        .await;

    assert_eq!(
        storage
            .upload(&ana.token, &name, "image/png", picture(300, 2))
            .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "409", "error": "Duplicate",
                   "message": "The resource already exists", "code": "KeyAlreadyExists"})
        )
    );
    assert_eq!(
        storage
            .fetch_signed(&ana.token, &name)
            .await
            .bytes()
            .await
            .unwrap(),
        picture(300, 1)
    );

    let (status, upserted) = answer(
        storage
            .call(Method::POST, &format!("/object/avatars/{name}"), &ana.token)
            .header(header::CONTENT_TYPE, "image/webp")
            .header("x-upsert", "true")
            .body(picture(200, 3)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{upserted}");
    assert_eq!(upserted, first, "the same object, same Id and Key");
    let fetched = storage.fetch_signed(&ana.token, &name).await;
    assert_eq!(fetched.headers()[header::CONTENT_TYPE], "image/webp");
    assert_eq!(fetched.bytes().await.unwrap(), picture(200, 3));

    let (status, put) = answer(
        storage
            .call(Method::PUT, &format!("/object/avatars/{name}"), &ana.token)
            .header(header::CONTENT_TYPE, "image/gif")
            .body(picture(100, 4)),
    )
    .await;
    assert_eq!((status, &put), (StatusCode::OK, &first));
    assert_eq!(
        storage
            .fetch_signed(&ana.token, &name)
            .await
            .bytes()
            .await
            .unwrap(),
        picture(100, 4)
    );
    assert_eq!(storage.rows(&name).await, 1);
    assert_eq!(
        storage.files_of(&name).len(),
        1,
        "replaced versions are deleted"
    );
}

#[tokio::test]
async fn batch_signing_answers_for_every_path_in_order() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let (one, two, missing) = (
        format!("{}/one", ana.id),
        format!("{}/two", ana.id),
        format!("{}/missing", ana.id),
    );
    storage
        .upload(&ana.token, &one, "image/png", picture(10, 1))
        .await;
    storage
        .upload(&ana.token, &two, "image/png", picture(10, 2))
        .await;

    let (status, signed) = answer(
        storage
            .call(Method::POST, "/object/sign/avatars", &ana.token)
            .json(&json!({"expiresIn": 60, "paths": [two, missing, one]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    let signed = signed.as_array().unwrap();
    assert_eq!(signed.len(), 3);
    for (entry, (path, fill)) in
        signed
            .iter()
            .zip([(&two, Some(2)), (&missing, None), (&one, Some(1))])
    {
        assert_eq!(entry["path"], *path);
        match fill {
            Some(fill) => {
                assert_eq!(entry["error"], Value::Null);
                let url = entry["signedURL"].as_str().unwrap();
                assert!(
                    url.starts_with(&format!("/object/sign/avatars/{path}?token=")),
                    "{url}"
                );
                let bytes = storage
                    .client
                    .get(storage.url(url))
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert_eq!(bytes, picture(10, fill));
            }
            None => {
                assert_eq!(
                    entry["error"],
                    "Either the object does not exist or you do not have access to it"
                );
                assert_eq!(entry["signedURL"], Value::Null);
            }
        }
    }

    assert_eq!(
        answer(
            storage
                .call(Method::POST, "/object/sign/avatars", &ana.token)
                .json(&json!({"expiresIn": 60, "paths": []}))
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "400", "error": "Error",
                   "message": "body/paths must NOT have fewer than 1 items",
                   "code": "InvalidRequest"})
        )
    );
    assert_eq!(
        answer(
            storage
                .call(
                    Method::POST,
                    &format!("/object/sign/avatars/{one}"),
                    &ana.token
                )
                .json(&json!({"expiresIn": 0}))
        )
        .await
        .1["message"],
        "body/expiresIn must be >= 1"
    );
}

#[tokio::test]
async fn deleting_returns_the_rows_and_takes_the_files_with_them() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let (one, two, three) = (
        format!("{}/one", ana.id),
        format!("{}/two", ana.id),
        format!("{}/three", ana.id),
    );
    for name in [&one, &two, &three] {
        storage
            .upload(&ana.token, name, "image/png", picture(10, 1))
            .await;
    }

    let (status, deleted) = answer(
        storage
            .call(Method::DELETE, "/object/avatars", &ana.token)
            .json(&json!({"prefixes": [one, two, format!("{}/never-was", ana.id)]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let mut deleted = deleted.as_array().unwrap().clone();
    deleted.sort_by_key(|row| row["name"].as_str().unwrap().to_string());
    assert_eq!(deleted.len(), 2);
    for (row, name) in deleted.iter().zip([&one, &two]) {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "name",
            "bucket_id",
            "owner",
            "owner_id",
            "version",
            "id",
            "updated_at",
            "created_at",
            "last_accessed_at",
            "metadata",
            "user_metadata",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected, "Storage's objectSchema fields");
        assert_eq!(row["name"], *name);
        assert_eq!(row["bucket_id"], "avatars");
        assert_eq!(row["owner"], ana.id.to_string());
        assert_eq!(row["owner_id"], ana.id.to_string());
        assert_eq!(row["metadata"]["size"], 10);
        assert!(
            row["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 24),
            "JavaScript ISO time: {row}"
        );
        assert_eq!(storage.rows(name).await, 0);
        assert!(!storage.on_disk(name), "its file and folder are gone");
    }

    assert_eq!(
        answer(storage.call(
            Method::DELETE,
            &format!("/object/avatars/{three}"),
            &ana.token
        ))
        .await,
        (StatusCode::OK, json!({"message": "Successfully deleted"}))
    );
    assert!(!storage.on_disk(&three));
    assert_eq!(
        answer(storage.call(
            Method::DELETE,
            &format!("/object/avatars/{three}"),
            &ana.token
        ))
        .await,
        (StatusCode::BAD_REQUEST, object_not_found())
    );
    assert!(
        !storage
            .root
            .join("avatars")
            .join(ana.id.to_string())
            .exists(),
        "empty folders are removed"
    );
}

#[tokio::test]
async fn names_that_could_leave_the_storage_folder_are_refused() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;

    // `%2F` keeps the client from resolving the dots; the twin decodes them into the name.
    let escaping = format!("{}/../../../escaped", ana.id);
    for jwt in [&ana.token, &storage.service_key] {
        let (status, body) = storage
            .upload(
                jwt,
                &escaping.replace('/', "%2F"),
                "image/png",
                picture(10, 0),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "InvalidKey");
        assert_eq!(body["statusCode"], "400");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("Invalid key: avatars/{escaping}/"))
                && message.ends_with(" contains dot path segment"),
            "{message}"
        );
    }
    assert_eq!(storage.rows(&escaping).await, 0);
    assert!(!storage.root.parent().unwrap().join("escaped").exists());
    assert!(!storage.root.join("escaped").exists());

    for (encoded, name) in [
        (format!("{}%5Cx.png", ana.id), format!("{}\\x.png", ana.id)),
        (
            format!("{}/nul%00.png", ana.id),
            format!("{}/nul\0.png", ana.id),
        ),
        (
            format!("{}/caf%C3%A9.png", ana.id),
            format!("{}/caf\u{e9}.png", ana.id),
        ),
    ] {
        assert_eq!(
            storage
                .upload(&ana.token, &encoded, "image/png", picture(10, 0))
                .await,
            (
                StatusCode::BAD_REQUEST,
                json!({"statusCode": "400", "error": "InvalidKey",
                       "message": format!("Invalid key: {name}"), "code": "InvalidKey"})
            ),
            "{encoded}"
        );
    }

    // A bucket name cannot climb out either.
    let (status, body) = answer(
        storage
            .call(
                Method::POST,
                "/object/..%2F..%2Fetc/passwd",
                &storage.service_key,
            )
            .header(header::CONTENT_TYPE, "image/png")
            .body(picture(10, 0)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("NoSuchBucket"))
    );
    let (status, body) = answer(
        storage
            .call(Method::DELETE, "/object/..%2F..", &storage.service_key)
            .json(&json!({"prefixes": ["etc/passwd"]})),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn twenty_concurrent_upserts_of_one_name_leave_one_row_and_one_whole_file() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    let uploads: Vec<Vec<u8>> = (0..20u8)
        .map(|i| picture(150_000 + usize::from(i), i))
        .collect();

    let answers = join_all(uploads.iter().map(|bytes| {
        answer(
            storage
                .call(Method::PUT, &format!("/object/avatars/{name}"), &ana.token)
                .header(header::CONTENT_TYPE, "image/png")
                .body(bytes.clone()),
        )
    }))
    .await;
    let first = &answers[0].1;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body, first, "every upsert wrote the same object");
    }

    assert_eq!(storage.rows(&name).await, 1);
    let files = storage.files_of(&name);
    assert_eq!(files.len(), 1, "one file, no leftovers: {files:?}");
    let (version, metadata): (String, Value) = sqlx::query_as(
        "select version, metadata from storage.objects where bucket_id = 'avatars' and name = $1",
    )
    .bind(&name)
    .fetch_one(&storage.pool)
    .await
    .unwrap();
    assert_eq!(files[0], version);
    let on_disk = std::fs::read(storage.root.join("avatars").join(&name).join(&version)).unwrap();
    assert!(uploads.contains(&on_disk), "the file is one whole upload");
    assert_eq!(metadata["size"], on_disk.len());
    assert_eq!(metadata["eTag"], e_tag(&on_disk));
    assert_eq!(
        storage
            .fetch_signed(&ana.token, &name)
            .await
            .bytes()
            .await
            .unwrap(),
        on_disk
    );
}

/// Runs the futures concurrently on this task and returns their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn calls_need_the_projects_key_and_a_valid_jwt() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    let path = format!("/object/sign/avatars/{name}");

    assert_eq!(
        answer(
            storage
                .client
                .post(storage.url(&path))
                .bearer_auth(&ana.token)
                .json(&json!({"expiresIn": 60}))
        )
        .await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"message": "No API key found in request",
                   "hint": "No `apikey` request header or url param was found."})
        )
    );
    assert_eq!(
        answer(
            storage
                .client
                .post(storage.url(&path))
                .header("apikey", "not-a-key")
                .bearer_auth(&ana.token)
                .json(&json!({"expiresIn": 60}))
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        answer(
            storage
                .client
                .post(format!(
                    "{}?apikey={}",
                    storage.url(&path),
                    storage.anon_key
                ))
                .bearer_auth(&ana.token)
                .json(&json!({"expiresIn": 60}))
        )
        .await,
        (StatusCode::BAD_REQUEST, object_not_found()),
        "the key may come as a query parameter"
    );

    assert_eq!(
        answer(
            storage
                .client
                .post(storage.url(&path))
                .header("apikey", &storage.anon_key)
                .json(&json!({"expiresIn": 60}))
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "400", "error": "Error",
                   "message": "headers must have required property 'authorization'",
                   "code": "InvalidRequest"})
        )
    );
    let now = chrono::Utc::now().timestamp();
    let expired = sign_hs256(
        &json!({"sub": ana.id, "role": "authenticated", "aud": "authenticated", "iat": now - 7200, "exp": now - 3600}),
        SECRET.as_bytes(),
    );
    let forged = sign_hs256(
        &json!({"sub": ana.id, "role": "authenticated", "aud": "authenticated", "exp": now + 3600}),
        b"not-the-project-secret-but-long-enough",
    );
    let super_user = sign_hs256(
        &json!({"role": "postgres", "exp": now + 3600}),
        SECRET.as_bytes(),
    );
    for (jwt, reason) in [
        ("garbage".to_string(), "Invalid Compact JWS"),
        (expired, "\"exp\" claim timestamp check failed"),
        (forged, "signature verification failed"),
        (super_user, "permission denied to set role \"postgres\""),
    ] {
        assert_eq!(
            storage
                .upload(&jwt, &name, "image/png", picture(10, 0))
                .await,
            (
                StatusCode::BAD_REQUEST,
                json!({"statusCode": "403", "error": "Unauthorized", "message": reason,
                       "code": "AccessDenied"})
            ),
            "{reason}"
        );
    }
    assert_eq!(storage.rows(&name).await, 0);

    assert_eq!(
        answer(
            storage
                .call(Method::POST, "/object/nowhere/x.png", &ana.token)
                .header(header::CONTENT_TYPE, "image/png")
                .body(picture(10, 0))
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "404", "error": "Bucket not found", "message": "Bucket not found",
                   "code": "NoSuchBucket"})
        )
    );
    assert_eq!(
        answer(storage.call(Method::GET, "/bucket?x=1", &ana.token)).await,
        (
            StatusCode::NOT_FOUND,
            json!({"statusCode": "404", "error": "Not Found",
                   "message": "Route GET:/bucket?x=1 not found", "code": "InvalidRequest"})
        )
    );
}

#[tokio::test]
async fn a_form_upload_stores_its_file_part_as_supabase_js_sends_a_blob() {
    let storage = spawn_storage().await;
    let ana = storage.sign_up("ana@kilat.id").await;
    let name = format!("{}/avatar", ana.id);
    let bytes = picture(4000, 5);
    let (content_type, body) = form(&[
        ("cacheControl", None, b"3600"),
        ("metadata", None, br#"{"source":"camera"}"#),
        ("", Some(("blob", "image/webp")), &bytes),
    ]);
    let (status, uploaded) = answer(
        storage
            .call(Method::POST, &format!("/object/avatars/{name}"), &ana.token)
            .header(header::CONTENT_TYPE, content_type)
            .body(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let (metadata, user_metadata): (Value, Value) = sqlx::query_as(
        "select metadata, user_metadata from storage.objects where bucket_id = 'avatars' and name = $1",
    )
    .bind(&name)
    .fetch_one(&storage.pool)
    .await
    .unwrap();
    assert_eq!(metadata["mimetype"], "image/webp");
    assert_eq!(metadata["cacheControl"], "max-age=3600");
    assert_eq!(metadata["size"], 4000);
    assert_eq!(user_metadata, json!({"source": "camera"}));
    let fetched = storage.fetch_signed(&ana.token, &name).await;
    assert_eq!(fetched.headers()[header::CONTENT_TYPE], "image/webp");
    assert_eq!(fetched.bytes().await.unwrap(), bytes);

    // A form without a file, and a file part of a type the bucket refuses.
    let (content_type, body) = form(&[("cacheControl", None, b"3600")]);
    assert_eq!(
        answer(
            storage
                .call(
                    Method::POST,
                    &format!("/object/avatars/{}/none", ana.id),
                    &ana.token
                )
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"statusCode": "400", "error": "InvalidRequest", "message": "No content provided",
                   "code": "InvalidRequest"})
        )
    );
    let (content_type, body) = form(&[("", Some(("notes.txt", "text/plain")), b"hello")]);
    assert_eq!(
        answer(
            storage
                .call(
                    Method::POST,
                    &format!("/object/avatars/{}/notes", ana.id),
                    &ana.token
                )
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
        )
        .await
        .1["message"],
        "mime type text/plain is not supported"
    );
}

#[tokio::test]
async fn policies_see_the_request_as_storage_describes_it_to_them() {
    let storage = spawn_storage().await;
    // A drop box anyone may post to, but only through the upload call, as anon, from a client
    // that names itself — all read from the settings Storage sets for each request.
    for statement in [
        "insert into storage.buckets (id, name) values ('inbox', 'inbox')",
        "create policy inbox_posts on storage.objects for insert to anon with check (
           bucket_id = 'inbox'
           and current_setting('request.method', true) = 'POST'
           and current_setting('request.path', true) like '/object/inbox/%'
           and current_setting('storage.operation', true) = 'storage.object.upload'
           and current_setting('request.jwt.claim.role', true) = 'anon'
           and auth.role() = 'anon'
           and current_setting('request.headers', true)::jsonb ->> 'x-client-info' = 'kilat-test')",
    ] {
        sqlx::raw_sql(statement)
            .execute(&storage.pool)
            .await
            .unwrap();
    }
    let post = |client_info: &'static str| {
        storage
            .call(Method::POST, "/object/inbox/note.txt", &storage.anon_key)
            .header(header::CONTENT_TYPE, "text/plain")
            .header("x-client-info", client_info)
            .body("hello")
    };
    assert_eq!(
        answer(post("someone-else")).await,
        (StatusCode::BAD_REQUEST, rls_refusal())
    );
    let (status, body) = answer(post("kilat-test")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Key"], "inbox/note.txt");

    assert!(storage.root.join("inbox").join("note.txt").is_dir());

    // The role and request settings end with each transaction.
    let leaked: Option<String> =
        sqlx::query_scalar("select nullif(current_setting('request.jwt.claim.role', true), '')")
            .fetch_one(&storage.pool)
            .await
            .unwrap();
    assert_eq!(leaked, None);
}

/// The server's own Storage client against the twin: every call it offers, as a person and as
/// the service role, and Storage's refusals read back with their real status.
#[tokio::test]
async fn the_servers_storage_client_speaks_the_protocol_the_twin_answers() {
    use kilat_server::storage::{Caller, StorageClient, Upload};

    let storage = spawn_storage().await;
    let ana = storage.sign_up("client-ana@kilat.test").await;
    let budi = storage.sign_up("client-budi@kilat.test").await;
    let client = StorageClient::new(
        http_client(),
        &storage.base,
        storage.anon_key.clone(),
        storage.service_key.clone(),
    );
    let path = format!("{}/avatar", ana.id);
    let upload = |bytes: &'static [u8]| Upload {
        bucket: "avatars",
        path: &path,
        content_type: "image/png",
        max_age: Duration::from_secs(300),
        bytes: bytes.into(),
    };
    client
        .upload(Caller::User(&ana.token), upload(b"first"))
        .await
        .unwrap();
    // Upserted: the second upload replaces the first.
    client
        .upload(Caller::User(&ana.token), upload(b"second"))
        .await
        .unwrap();
    assert_eq!(storage.rows(&path).await, 1);

    let (bytes, content_type) = client
        .download(Caller::Service, "avatars", &path)
        .await
        .unwrap();
    assert_eq!(
        (&bytes[..], content_type.as_str()),
        (&b"second"[..], "image/png")
    );
    let own = client
        .download(Caller::User(&ana.token), "avatars", &path)
        .await
        .unwrap();
    assert_eq!(&own.0[..], b"second");

    let url = client
        .sign(
            Caller::User(&ana.token),
            "avatars",
            &path,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(url.starts_with(&format!(
        "{}/storage/v1/object/sign/avatars/{path}?token=",
        storage.base
    )));
    let fetched = storage.client.get(&url).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(&fetched.bytes().await.unwrap()[..], b"second");

    let missing = format!("{}/avatar", budi.id);
    let many = client
        .sign_many(
            Caller::Service,
            "avatars",
            &[&path, &missing],
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(many.len(), 2);
    assert_eq!(many[0].0, path);
    assert!(
        many[0]
            .1
            .as_deref()
            .is_some_and(|url| url.contains("token="))
    );
    assert_eq!(
        (many[1].0.as_str(), many[1].1.as_deref()),
        (missing.as_str(), None)
    );

    // Budi may not write into Ana's folder: the body's 403, not the HTTP 400, is the status.
    let refused = client
        .upload(Caller::User(&budi.token), upload(b"mine now"))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403), "{refused}");

    client
        .remove(Caller::User(&ana.token), "avatars", &[&path])
        .await
        .unwrap();
    assert_eq!(storage.rows(&path).await, 0);
    let gone = client
        .sign(
            Caller::User(&ana.token),
            "avatars",
            &path,
            Duration::from_secs(60),
        )
        .await
        .unwrap_err();
    assert_eq!(gone.status(), Some(404), "{gone}");
}
