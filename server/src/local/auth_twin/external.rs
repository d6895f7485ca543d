//! Google sign-in, locally: `GET /authorize?provider=google` sends the browser to a clearly
//! labelled consent page of the twin's own (instead of Google), where a person types the Google
//! account's email; submitting it finishes the sign-in as GoTrue's OAuth callback would —
//! `redirect_to?code=…` for PKCE, or the session in the fragment otherwise.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    CONSENT_PAGE_PATH, CONSENT_PAGE_TITLE, Twin, create_flow_state, crypto,
    error::{ApiError, ApiResult},
    pkce_params, query_param, redirect,
    sessions::{self, Method},
    users::{self, NewUser},
    validate_email,
};
use crate::auth::jwt::sign_hs256;
use crate::html::html_escape;

/// How long the consent page may take (GoTrue's OAuth state lifetime).
const STATE_LIFETIME_SECONDS: i64 = 5 * 60;

/// The OAuth `state`: signed, so the consent page cannot be pointed elsewhere.
#[derive(Debug, Serialize, Deserialize)]
struct ConsentState {
    exp: i64,
    iat: i64,
    /// Always `local_google_consent`, so no other token of the twin passes as a state.
    kind: String,
    provider: String,
    referrer: String,
    /// The PKCE flow state, or empty for the implicit flow.
    flow_state_id: String,
}

const STATE_KIND: &str = "local_google_consent";

