//! The local Supabase Auth twin over real HTTP: the twin nested at `/auth/v1` next to the
//! Resend twin at `/resend`, mails read from the Resend twin's mailbox, a fresh database each.

use std::{collections::HashMap, time::Duration};

use axum::Router;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use kilat_server::{
    auth::jwt::{JwtSecret, TokenVerifier, VerifierConfig},
    local::{
        auth_twin::{self, AuthTwinConfig, CONSENT_PAGE_TITLE},
        mail_twin::{self, Mailbox},
    },
    mail::Mailer,
    outbound::http_client,
};
use reqwest::{RequestBuilder, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::TestDb;

const SECRET: &str = "local-test-jwt-secret-with-at-least-32-characters";
const ANON_KEY: &str = "anon-key-for-tests";
const SITE_URL: &str = "http://127.0.0.1:3000";
const APP_CALLBACK: &str = "http://app.test/auth/confirm";
const PASSWORD: &str = "correct horse battery";

struct Twin {
    /// `http://127.0.0.1:<port>`
    base: String,
    client: reqwest::Client,
    mailbox: Mailbox,
    pool: PgPool,
}

async fn spawn_twin(autoconfirm: bool) -> Twin {
    let db = TestDb::migrated().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mailbox = Mailbox::default();
    let config = AuthTwinConfig {
        pool: db.pool.clone(),
        jwt_secret: SECRET.as_bytes().to_vec(),
        anon_key: ANON_KEY.into(),
        api_external_url: base.clone(),
        site_url: SITE_URL.into(),
        additional_redirect_urls: vec!["http://app.test/**".into()],
        mailer: Mailer::new(http_client(), format!("{base}/resend"), "re_local"),
        mail_from: "Kilat <noreply@kilat.test>".into(),
        autoconfirm,
        access_token_ttl: Duration::from_secs(3600),
    };
    let router = Router::new()
        .nest("/auth/v1", auth_twin::router(config))
        .nest("/resend", mail_twin::router(mailbox.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Twin {
        base,
        client,
        mailbox,
        pool: db.pool,
    }
}

impl Twin {
    fn url(&self, path: &str) -> String {
        format!("{}/auth/v1{path}", self.base)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).header("apikey", ANON_KEY)
    }

    async fn call(request: RequestBuilder) -> (StatusCode, Value) {
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

    async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::call(self.post(path).json(&body)).await
    }

    async fn sign_up(&self, email: &str, extra: Value) -> (StatusCode, Value) {
        let mut body =
            json!({"email": email, "password": PASSWORD, "data": {"full_name": "Ana Wijaya"}});
        if let (Value::Object(map), Value::Object(more)) = (&mut body, extra) {
            map.extend(more);
        }
        Self::call(
            self.post("/signup")
                .query(&[("redirect_to", APP_CALLBACK)])
                .json(&body),
        )
        .await
    }

    /// `POST /token?grant_type=…`, body still to add.
    fn token(&self, grant_type: &str) -> RequestBuilder {
        self.post("/token").query(&[("grant_type", grant_type)])
    }

    async fn password_grant(&self, email: &str, password: &str) -> (StatusCode, Value) {
        Self::call(
            self.token("password")
                .json(&json!({"email": email, "password": password})),
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        Self::call(
            self.token("refresh_token")
                .json(&json!({"refresh_token": refresh_token})),
        )
        .await
    }

    async fn pkce_grant(&self, code: &str, verifier: &str) -> (StatusCode, Value) {
        Self::call(
            self.token("pkce")
                .json(&json!({"auth_code": code, "code_verifier": verifier})),
        )
        .await
    }

    async fn get_user(&self, access_token: &str) -> (StatusCode, Value) {
        Self::call(
            self.client
                .get(self.url("/user"))
                .header("apikey", ANON_KEY)
                .bearer_auth(access_token),
        )
        .await
    }

    /// The newest mail to `to`.
    fn last_mail(&self, to: &str) -> kilat_server::mail::Email {
        self.mailbox
            .messages()
            .into_iter()
            .find(|m| m.email.to.iter().any(|t| t == to))
            .unwrap_or_else(|| panic!("a mail to {to}"))
            .email
    }

    fn mails_to(&self, to: &str) -> usize {
        self.mailbox
            .messages()
            .iter()
            .filter(|m| m.email.to.iter().any(|t| t == to))
            .count()
    }

    /// The clickable link of the newest mail to `to` (from the HTML, as a person clicks it).
    fn mail_link(&self, to: &str) -> String {
        let html = self.last_mail(to).html;
        let start = html.find("href=\"").expect("the mail has a link") + "href=\"".len();
        let end = start + html[start..].find('"').unwrap();
        html[start..end].replace("&amp;", "&")
    }

    /// Follows a link without following the redirect; returns the status and `Location`.
    async fn follow(&self, link: &str) -> (StatusCode, String) {
        let response = self.client.get(link).send().await.unwrap();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (response.status(), location)
    }
}

fn pairs(encoded: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

fn fragment(location: &str) -> HashMap<String, String> {
    pairs(location.split_once('#').map_or("", |(_, f)| f))
}

fn query(location: &str) -> HashMap<String, String> {
    let without_fragment = location.split('#').next().unwrap();
    pairs(without_fragment.split_once('?').map_or("", |(_, q)| q))
}

fn pkce_pair() -> (String, String) {
    let verifier = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn is_timestamp(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// `UserSchema`'s shape, as far as clients rely on it.
fn assert_user_schema(user: &Value) {
    assert!(
        user["id"]
            .as_str()
            .is_some_and(|id| Uuid::parse_str(id).is_ok()),
        "user.id is a uuid: {user}"
    );
    assert_eq!(user["aud"], "authenticated");
    assert!(user["role"].is_string());
    assert!(user["email"].as_str().is_some_and(|e| e.contains('@')));
    assert!(user["phone"].is_string());
    assert!(user["app_metadata"].is_object());
    assert!(user["user_metadata"].is_object());
    assert!(user["identities"].is_array());
    assert!(is_timestamp(&user["created_at"]), "created_at: {user}");
    assert!(is_timestamp(&user["updated_at"]));
    assert!(user["is_anonymous"].is_boolean());
    for identity in user["identities"].as_array().unwrap() {
        assert!(Uuid::parse_str(identity["identity_id"].as_str().unwrap()).is_ok());
        assert!(identity["id"].is_string());
        assert!(identity["provider"].is_string());
        assert!(identity["identity_data"].is_object());
        assert!(is_timestamp(&identity["created_at"]));
    }
}

/// `AccessTokenResponseSchema`'s shape.
fn assert_token_schema(session: &Value) {
    assert_eq!(session["token_type"], "bearer", "{session}");
    assert!(
        session["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(
        session["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let expires_in = session["expires_in"]
        .as_i64()
        .expect("expires_in is an integer");
    assert!(
        (3590..=3600).contains(&expires_in),
        "expires_in {expires_in}"
    );
    let expires_at = session["expires_at"]
        .as_i64()
        .expect("expires_at is an integer");
    assert!((expires_at - chrono::Utc::now().timestamp() - 3600).abs() <= 10);
    assert_user_schema(&session["user"]);
    assert_eq!(session["user"]["role"], "authenticated");
}

async fn verify_access_token(twin: &Twin, token: &str) -> kilat_server::auth::jwt::AccessClaims {
    let verifier = TokenVerifier::new(VerifierConfig::for_supabase(
        &twin.base,
        Some(JwtSecret::from(SECRET)),
        http_client(),
    ))
    .unwrap();
    verifier
        .verify(token)
        .await
        .expect("the access token verifies")
}

async fn row_exists(pool: &PgPool, sql: &str, user: Uuid) -> bool {
    sqlx::query_scalar::<_, bool>(&format!("select exists ({sql})"))
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn signup_mails_a_confirmation_link_that_confirms_the_account_and_signs_in() {
    let twin = spawn_twin(false).await;
    let email = "ana@kilat.test";

    let (status, user) = twin.sign_up("Ana@Kilat.test", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert!(
        user.get("access_token").is_none(),
        "no session before confirmation"
    );
    assert_user_schema(&user);
    assert_eq!(user["email"], email);
    assert!(user.get("email_confirmed_at").is_none());
    assert!(is_timestamp(&user["confirmation_sent_at"]));
    assert_eq!(
        user["app_metadata"],
        json!({"provider": "email", "providers": ["email"]})
    );
    assert_eq!(user["user_metadata"]["full_name"], "Ana Wijaya");
    assert_eq!(user["identities"][0]["provider"], "email");
    let user_id = Uuid::parse_str(user["id"].as_str().unwrap()).unwrap();

    // Stored as GoTrue stores it: bcrypt hash, hashed token also in one_time_tokens.
    let (hash, token, meta): (String, String, Value) = sqlx::query_as(
        "select encrypted_password, confirmation_token, raw_user_meta_data from auth.users where id = $1",
    )
    .bind(user_id)
    .fetch_one(&twin.pool)
    .await
    .unwrap();
    assert!(hash.starts_with("$2") && bcrypt_cost(&hash) == 10, "{hash}");
    assert_eq!(token.len(), 56, "sha224 hex");
    assert_eq!(meta["full_name"], "Ana Wijaya");
    assert!(row_exists(&twin.pool, &format!("select 1 from auth.one_time_tokens where user_id = $1 and token_type = 'confirmation_token' and token_hash = '{token}'"), user_id).await);

    // The signup triggers ran.
    for table in [
        "select 1 from public.profiles where id = $1",
        "select 1 from public.subscriptions where user_id = $1",
        "select 1 from public.user_roles where user_id = $1",
    ] {
        assert!(row_exists(&twin.pool, table, user_id).await, "{table}");
    }

    let (status, error) = twin.password_grant(email, PASSWORD).await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::BAD_REQUEST, &json!("email_not_confirmed"))
    );
    assert_eq!(error["msg"], "Email not confirmed");
    assert_eq!(error["code"], 400);

    let mail = twin.last_mail(email);
    assert_eq!(mail.subject, "Confirm your email address");
    let link = twin.mail_link(email);
    assert!(
        link.starts_with(&format!(
            "{}/auth/v1/verify?token={token}&type=signup&redirect_to=",
            twin.base
        )),
        "{link}"
    );
    assert_eq!(query(&link)["redirect_to"], APP_CALLBACK);

    let (status, location) = twin.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with(&format!("{APP_CALLBACK}#")),
        "{location}"
    );
    let session = fragment(&location);
    assert_eq!(session["token_type"], "bearer");
    assert_eq!(session["type"], "signup");
    assert_eq!(session["expires_in"], "3600");
    assert!(session["expires_at"].parse::<i64>().is_ok());
    assert!(!session["refresh_token"].is_empty());
    let claims = verify_access_token(&twin, &session["access_token"]).await;
    assert_eq!(claims.sub, user_id);
    assert_eq!(claims.iss, format!("{}/auth/v1", twin.base));
    assert_eq!(claims.email.as_deref(), Some(email));
    assert_eq!(claims.role, "authenticated");
    assert_eq!(claims.aal.as_deref(), Some("aal1"));
    assert_eq!(claims.amr[0]["method"], "otp");
    assert!(claims.session_id.is_some());
    assert!(!claims.is_anonymous);

    let confirmed: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select email_confirmed_at from auth.users where id = $1")
            .bind(user_id)
            .fetch_one(&twin.pool)
            .await
            .unwrap();
    assert!(confirmed.is_some());

    // The link is single use.
    let (status, location) = twin.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let error = fragment(&location);
    assert_eq!(error["error"], "access_denied");
    assert_eq!(error["error_code"], "otp_expired");
    assert_eq!(
        error["error_description"],
        "Email link is invalid or has expired"
    );
    assert!(location.contains("error_description=Email+link+is+invalid+or+has+expired"));

    let (status, session) = twin.password_grant(email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_token_schema(&session);
    assert!(is_timestamp(&session["user"]["last_sign_in_at"]));
    assert!(is_timestamp(&session["user"]["email_confirmed_at"]));
    assert_eq!(
        session["user"]["identities"][0]["identity_data"]["email_verified"],
        true
    );
    let claims = verify_access_token(&twin, session["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.amr[0]["method"], "password");
    let session_rows: i64 =
        sqlx::query_scalar("select count(*) from auth.sessions where user_id = $1")
            .bind(user_id)
            .fetch_one(&twin.pool)
            .await
            .unwrap();
    assert_eq!(session_rows, 2, "one session per sign-in");

    for (login, password) in [(email, "wrong password"), ("nobody@kilat.test", PASSWORD)] {
        let (status, error) = twin.password_grant(login, password).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error_code"], "invalid_credentials");
        assert_eq!(error["msg"], "Invalid login credentials");
    }

    // Signing up again with a confirmed address does not reveal it: same status, a fake user.
    let (status, fake) = twin.sign_up(email, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_user_schema(&fake);
    assert_ne!(fake["id"], json!(user_id));
}

fn bcrypt_cost(hash: &str) -> u32 {
    hash.split('$')
        .nth(2)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn without_email_confirmation_signup_signs_in_and_a_second_signup_is_refused() {
    let twin = spawn_twin(true).await;
    let (status, session) = twin.sign_up("budi@kilat.test", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_token_schema(&session);
    assert!(is_timestamp(&session["user"]["email_confirmed_at"]));
    assert_eq!(twin.mails_to("budi@kilat.test"), 0);

    let (status, error) = twin.sign_up("budi@kilat.test", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error,
        json!({"code": 422, "error_code": "user_already_exists", "msg": "User already registered"})
    );

    let (status, error) = twin
        .post_json(
            "/signup",
            json!({"email": "weak@kilat.test", "password": "12345"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error_code"], "weak_password");
    assert_eq!(error["weak_password"]["reasons"], json!(["length"]));

    let (status, error) = twin
        .post_json(
            "/signup",
            json!({"email": "not-an-email", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::BAD_REQUEST, &json!("validation_failed"))
    );

    let (status, settings) = Twin::call(
        twin.client
            .get(twin.url("/settings"))
            .header("apikey", ANON_KEY),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["mailer_autoconfirm"], true);
    assert_eq!(settings["external"]["google"], true);
    assert_eq!(settings["external"]["email"], true);
    assert_eq!(settings["disable_signup"], false);

    let (status, health) = Twin::call(
        twin.client
            .get(twin.url("/health"))
            .header("apikey", ANON_KEY),
    )
    .await;
    assert_eq!(
        (status, &health["name"]),
        (StatusCode::OK, &json!("GoTrue"))
    );
    let (status, jwks) = Twin::call(twin.client.get(twin.url("/.well-known/jwks.json"))).await;
    assert_eq!((status, jwks), (StatusCode::OK, json!({"keys": []})));
}

#[tokio::test]
async fn calls_without_the_api_key_are_refused_but_links_work_without_it() {
    let twin = spawn_twin(true).await;
    for request in [
        twin.client
            .post(twin.url("/signup"))
            .json(&json!({"email": "a@kilat.test", "password": PASSWORD})),
        twin.client
            .post(twin.url("/token?grant_type=password"))
            .json(&json!({})),
        twin.client.get(twin.url("/user")),
        twin.client.get(twin.url("/settings")),
        twin.client
            .get(twin.url("/settings"))
            .header("apikey", "some-other-key"),
    ] {
        let (status, body) = Twin::call(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("API key"),
            "{body}"
        );
    }
    let (status, _) = Twin::call(
        twin.client
            .get(twin.url("/settings?apikey=anon-key-for-tests")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Browser links: no apikey, and an invalid link still answers as GoTrue does (a redirect).
    let (status, location) = twin
        .follow(&twin.url("/verify?token=deadbeef&type=signup&redirect_to=http://app.test/x"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("http://app.test/x#"), "{location}");
    assert_eq!(fragment(&location)["error_code"], "otp_expired");
    let (status, _) = twin.follow(&twin.url("/authorize?provider=google")).await;
    assert_eq!(status, StatusCode::FOUND);

    // A redirect that is not allowed falls back to the site URL.
    let (_, location) = twin
        .follow(&twin.url("/verify?token=deadbeef&type=signup&redirect_to=https://evil.test/"))
        .await;
    assert!(location.starts_with(&format!("{SITE_URL}#")), "{location}");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_is_refused_and_ends_the_session() {
    let twin = spawn_twin(true).await;
    let (_, first) = twin.sign_up("citra@kilat.test", json!({})).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(rt1.len(), 12);

    let (status, second) = twin.refresh(&rt1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_token_schema(&second);
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    let first_claims = verify_access_token(&twin, first["access_token"].as_str().unwrap()).await;
    let second_claims = verify_access_token(&twin, second["access_token"].as_str().unwrap()).await;
    assert_eq!(
        first_claims.session_id, second_claims.session_id,
        "same session"
    );
    assert_eq!(
        second_claims.amr[0]["method"], "password",
        "amr keeps the sign-in method"
    );

    let (revoked, parent): (bool, Option<String>) =
        sqlx::query_as("select (select revoked from auth.refresh_tokens where token = $1), parent from auth.refresh_tokens where token = $2")
            .bind(&rt1)
            .bind(&rt2)
            .fetch_one(&twin.pool)
            .await
            .unwrap();
    assert!(revoked);
    assert_eq!(parent.as_deref(), Some(rt1.as_str()));

    // GoTrue forgives a client that lost the answer: the parent of the current token gets the
    // current token again.
    let (status, again) = twin.refresh(&rt1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["refresh_token"], rt2.as_str());

    let (status, third) = twin.refresh(&rt2).await;
    assert_eq!(status, StatusCode::OK);
    let rt3 = third["refresh_token"].as_str().unwrap().to_string();

    // A replay of an older token, after GoTrue's 10-second reuse interval, is refused and
    // revokes the session's tokens.
    sqlx::query(
        "update auth.refresh_tokens set updated_at = now() - interval '1 minute' where token = $1",
    )
    .bind(&rt1)
    .execute(&twin.pool)
    .await
    .unwrap();
    let (status, error) = twin.refresh(&rt1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "refresh_token_already_used");
    assert_eq!(error["msg"], "Invalid Refresh Token: Already Used");
    let live: i64 =
        sqlx::query_scalar("select count(*) from auth.refresh_tokens where revoked = false")
            .fetch_one(&twin.pool)
            .await
            .unwrap();
    assert_eq!(live, 0, "{rt3} was revoked too");

    let (status, error) = twin.refresh("aaaaaaaaaaaa").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "refresh_token_not_found");
    assert_eq!(
        error["msg"],
        "Invalid Refresh Token: Refresh Token Not Found"
    );

    let (status, error) = twin.refresh("").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_request");
}

#[tokio::test]
async fn logout_makes_the_refresh_token_useless_and_the_access_token_refused() {
    let twin = spawn_twin(true).await;
    let (_, session) = twin.sign_up("dewi@kilat.test", json!({})).await;
    let access = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap();
    let (_, other) = twin.password_grant("dewi@kilat.test", PASSWORD).await;

    let (status, user) = twin.get_user(access).await;
    assert_eq!(status, StatusCode::OK);
    assert_user_schema(&user);
    assert_eq!(user["email"], "dewi@kilat.test");

    let (status, body) = Twin::call(
        twin.post("/logout")
            .query(&[("scope", "local")])
            .bearer_auth(access),
    )
    .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    let (status, error) = twin.refresh(refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "refresh_token_not_found");
    let (status, error) = twin.get_user(access).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error["error_code"], "session_not_found");

    // `local` left the other session alone.
    let (status, _) = twin.get_user(other["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);

    let (status, error) = twin.get_user("not.a.jwt").await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::FORBIDDEN, &json!("bad_jwt"))
    );
    let forged = kilat_server::auth::jwt::sign_hs256(
        &json!({"sub": Uuid::new_v4(), "aud": "authenticated", "exp": 4_000_000_000i64, "iss": twin.url(""), "role": "authenticated"}),
        b"another-secret-another-secret-another-secret",
    );
    let (status, error) = twin.get_user(&forged).await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::FORBIDDEN, &json!("bad_jwt"))
    );
    let (status, error) = Twin::call(
        twin.client
            .get(twin.url("/user"))
            .header("apikey", ANON_KEY),
    )
    .await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::UNAUTHORIZED, &json!("no_authorization"))
    );
}

#[tokio::test]
async fn a_pkce_signup_link_hands_back_a_code_redeemed_once_with_the_right_verifier() {
    let twin = spawn_twin(false).await;
    let (verifier, challenge) = pkce_pair();
    let email = "eka@kilat.test";
    let (status, user) = Twin::call(
        twin.post("/signup")
            .query(&[(
                "redirect_to",
                "http://app.test/auth/confirm?next=/dashboard",
            )])
            .json(&json!({
                "email": email, "password": PASSWORD, "data": {},
                "code_challenge": challenge, "code_challenge_method": "s256",
            })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");

    let link = twin.mail_link(email);
    assert!(query(&link)["token"].starts_with("pkce_"), "{link}");
    assert_eq!(
        query(&link)["redirect_to"],
        "http://app.test/auth/confirm?next=/dashboard"
    );
    let (status, location) = twin.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("http://app.test/auth/confirm?"),
        "{location}"
    );
    assert!(
        !location.contains('#'),
        "no tokens in a PKCE redirect: {location}"
    );
    let params = query(&location);
    assert_eq!(params["next"], "/dashboard");
    let code = params["code"].clone();
    assert!(Uuid::parse_str(&code).is_ok());

    let (status, error) = twin
        .pkce_grant(&code, "a-wrong-verifier-a-wrong-verifier-a-wrong-verifier")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "bad_code_verifier");
    assert_eq!(
        error["msg"],
        "code challenge does not match previously saved code verifier"
    );

    let (status, session) = twin.pkce_grant(&code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_token_schema(&session);
    assert_eq!(session["user"]["email"], email);
    assert!(is_timestamp(&session["user"]["email_confirmed_at"]));
    let claims = verify_access_token(&twin, session["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.amr[0]["method"], "email/signup");

    let (status, error) = twin.pkce_grant(&code, &verifier).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error_code"], "flow_state_not_found");

    // A code older than five minutes is refused.
    let (verifier, challenge) = pkce_pair();
    let (status, _) = twin
        .post_json(
            "/otp",
            json!({"email": email, "code_challenge": challenge, "code_challenge_method": "s256"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, location) = twin.follow(&twin.mail_link(email)).await;
    let code = query(&location)["code"].clone();
    sqlx::query("update auth.flow_state set auth_code_issued_at = now() - interval '6 minutes' where auth_code = $1")
        .bind(&code)
        .execute(&twin.pool)
        .await
        .unwrap();
    let (status, error) = twin.pkce_grant(&code, &verifier).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error_code"], "flow_state_expired");
}

#[tokio::test]
async fn magic_links_confirm_a_new_address_and_sign_in_an_existing_one() {
    let twin = spawn_twin(false).await;
    let email = "fajar@kilat.test";

    let (status, error) = twin
        .post_json("/otp", json!({"email": email, "create_user": false}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error_code"], "otp_disabled");

    // A new address gets GoTrue's signup confirmation.
    let (status, body) = Twin::call(
        twin.post("/otp")
            .query(&[("redirect_to", APP_CALLBACK)])
            .json(&json!({"email": email, "data": {"full_name": "Fajar"}})),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let link = twin.mail_link(email);
    assert_eq!(query(&link)["type"], "signup");
    let (status, location) = twin.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = fragment(&location);
    let (status, user) = twin.get_user(&session["access_token"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["user_metadata"]["full_name"], "Fajar");
    let user_id = Uuid::parse_str(user["id"].as_str().unwrap()).unwrap();
    assert!(
        row_exists(
            &twin.pool,
            "select 1 from public.profiles where id = $1 and full_name = 'Fajar'",
            user_id
        )
        .await
    );

    // Now the account exists: a magic link.
    let (status, _) = Twin::call(
        twin.post("/otp")
            .query(&[("redirect_to", APP_CALLBACK)])
            .json(&json!({"email": email})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mail = twin.last_mail(email);
    assert_eq!(mail.subject, "Your sign-in link");
    let link = twin.mail_link(email);
    assert_eq!(query(&link)["type"], "magiclink");
    let (status, location) = twin.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = fragment(&location);
    assert_eq!(session["type"], "magiclink");
    let claims = verify_access_token(&twin, &session["access_token"]).await;
    assert_eq!(claims.sub, user_id);
    let (_, location) = twin.follow(&link).await;
    assert_eq!(
        fragment(&location)["error_code"],
        "otp_expired",
        "single use"
    );

    // The six-digit code of the mail works with POST /verify.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = twin.post_json("/otp", json!({"email": email})).await;
    assert_eq!(status, StatusCode::OK);
    let text = twin.last_mail(email).text;
    let code = text.rsplit("code: ").next().unwrap().trim();
    assert_eq!(code.len(), 6, "{text}");
    let (status, session) = twin
        .post_json(
            "/verify",
            json!({"type": "email", "email": email, "token": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_token_schema(&session);
    let (status, error) = twin
        .post_json(
            "/verify",
            json!({"type": "email", "email": email, "token": code}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error["error_code"], "otp_expired");
}

#[tokio::test]
async fn verify_by_token_hash_and_an_expired_link() {
    let twin = spawn_twin(false).await;
    twin.sign_up("gita@kilat.test", json!({})).await;
    let token = query(&twin.mail_link("gita@kilat.test"))["token"].clone();
    let (status, session) = twin
        .post_json("/verify", json!({"type": "signup", "token_hash": token}))
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_token_schema(&session);

    twin.sign_up("hadi@kilat.test", json!({})).await;
    let link = twin.mail_link("hadi@kilat.test");
    sqlx::query("update auth.users set confirmation_sent_at = now() - interval '25 hours' where email = 'hadi@kilat.test'")
        .execute(&twin.pool)
        .await
        .unwrap();
    let (_, location) = twin.follow(&link).await;
    assert_eq!(
        fragment(&location)["error_code"],
        "otp_expired",
        "24 h lifetime"
    );
}

#[tokio::test]
async fn recovery_link_lets_the_user_set_a_new_password() {
    let twin = spawn_twin(true).await;
    let email = "indah@kilat.test";
    twin.sign_up(email, json!({})).await;

    let (status, body) = twin
        .post_json("/recover", json!({"email": "nobody@kilat.test"}))
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({})),
        "no account enumeration"
    );
    assert_eq!(twin.mails_to("nobody@kilat.test"), 0);

    let (status, body) = Twin::call(
        twin.post("/recover")
            .query(&[("redirect_to", "http://app.test/auth/update-password")])
            .json(&json!({"email": email})),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(twin.last_mail(email).subject, "Reset your password");
    let link = twin.mail_link(email);
    assert_eq!(query(&link)["type"], "recovery");
    let (status, location) = twin.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("http://app.test/auth/update-password#"),
        "{location}"
    );
    let session = fragment(&location);
    assert_eq!(session["type"], "recovery");

    let new_password = "a brand new passphrase";
    let (status, user) = Twin::call(
        twin.client
            .put(twin.url("/user"))
            .header("apikey", ANON_KEY)
            .bearer_auth(&session["access_token"])
            .json(&json!({"password": new_password, "data": {"full_name": "Indah P."}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_user_schema(&user);
    assert_eq!(user["user_metadata"]["full_name"], "Indah P.");

    let (status, error) = twin.password_grant(email, PASSWORD).await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_credentials"))
    );
    let (status, session) = twin.password_grant(email, new_password).await;
    assert_eq!(status, StatusCode::OK, "{session}");

    let (status, error) = Twin::call(
        twin.client
            .put(twin.url("/user"))
            .header("apikey", ANON_KEY)
            .bearer_auth(session["access_token"].as_str().unwrap())
            .json(&json!({"password": new_password})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error_code"], "same_password");
}

#[tokio::test]
async fn a_pkce_recovery_link_hands_back_a_code_for_the_recovery_session() {
    let twin = spawn_twin(true).await;
    let email = "joni@kilat.test";
    twin.sign_up(email, json!({})).await;
    let (verifier, challenge) = pkce_pair();
    let (status, _) = Twin::call(
        twin.post("/recover")
            .query(&[("redirect_to", APP_CALLBACK)])
            .json(&json!({"email": email, "code_challenge": challenge, "code_challenge_method": "s256"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, location) = twin.follow(&twin.mail_link(email)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let code = query(&location)["code"].clone();
    let (status, session) = twin.pkce_grant(&code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let claims = verify_access_token(&twin, session["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.amr[0]["method"], "recovery");
}

#[tokio::test]
async fn an_email_change_needs_both_links_when_confirmation_is_on() {
    let twin = spawn_twin(false).await;
    let (old, new) = ("lia@kilat.test", "lia.baru@kilat.test");
    twin.sign_up(old, json!({})).await;
    twin.follow(&twin.mail_link(old)).await;
    let (_, session) = twin.password_grant(old, PASSWORD).await;
    let access = session["access_token"].as_str().unwrap();

    let (status, user) = Twin::call(
        twin.client
            .put(twin.url("/user"))
            .query(&[("redirect_to", APP_CALLBACK)])
            .header("apikey", ANON_KEY)
            .bearer_auth(access)
            .json(&json!({"email": new})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], old);
    assert_eq!(user["new_email"], new);
    assert!(is_timestamp(&user["email_change_sent_at"]));

    let to_new = twin.mail_link(new);
    let to_old = twin.mail_link(old);
    assert_eq!(query(&to_new)["type"], "email_change");
    assert_ne!(to_new, to_old);

    let (status, location) = twin.follow(&to_old).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        fragment(&location)["message"],
        "Confirmation link accepted. Please proceed to confirm link sent to the other email"
    );
    let (status, location) = twin.follow(&to_new).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let changed = fragment(&location);
    assert_eq!(changed["type"], "email_change");
    let (_, user) = twin.get_user(&changed["access_token"]).await;
    assert_eq!(user["email"], new);
    assert!(user.get("new_email").is_none());
    assert_eq!(user["identities"][0]["identity_data"]["email"], new);

    let (status, _) = twin.password_grant(new, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = twin.password_grant(old, PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn google_sign_in_goes_through_the_labelled_local_consent_page_and_pkce() {
    let twin = spawn_twin(false).await;
    let (verifier, challenge) = pkce_pair();
    let authorize = format!(
        "{}?provider=google&redirect_to={}&code_challenge={challenge}&code_challenge_method=s256",
        twin.url("/authorize"),
        url::form_urlencoded::byte_serialize(APP_CALLBACK.as_bytes()).collect::<String>()
    );
    let (status, consent_url) = twin.follow(&authorize).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        consent_url.starts_with(&twin.url("/local/google/consent?state=")),
        "{consent_url}"
    );

    let page = twin.client.get(&consent_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("<title>{CONSENT_PAGE_TITLE}</title>")));
    assert!(html.contains("not Google"));
    let state = query(&consent_url)["state"].clone();

    // Input is escaped when the form comes back with an error.
    let submit = |fields: Vec<(&'static str, String)>| {
        twin.client
            .post(twin.url("/local/google/consent"))
            .form(&fields)
            .send()
    };
    let response = submit(vec![
        ("state", state.clone()),
        ("email", "<script>alert(1)</script>".into()),
        ("name", "<b>Joko</b>".into()),
        ("action", "allow".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>alert") && !html.contains("<b>Joko"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let response = submit(vec![
        ("state", state.clone()),
        ("email", "Joko@Gmail.test".into()),
        ("name", "Joko Susilo".into()),
        ("action", "allow".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        location.starts_with(&format!("{APP_CALLBACK}?code=")),
        "{location}"
    );
    let code = query(&location)["code"].clone();

    let (status, error) = twin
        .pkce_grant(&code, "not-the-verifier-not-the-verifier-not-the-verifier")
        .await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::BAD_REQUEST, &json!("bad_code_verifier"))
    );
    let (status, session) = twin.pkce_grant(&code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_token_schema(&session);
    assert!(session["provider_token"].is_string());
    let user = &session["user"];
    assert_eq!(user["email"], "joko@gmail.test");
    assert!(
        is_timestamp(&user["email_confirmed_at"]),
        "Google verified the address"
    );
    assert_eq!(user["app_metadata"]["provider"], "google");
    assert_eq!(user["user_metadata"]["full_name"], "Joko Susilo");
    assert_eq!(user["identities"][0]["provider"], "google");
    assert_eq!(
        user["identities"][0]["identity_data"]["email_verified"],
        true
    );
    let claims = verify_access_token(&twin, session["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.amr[0]["method"], "oauth");
    let user_id = claims.sub;
    assert!(
        row_exists(
            &twin.pool,
            "select 1 from public.profiles where id = $1 and full_name = 'Joko Susilo'",
            user_id
        )
        .await
    );

    // The consent state cannot be replayed for another code.
    let response = submit(vec![
        ("state", state),
        ("email", "joko@gmail.test".into()),
        ("action", "allow".into()),
    ])
    .await
    .unwrap();
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        query(&location)["error_code"],
        "flow_state_not_found",
        "{location}"
    );

    // Implicit flow (no code challenge): the session comes back in the fragment, same user.
    let (_, consent_url) = twin
        .follow(&format!(
            "{}?provider=google&redirect_to={APP_CALLBACK}",
            twin.url("/authorize")
        ))
        .await;
    let response = submit(vec![
        ("state", query(&consent_url)["state"].clone()),
        ("email", "joko@gmail.test".into()),
        ("action", "allow".into()),
    ])
    .await
    .unwrap();
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let session = fragment(&location);
    assert!(session.contains_key("provider_token"));
    let claims = verify_access_token(&twin, &session["access_token"]).await;
    assert_eq!(claims.sub, user_id);

    let (status, error) = Twin::call(twin.client.get(twin.url("/authorize?provider=github"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error_code"], "validation_failed");
    assert_eq!(
        error["msg"],
        "Unsupported provider: provider is not enabled"
    );

    let response = twin
        .client
        .get(twin.url("/local/google/consent?state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn google_sign_in_links_to_an_existing_email_account() {
    let twin = spawn_twin(true).await;
    let (_, session) = twin.sign_up("kiki@kilat.test", json!({})).await;
    let user_id = session["user"]["id"].as_str().unwrap().to_string();
    let (_, consent_url) = twin
        .follow(&format!(
            "{}?provider=google&redirect_to={APP_CALLBACK}",
            twin.url("/authorize")
        ))
        .await;
    let response = twin
        .client
        .post(twin.url("/local/google/consent"))
        .form(&[
            ("state", query(&consent_url)["state"].as_str()),
            ("email", "kiki@kilat.test"),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let (status, user) = twin.get_user(&fragment(&location)["access_token"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], user_id.as_str());
    assert_eq!(
        user["app_metadata"]["providers"],
        json!(["email", "google"])
    );
    // The password still works.
    let (status, _) = twin.password_grant("kiki@kilat.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn errors_take_the_newer_shape_when_the_client_asks_for_api_version_2024_01_01() {
    let twin = spawn_twin(true).await;
    let response = twin
        .token("password")
        .header("X-Supabase-Api-Version", "2024-01-01")
        .json(&json!({"email": "nobody@kilat.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["x-supabase-api-version"], "2024-01-01");
    assert_eq!(response.headers()["x-sb-error-code"], "invalid_credentials");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": "invalid_credentials", "message": "Invalid login credentials"})
    );

    let (status, error) = Twin::call(twin.token("password").body("{")).await;
    assert_eq!(
        (status, &error["error_code"]),
        (StatusCode::BAD_REQUEST, &json!("bad_json"))
    );
}
