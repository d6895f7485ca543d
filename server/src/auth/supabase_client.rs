//! A client for Supabase Auth (GoTrue) over its HTTP protocol — the same code path against a
//! hosted project and against the local twin.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// Supabase Auth at `{SUPABASE_URL}/auth/v1`, called with the project's publishable key.
#[derive(Clone)]
pub struct SupabaseAuth {
    http: reqwest::Client,
    base: String,
    anon_key: String,
}

impl std::fmt::Debug for SupabaseAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseAuth")
            .field("base", &self.base)
            .field("anon_key", &"<redacted>")
            .finish()
    }
}

/// A signed-in session as Supabase returns it.
#[derive(Clone, Serialize, Deserialize)]
pub struct AuthSession {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds when the access token expires.
    pub expires_at: i64,
    pub user: AuthUser,
}

/// The tokens are bearer credentials: logs and error chains must never carry them.
impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSession")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish()
    }
}

/// The parts of Supabase's user object the app uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthUser {
    pub id: Uuid,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_confirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub user_metadata: Value,
    #[serde(default)]
    pub app_metadata: Value,
    /// The ways this account signs in (email, google, …) with what each provider vouched for.
    #[serde(default)]
    pub identities: Vec<AuthIdentity>,
}

/// One of a user's sign-in identities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthIdentity {
    pub provider: String,
    #[serde(default)]
    pub identity_data: Value,
}

/// The parts of `GET /settings` the app uses.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Sign-ups are confirmed at once, without an emailed link.
    #[serde(default)]
    pub mailer_autoconfirm: bool,
}

/// What sign-up did: signed the person in (confirmation off) or sent a confirmation email.
#[derive(Debug, Clone)]
pub enum SignUp {
    SignedIn(AuthSession),
    ConfirmationSent(AuthUser),
}

/// An answer from Supabase Auth that is not a success.
#[derive(Debug, thiserror::Error)]
pub enum AuthApiError {
    /// Supabase's own refusal, with its `error_code` (e.g. `invalid_credentials`).
    #[error("Supabase Auth refused ({status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("Supabase Auth could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
}

impl AuthApiError {
    /// Supabase's `error_code`, when it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            AuthApiError::Refused { code, .. } => Some(code),
            AuthApiError::Unreachable(_) => None,
        }
    }
}

/// Supabase's error bodies: `{code, error_code, msg}` or OAuth-style `{error, error_description}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    error_code: Option<String>,
    msg: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    message: Option<String>,
}

impl SupabaseAuth {
    /// `project_url` is `SUPABASE_URL` (or the local twin's address); `http` is the server's
    /// shared outbound client ([`crate::outbound::http_client`]).
    pub fn new(http: reqwest::Client, project_url: &str, anon_key: impl Into<String>) -> Self {
        Self {
            http,
            base: format!("{}/auth/v1", project_url.trim_end_matches('/')),
            anon_key: anon_key.into(),
        }
    }