/// `GET /authorize?provider=google&redirect_to=…[&code_challenge=…&code_challenge_method=s256]`.
pub(super) async fn authorize(
    State(twin): State<Twin>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let provider = query_param(&uri, "provider").unwrap_or_default();
    if !provider.eq_ignore_ascii_case("google") {
        return Err(ApiError::validation(
            "Unsupported provider: provider is not enabled",
        ));
    }
    let referrer = redirect::referrer(&twin.config, &uri, &headers);
    let pkce = pkce_params(
        query_param(&uri, "code_challenge").as_deref(),
        query_param(&uri, "code_challenge_method").as_deref(),
    )?;
    let flow_state_id = match &pkce {
        Some(pkce) => {
            let mut conn = twin.config.pool.acquire().await?;
            let (id, _) = create_flow_state(&mut conn, pkce, "google", Method::OAuth, None).await?;
            id.to_string()
        }
        None => String::new(),
    };
    let now = Utc::now().timestamp();
    let state = ConsentState {
        exp: now + STATE_LIFETIME_SECONDS,
        iat: now,
        kind: STATE_KIND.into(),
        provider: "google".into(),
        referrer,
        flow_state_id,
    };
    let claims =
        serde_json::to_value(&state).map_err(|e| ApiError::internal("Error creating state", e))?;
    let token = sign_hs256(&claims, &twin.config.jwt_secret);
    let location = format!(
        "{}{CONSENT_PAGE_PATH}?state={}",
        twin.issuer,
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    Ok(found(&location))
}

fn found(location: &str) -> Response {
    redirect::response(StatusCode::FOUND, location)
}

fn decode_state(twin: &Twin, token: Option<&str>) -> Option<ConsentState> {
    let token = token.filter(|t| !t.is_empty() && t.len() < 8 * 1024)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<ConsentState>(
        token,
        &DecodingKey::from_secret(&twin.config.jwt_secret),
        &validation,
    )
    .ok()?;
    (data.claims.kind == STATE_KIND && data.claims.provider == "google").then_some(data.claims)
}

/// `GET /local/google/consent?state=…`: the form.
pub(super) async fn consent_page(State(twin): State<Twin>, uri: Uri) -> Response {
    let state_token = query_param(&uri, "state");
    match decode_state(&twin, state_token.as_deref()) {
        Some(state) => page(
            StatusCode::OK,
            &form(
                state_token.as_deref().unwrap_or(""),
                &state.referrer,
                "",
                "",
                None,
            ),
        ),
        None => invalid_state_page(),
    }
}

/// `POST /local/google/consent` (form: `state`, `email`, `name`, `action`).
pub(super) async fn consent_submit(
    State(twin): State<Twin>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| fields.get(name).map(|v| v.trim()).unwrap_or("");
    let state_token = field("state");
    let Some(state) = decode_state(&twin, Some(state_token)) else {
        return invalid_state_page();
    };
    if field("action") == "cancel" {
        let error = ApiError::OAuth {
            error: "access_denied",
            description: "The user cancelled the local Google sign-in".into(),
        };
        return found(&callback_error(&state.referrer, &error));
    }
    let name: String = field("name").chars().take(200).collect();
    let email = match validate_email(field("email")) {
        Ok(email) => email,
        Err(error) => {
            let html = form(
                state_token,
                &state.referrer,
                field("email"),
                &name,
                Some(error.message()),
            );
            return page(StatusCode::UNPROCESSABLE_ENTITY, &html);
        }
    };
    match sign_in(&twin, &state, &email, &name, &headers).await {
        Ok(location) => found(&location),
        Err(error) => found(&callback_error(&state.referrer, &error)),
    }
}

/// GoTrue's OAuth callback after the provider answered: find, link or create the account,
/// then hand out the PKCE code or the session.
async fn sign_in(
    twin: &Twin,
    state: &ConsentState,
    email: &str,
    name: &str,
    headers: &HeaderMap,
) -> ApiResult<String> {
    let subject = crypto::google_subject(email);
    let mut identity_data = json!({
        "iss": "https://accounts.google.com",
        "sub": subject,
        "provider_id": subject,
        "email": email,
        "email_verified": true,
        "phone_verified": false,
    });
    if let (false, Value::Object(map)) = (name.is_empty(), &mut identity_data) {
        map.insert("name".into(), json!(name));
        map.insert("full_name".into(), json!(name));
    }
    let identity_map = identity_data.as_object().cloned().unwrap_or_default();

    let mut tx = twin.config.pool.begin().await?;
    let linked: Option<Uuid> = sqlx::query_scalar(
        "select user_id from auth.identities where provider = 'google' and provider_id = $1",
    )
    .bind(&subject)
    .fetch_optional(&mut *tx)
    .await?;
    let user_id = match linked {
        Some(user_id) => {
            sqlx::query(
                "update auth.identities set identity_data = $2, last_sign_in_at = now(), \
                   updated_at = now() where provider = 'google' and provider_id = $1",
            )
            .bind(&subject)
            .bind(&identity_data)
            .execute(&mut *tx)
            .await?;
            users::merge_user_metadata(&mut tx, user_id, &identity_map).await?;
            user_id
        }
        None => match users::by_email(&mut tx, email).await? {
            Some(user) => {
                users::insert_identity(&mut tx, user.id, "google", &subject, &identity_data)
                    .await?;
                users::merge_user_metadata(&mut tx, user.id, &identity_map).await?;
                user.id
            }
            None => {
                let user_id = users::insert(
                    &mut tx,
                    NewUser {
                        email,
                        password_hash: None,
                        user_metadata: identity_data.clone(),
                        provider: "google",
                    },
                )
                .await
                .map_err(|e| ApiError::internal("Database error saving new user", e))?;
                users::insert_identity(&mut tx, user_id, "google", &subject, &identity_data)
                    .await?;
                user_id
            }
        },
    };
    users::refresh_providers(&mut tx, user_id).await?;
    let user = users::lock(&mut tx, user_id)
        .await?
        .ok_or_else(|| ApiError::internal("Database error finding user", "user vanished"))?;
    if user.is_banned() {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    if !user.is_confirmed() {
        // `RemoveUnconfirmedIdentities`: nobody proved the unconfirmed account's other sign-in
        // methods, so they go (its password too); Google has verified the address.
        sqlx::query(
            "update auth.users set encrypted_password = null, raw_user_meta_data = $2, \
               updated_at = now() where id = $1",
        )
        .bind(user_id)
        .bind(&identity_data)
        .execute(&mut *tx)
        .await?;
        sqlx::query("delete from auth.identities where user_id = $1 and provider <> 'google'")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        users::refresh_providers(&mut tx, user_id).await?;
        users::confirm(&mut tx, user_id).await?;
    }
    let provider_token = format!("local-google-{}", crypto::opaque::<24>());

    if state.flow_state_id.is_empty() {
        let session = sessions::issue(twin, &mut tx, user_id, Method::OAuth, headers).await?;
        tx.commit().await?;
        return Ok(redirect::with_session_fragment(
            &state.referrer,
            &session,
            &[("provider_token", &provider_token)],
        ));
    }
    let flow_id = Uuid::parse_str(&state.flow_state_id)
        .map_err(|_| ApiError::bad_request("flow_state_not_found", "Flow state not found"))?;
    let flow: Option<(Option<Uuid>, String)> =
        sqlx::query_as("select user_id, auth_code from auth.flow_state where id = $1 for update")
            .bind(flow_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((flow_user, auth_code)) = flow else {
        return Err(ApiError::bad_request(
            "flow_state_not_found",
            "Flow state not found",
        ));
    };
    if flow_user.is_some() {
        return Err(ApiError::bad_request(
            "flow_state_already_used",
            "State has already been used",
        ));
    }
    sqlx::query(
        "update auth.flow_state set user_id = $2, provider_access_token = $3, \
           auth_code_issued_at = now(), updated_at = now() where id = $1",
    )
    .bind(flow_id)
    .bind(user_id)
    .bind(&provider_token)
    .execute(&mut *tx)
    .await?;
    sqlx::query("update auth.identities set last_sign_in_at = now() where provider = 'google' and provider_id = $1")
        .bind(&subject)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(redirect::with_query(
        &state.referrer,
        &[("code", &auth_code)],
        None,
    ))
}

/// GoTrue's `redirectErrors`: the error in the query and in the fragment.
fn callback_error(referrer: &str, error: &ApiError) -> String {
    let oauth_error = match error {
        ApiError::OAuth { error, .. } => *error,
        other => match (other.code(), other.status().as_u16()) {
            ("signup_disabled" | "user_banned", _) => "access_denied",
            (_, 400) => "invalid_request",
            (_, 401) => "unauthorized_client",
            (_, 403) => "access_denied",
            (_, 503) => "temporarily_unavailable",
            _ => "server_error",
        },
    };
    let mut query = vec![
        ("error", oauth_error),
        ("error_description", error.message()),
    ];
    if !matches!(error, ApiError::OAuth { .. }) {
        query.push(("error_code", error.code()));
    }
    let mut fragment = query.clone();
    fragment.push(("sb", ""));
    redirect::with_query(referrer, &query, Some(&fragment))
}

fn page(status: StatusCode, body: &str) -> Response {
    let mut response = (status, Html(body.to_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn invalid_state_page() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        &document(
            "<p class=\"error\">This sign-in page has expired or its link is not valid. \
             Go back to the app and choose “Sign in with Google” again.</p>",
        ),
    )
}

fn document(content: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{CONSENT_PAGE_TITLE}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f4f5; color: #18181b; margin: 0; }}
main {{ max-width: 28rem; margin: 3rem auto; background: #fff; border: 3px dashed #d97706; border-radius: 0.75rem; padding: 1.5rem 2rem; }}
h1 {{ font-size: 1.25rem; }}
.badge {{ display: inline-block; background: #d97706; color: #fff; font-weight: 600; font-size: 0.75rem; padding: 0.2rem 0.5rem; border-radius: 999px; letter-spacing: 0.05em; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input {{ display: block; width: 100%; box-sizing: border-box; margin-top: 0.25rem; padding: 0.5rem; font-size: 1rem; }}
.actions {{ display: flex; gap: 0.75rem; margin-top: 1.5rem; }}
button {{ padding: 0.6rem 1rem; font-size: 1rem; border-radius: 0.5rem; border: 1px solid #a1a1aa; cursor: pointer; }}
button[value=allow] {{ background: #18181b; color: #fff; }}
.error {{ color: #b91c1c; font-weight: 600; }}
code {{ word-break: break-all; }}
</style>
</head>
<body>
<main>
<span class="badge">LOCAL DEVELOPMENT ONLY</span>
<h1>{CONSENT_PAGE_TITLE}</h1>
{content}
</main>
</body>
</html>
"#
    )
}

fn form(state: &str, referrer: &str, email: &str, name: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(e)))
        .unwrap_or_default();
    document(&format!(
        r#"<p>This page is Kilat's local stand-in for Google: nothing is sent to Google and no
password is asked. Type the email of the Google account to sign in as; the app then receives it
exactly as Supabase Auth would hand over a real Google sign-in.</p>
<p>Returning to <code>{referrer}</code></p>
{error}
<form method="post" action="consent">
<input type="hidden" name="state" value="{state}">
<label for="email">Google account email</label>
<input id="email" name="email" type="email" required autocomplete="email" value="{email}">
<label for="name">Name (optional)</label>
<input id="name" name="name" type="text" autocomplete="name" value="{name}">
<div class="actions">
<button type="submit" name="action" value="allow">Continue</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</div>
</form>"#,
        referrer = html_escape(referrer),
        state = html_escape(state),
        email = html_escape(email),
        name = html_escape(name),
    ))
}