    /// `/auth/v1`'s address, e.g. for the OAuth redirect.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("apikey", &self.anon_key)
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        request: reqwest::RequestBuilder,
    ) -> Result<T, AuthApiError> {
        let response = request.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await?);
        }
        let body: ErrorBody = response.json().await.unwrap_or_default();
        Err(AuthApiError::Refused {
            status: status.as_u16(),
            code: body
                .error_code
                .or(body.error)
                .unwrap_or_else(|| "unknown".into()),
            message: body
                .msg
                .or(body.error_description)
                .or(body.message)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").into()),
        })
    }

    async fn call_empty(request: reqwest::RequestBuilder) -> Result<(), AuthApiError> {
        Self::call::<serde::de::IgnoredAny>(request)
            .await
            .map(|_| ())
            .or_else(|e| match e {
                // 204 No Content has no JSON body.
                AuthApiError::Unreachable(inner) if inner.is_decode() => Ok(()),
                other => Err(other),
            })
    }

    /// `POST /signup`. Confirmation links return to `redirect_to` with a PKCE code.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        data: Value,
        redirect_to: &str,
        code_challenge: &str,
    ) -> Result<SignUp, AuthApiError> {
        let answer: Value = Self::call(self.emailing_request(
            reqwest::Method::POST,
            "/signup",
            redirect_to,
            code_challenge,
            json!({"email": email, "password": password, "data": data}),
        ))
        .await?;
        let unexpected = |e: serde_json::Error| AuthApiError::Refused {
            status: 200,
            code: "unexpected_response".into(),
            message: e.to_string(),
        };
        if answer.get("access_token").is_some() {
            serde_json::from_value(answer)
                .map(SignUp::SignedIn)
                .map_err(unexpected)
        } else {
            serde_json::from_value(answer)
                .map(SignUp::ConfirmationSent)
                .map_err(unexpected)
        }
    }

    /// `POST /token?grant_type=…`: every way of getting a session.
    async fn token(&self, grant_type: &str, body: Value) -> Result<AuthSession, AuthApiError> {
        Self::call(
            self.request(reqwest::Method::POST, "/token")
                .query(&[("grant_type", grant_type)])
                .json(&body),
        )
        .await
    }

    /// `grant_type=password`.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<AuthSession, AuthApiError> {
        self.token("password", json!({"email": email, "password": password}))
            .await
    }

    /// `grant_type=refresh_token`: a new session; the old refresh token is spent.
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthSession, AuthApiError> {
        self.token("refresh_token", json!({"refresh_token": refresh_token}))
            .await
    }

    /// `grant_type=pkce`: the code from an email link or OAuth, with our verifier.
    pub async fn exchange_code(
        &self,
        auth_code: &str,
        code_verifier: &str,
    ) -> Result<AuthSession, AuthApiError> {
        self.token(
            "pkce",
            json!({"auth_code": auth_code, "code_verifier": code_verifier}),
        )
        .await
    }

    /// `POST /logout?scope=local`: ends this session's refresh tokens.
    pub async fn sign_out(&self, access_token: &str) -> Result<(), AuthApiError> {
        Self::call_empty(
            self.request(reqwest::Method::POST, "/logout")
                .query(&[("scope", "local")])
                .bearer_auth(access_token),
        )
        .await
    }

    /// `GET /user`.
    pub async fn get_user(&self, access_token: &str) -> Result<AuthUser, AuthApiError> {
        Self::call(
            self.request(reqwest::Method::GET, "/user")
                .bearer_auth(access_token),
        )
        .await
    }

    /// `GET /settings`: how the project is configured (public, needs only the key).
    pub async fn settings(&self) -> Result<AuthSettings, AuthApiError> {
        Self::call(self.request(reqwest::Method::GET, "/settings")).await
    }

    /// `PUT /user` with a new password.
    pub async fn update_password(
        &self,
        access_token: &str,
        password: &str,
    ) -> Result<AuthUser, AuthApiError> {
        Self::call(
            self.request(reqwest::Method::PUT, "/user")
                .bearer_auth(access_token)
                .json(&json!({"password": password})),
        )
        .await
    }

    /// `PUT /user` with user metadata: `data`'s keys replace the user's (`null` removes one).
    pub async fn update_user_data(
        &self,
        access_token: &str,
        data: Value,
    ) -> Result<AuthUser, AuthApiError> {
        Self::call(
            self.request(reqwest::Method::PUT, "/user")
                .bearer_auth(access_token)
                .json(&json!({"data": data})),
        )
        .await
    }

    /// `PUT /user` with a new address: Supabase emails a link to the new address (and, with
    /// "secure email change", one to the current address too); the change takes effect once
    /// they are followed. With confirmation off the address changes at once, which the
    /// returned user shows.
    pub async fn update_email(
        &self,
        access_token: &str,
        email: &str,
        redirect_to: &str,
        code_challenge: &str,
    ) -> Result<AuthUser, AuthApiError> {
        Self::call(
            self.emailing_request(
                reqwest::Method::PUT,
                "/user",
                redirect_to,
                code_challenge,
                json!({"email": email}),
            )
            .bearer_auth(access_token),
        )
        .await
    }

    /// A call after which Supabase emails a link that returns to `redirect_to` with a PKCE code.
    fn emailing_request(
        &self,
        method: reqwest::Method,
        path: &str,
        redirect_to: &str,
        code_challenge: &str,
        mut body: Value,
    ) -> reqwest::RequestBuilder {
        body["code_challenge"] = code_challenge.into();
        body["code_challenge_method"] = "s256".into();
        self.request(method, path)
            .query(&[("redirect_to", redirect_to)])
            .json(&body)
    }

    /// `POST /recover`: sends a password-reset link (answers the same whether or not the account
    /// exists).
    pub async fn recover(
        &self,
        email: &str,
        redirect_to: &str,
        code_challenge: &str,
    ) -> Result<(), AuthApiError> {
        Self::call_empty(self.emailing_request(
            reqwest::Method::POST,
            "/recover",
            redirect_to,
            code_challenge,
            json!({"email": email}),
        ))
        .await
    }

    /// `POST /otp`: sends a magic sign-in link, creating the account (with user metadata
    /// `data`) when it does not exist.
    pub async fn send_magic_link(
        &self,
        email: &str,
        data: Value,
        redirect_to: &str,
        code_challenge: &str,
    ) -> Result<(), AuthApiError> {
        Self::call_empty(self.emailing_request(
            reqwest::Method::POST,
            "/otp",
            redirect_to,
            code_challenge,
            json!({"email": email, "data": data, "create_user": true}),
        ))
        .await
    }

    /// Where to send the browser for OAuth sign-in (`GET /authorize`) with a PKCE challenge.
    pub fn authorize_url(&self, provider: &str, redirect_to: &str, code_challenge: &str) -> String {
        let mut url =
            url::Url::parse(&format!("{}/authorize", self.base)).expect("the auth base is a URL");
        url.query_pairs_mut()
            .append_pair("provider", provider)
            .append_pair("redirect_to", redirect_to)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "s256");
        url.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_tokens_or_the_key() {
        let session = AuthSession {
            access_token: "access-token-value".into(),
            refresh_token: "refresh-token-value".into(),
            expires_at: 0,
            user: serde_json::from_value(json!({"id": Uuid::nil(), "email": "ana@example.com"}))
                .unwrap(),
        };
        for debug in [
            format!("{session:?}"),
            format!("{:?}", SignUp::SignedIn(session.clone())),
        ] {
            assert!(!debug.contains("access-token-value"), "{debug}");
            assert!(!debug.contains("refresh-token-value"), "{debug}");
            assert!(debug.contains("ana@example.com"), "{debug}");
        }
        let client = SupabaseAuth::new(
            crate::outbound::http_client(),
            "http://127.0.0.1:54321",
            "anon-key-value",
        );
        assert!(!format!("{client:?}").contains("anon-key-value"));
    }
}
