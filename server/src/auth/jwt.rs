//! Verification of Supabase Auth access tokens (and signing them, for the local Auth twin).
//!
//! Supabase signs access tokens either with the project's JWT secret (HS256, legacy projects;
//! the secret string's raw bytes are the HMAC key) or with asymmetric keys (ES256 / RS256) whose
//! public halves it publishes at `{SUPABASE_URL}/auth/v1/.well-known/jwks.json`. [`TokenVerifier`]
//! picks the key by the token header's `alg` and, for the asymmetric ones, its `kid`, and checks
//! `exp` (30 s leeway, required), `aud = "authenticated"` and `iss = {SUPABASE_URL}/auth/v1`.
//!
//! Crypto comes from `jsonwebtoken` 9.3 with its default features off: that version's only
//! backend is `ring`, which the workspace already builds for rustls (sqlx, reqwest), so it adds no
//! crypto code of its own to the tree (its other dependencies are base64 and serde_json).
//! jsonwebtoken 10 and 11 need a backend feature instead: `aws_lc_rs` (a C library built with
//! CMake, slow on this project's 2-core machines) or `rust_crypto` (p256, p384, rsa,
//! ed25519-dalek, rand: a second crypto stack next to ring).
//!
//! The security rules are enforced here, not left to library defaults:
//! - only `HS256`, `ES256` and `RS256` are accepted, spelled exactly so; `none` and every other
//!   algorithm are refused before any key is looked at;
//! - HS256 is only ever checked against the configured JWT secret, never against a key from the
//!   JWKS (so a public key cannot be abused as an HMAC secret), and the JWKS is not even fetched;
//! - ES256 / RS256 are only checked against the JWKS key named by `kid`, and that key's `kty`,
//!   `crv` and `alg` must match the header's algorithm (an RS256 header naming an EC key fails);
//! - each `decode` call allows exactly one algorithm;
//! - keys embedded in or pointed at by the token header (`jwk`, `jku`, `x5u`, `x5c`) are never used,
//!   and a header with `crit` extensions is refused.
//!
//! The JWKS is cached for 10 minutes. A token naming a `kid` the cached set lacks makes the
//! verifier refetch the set (a key rotation), but at most once per 30 seconds, so a flood of
//! made-up `kid`s cannot hammer the JWKS endpoint; a failed fetch is not retried for 5 seconds.
//! Once the set is stale it is refreshed in the background, one fetch at a time, while the stale
//! set keeps verifying; no lock is held during the HTTP call. When refreshing fails, the last good
//! set keeps verifying (logged) for [`JWKS_GRACE`] after it went stale, then tokens are refused.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex as StdMutex, MutexGuard, PoisonError, RwLock as StdRwLock},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

/// The `aud` every Supabase access token for a signed-in user carries.
pub const AUDIENCE: &str = "authenticated";
/// Clock skew allowed when checking `exp` (and `nbf`, when a token has one).
pub const CLOCK_LEEWAY: Duration = Duration::from_secs(30);
/// How long a fetched JWKS is trusted.
pub const JWKS_CACHE_TTL: Duration = Duration::from_secs(10 * 60);
/// The least time between two refetches caused by tokens naming a `kid` the cached JWKS lacks.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// After a failed JWKS fetch, how long verifications needing it fail at once instead of retrying.
const JWKS_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// While the JWKS cannot be refreshed, how long after going stale the last good set is still
/// trusted: a Supabase outage of up to an hour does not take sign-in down.
pub const JWKS_GRACE: Duration = Duration::from_secs(60 * 60);
/// How long one JWKS fetch may take: shorter than other outbound calls, since a verification
/// with no usable key set waits for it.
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// A JWKS larger than this is refused (Supabase's holds a handful of keys, well under 10 KiB).
const JWKS_MAX_BYTES: usize = 256 * 1024;
/// A token longer than this is refused before any parsing.
const TOKEN_MAX_BYTES: usize = 16 * 1024;

/// The project's JWT secret (HS256). Its `Debug` output never shows the bytes.
#[derive(Clone)]
pub struct JwtSecret(Arc<[u8]>);

impl JwtSecret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::from(bytes.into()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<String> for JwtSecret {
    fn from(secret: String) -> Self {
        Self::new(secret.into_bytes())
    }
}

impl From<&str> for JwtSecret {
    fn from(secret: &str) -> Self {
        Self::new(secret.as_bytes())
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JwtSecret(<{} bytes, redacted>)", self.0.len())
    }
}

/// What a [`TokenVerifier`] trusts.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The exact `iss` accepted: `{SUPABASE_URL}/auth/v1`.
    pub issuer: String,
    /// The JWT secret for HS256 tokens; `None` refuses HS256 tokens.
    pub hs256_secret: Option<JwtSecret>,
    /// Where the project's public keys are; `None` refuses ES256 / RS256 tokens.
    pub jwks: Option<JwksSource>,
}

/// The project's published public keys: their address and the client that fetches them.
#[derive(Debug, Clone)]
pub struct JwksSource {
    /// `{SUPABASE_URL}/auth/v1/.well-known/jwks.json`.
    pub url: String,
    /// The server's shared outbound client ([`crate::outbound::http_client`]).
    pub http: reqwest::Client,
}

impl VerifierConfig {
    /// The issuer and JWKS address of the Supabase project (or local twin) at `supabase_url`,
    /// whose keys are fetched with `http`.
    pub fn for_supabase(
        supabase_url: &str,
        hs256_secret: Option<JwtSecret>,
        http: reqwest::Client,
    ) -> Self {
        let base = supabase_url.trim_end_matches('/');
        Self {
            issuer: format!("{base}/auth/v1"),
            hs256_secret,
            jwks: Some(JwksSource {
                url: format!("{base}/auth/v1/.well-known/jwks.json"),
                http,
            }),
        }
    }
}

/// A [`VerifierConfig`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the token issuer is empty; it must be `{{SUPABASE_URL}}/auth/v1`")]
    EmptyIssuer,
    #[error("the JWT secret is empty; leave it unset to refuse HS256 tokens instead")]
    EmptySecret,
    #[error("the JWKS URL `{url}` is not a valid http(s) URL: {reason}")]
    InvalidJwksUrl { url: String, reason: String },
}

/// Why an access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed: {0}")]
    Malformed(String),
    #[error(
        "the access token is signed with algorithm `{0}`, which is not accepted \
         (only HS256, ES256 and RS256 are)"
    )]
    UnsupportedAlgorithm(String),
    #[error(
        "the access token is signed with {0}, but no key for {0} is configured \
         (HS256 needs the project's JWT secret, ES256 and RS256 need its JWKS URL)"
    )]
    NoKeyForAlgorithm(String),
    #[error("the access token names signing key `{0}`, which the project's JWKS does not contain")]
    UnknownKey(String),
    #[error("signing key `{kid}` is {key} key and cannot verify a {alg} token")]
    KeyAlgorithmMismatch {
        kid: String,
        alg: String,
        key: &'static str,
    },
    #[error("the access token's signature does not verify")]
    BadSignature,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid yet (its `nbf` is in the future)")]
    NotYetValid,
    #[error("the access token's audience is not `authenticated`")]
    WrongAudience,
    #[error("the access token was not issued by this project's Auth (`iss` does not match)")]
    WrongIssuer,
    #[error("the project's signing keys (JWKS) could not be fetched: {0}")]
    JwksUnavailable(String),
}

impl TokenError {
    /// True when the fault is on our side (the JWKS could not be had), not the token's: such a
    /// request deserves a 503, not a 401.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::JwksUnavailable(_))
    }
}

/// The claims of a verified Supabase access token.
///
/// It (de)serializes as the token's claims object: deserializing keeps the whole object in
/// [`raw`](Self::raw), and serializing writes `raw` back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct AccessClaims {
    /// The user's id.
    pub sub: Uuid,
    /// `None` when absent or empty.
    pub email: Option<String>,
    /// `None` when absent or empty (Supabase sends `"phone": ""` for users without one).
    pub phone: Option<String>,
    /// The Postgres role the token grants: `authenticated` for signed-in users.
    pub role: String,
    /// Always contains `authenticated` once verified (a single string in Supabase's tokens).
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: Option<i64>,
    pub iss: String,
    pub session_id: Option<Uuid>,
    pub is_anonymous: bool,
    /// Authenticator assurance level: `aal1` or `aal2`.
    pub aal: Option<String>,
    pub app_metadata: Value,
    pub user_metadata: Value,
    /// Authentication methods used (`[{"method": "password", "timestamp": …}]`).
    pub amr: Value,
    /// The whole claims object as signed, for `request.jwt.claims` (RLS).
    pub raw: Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct WireClaims {
    sub: Uuid,
    email: Option<String>,
    phone: Option<String>,
    role: String,
    aud: OneOrMany,
    exp: i64,
    iat: Option<i64>,
    iss: String,
    session_id: Option<Uuid>,
    #[serde(default)]
    is_anonymous: bool,
    aal: Option<String>,
    #[serde(default)]
    app_metadata: Value,
    #[serde(default)]
    user_metadata: Value,
    #[serde(default)]
    amr: Value,
}

impl TryFrom<Value> for AccessClaims {
    type Error = serde_json::Error;

    fn try_from(raw: Value) -> Result<Self, Self::Error> {
        let wire = WireClaims::deserialize(&raw)?;
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(Self {
            sub: wire.sub,
            email: non_empty(wire.email),
            phone: non_empty(wire.phone),
            role: wire.role,
            aud: match wire.aud {
                OneOrMany::One(aud) => vec![aud],
                OneOrMany::Many(auds) => auds,
            },
            exp: wire.exp,
            iat: wire.iat,
            iss: wire.iss,
            session_id: wire.session_id,
            is_anonymous: wire.is_anonymous,
            aal: wire.aal,
            app_metadata: wire.app_metadata,
            user_metadata: wire.user_metadata,
            amr: wire.amr,
            raw,
        })
    }
}

impl From<AccessClaims> for Value {
    fn from(claims: AccessClaims) -> Self {
        claims.raw
    }
}

/// Signs `claims` as an HS256 JWT (header `{"typ":"JWT","alg":"HS256"}`) with `secret`'s raw
/// bytes, as Supabase Auth does with the project's JWT secret.
pub fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HMAC-signing a JSON value cannot fail")
}

/// Verifies Supabase access tokens. Cheap to clone: clones share the JWKS cache.
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    hs256: Option<DecodingKey>,
    jwks: Option<Arc<JwksCache>>,
    /// Audience, issuer, required claims and leeway, one per accepted algorithm (a token is
    /// checked against exactly the algorithm its key is for).
    validations: Vec<(Algorithm, Validation)>,
}

impl Inner {
    fn validation(&self, algorithm: Algorithm) -> &Validation {
        self.validations
            .iter()
            .find(|(accepted, _)| *accepted == algorithm)
            .map(|(_, validation)| validation)
            .expect("every algorithm a key can be for has a validation")
    }
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.inner.issuer)
            .field("hs256", &self.inner.hs256.is_some())
            .field(
                "jwks_url",
                &self.inner.jwks.as_ref().map(|j| j.url.as_str()),
            )
            .finish()
    }
}

impl TokenVerifier {
    pub fn new(config: VerifierConfig) -> Result<Self, ConfigError> {
        Self::with_timing(config, JwksTiming::default())
    }

    fn with_timing(config: VerifierConfig, timing: JwksTiming) -> Result<Self, ConfigError> {
        if config.issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        let hs256 = match &config.hs256_secret {
            Some(secret) if secret.as_bytes().is_empty() => return Err(ConfigError::EmptySecret),
            Some(secret) => Some(DecodingKey::from_secret(secret.as_bytes())),
            None => None,
        };
        let jwks = match config.jwks {
            Some(source) => Some(Arc::new(JwksCache::new(source, timing)?)),
            None => None,
        };

        let validation_for = |algorithm| {
            let mut validation = Validation::new(algorithm);
            validation.leeway = CLOCK_LEEWAY.as_secs();
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.validate_aud = true;
            validation.set_audience(&[AUDIENCE]);
            validation.set_issuer(&[config.issuer.as_str()]);
            validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
            (algorithm, validation)
        };
        let validations = [Algorithm::HS256, Algorithm::ES256, Algorithm::RS256]
            .into_iter()
            .map(validation_for)
            .collect();

        Ok(Self {
            inner: Arc::new(Inner {
                issuer: config.issuer,
                hs256,
                jwks,
                validations,
            }),
        })
    }

    /// The `iss` this verifier accepts.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Checks `token` (the bare JWT, without `Bearer `) and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        if token.len() > TOKEN_MAX_BYTES {
            return Err(malformed("it is longer than 16 KiB"));
        }
        let header = JoseHeader::parse(token)?;
        let jwks_key;
        let (algorithm, key) = match header.alg.as_str() {
            "HS256" => {
                let key = self
                    .inner
                    .hs256
                    .as_ref()
                    .ok_or_else(|| TokenError::NoKeyForAlgorithm(header.alg.clone()))?;
                (Algorithm::HS256, key)
            }
            "ES256" | "RS256" => {
                let jwks = self
                    .inner
                    .jwks
                    .as_ref()
                    .ok_or_else(|| TokenError::NoKeyForAlgorithm(header.alg.clone()))?;
                let kid = header.kid.as_deref().ok_or_else(|| {
                    malformed(format!("a {} token must name its key in `kid`", header.alg))
                })?;
                jwks_key = jwks.key(kid).await?;
                let algorithm = jwks_key.kind.algorithm_for(&header.alg, kid)?;
                (algorithm, &jwks_key.decoding)
            }
            other => return Err(TokenError::UnsupportedAlgorithm(other.to_owned())),
        };

        let data = jsonwebtoken::decode::<Value>(token, key, self.inner.validation(algorithm))
            .map_err(|e| from_jwt_error(e, &header.alg))?;
        AccessClaims::try_from(data.claims)
            .map_err(|e| malformed(format!("its claims are not a Supabase access token's: {e}")))
    }
}

fn malformed(reason: impl Into<String>) -> TokenError {
    TokenError::Malformed(reason.into())
}

fn from_jwt_error(error: jsonwebtoken::errors::Error, alg: &str) -> TokenError {
    match error.kind() {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::Crypto(_) => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "aud" => TokenError::WrongAudience,
            "iss" => TokenError::WrongIssuer,
            other => malformed(format!(
                "the `{other}` claim is missing or has the wrong type"
            )),
        },
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            TokenError::UnsupportedAlgorithm(alg.to_owned())
        }
        _ => malformed(error.to_string()),
    }
}

/// The parts of the JOSE header this module reads, from the token's first segment.
struct JoseHeader {
    alg: String,
    kid: Option<String>,
}

impl JoseHeader {
    fn parse(token: &str) -> Result<Self, TokenError> {
        let mut segments = token.split('.');
        let (Some(header), Some(_payload), Some(_signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(malformed("a JWT has exactly three dot-separated parts"));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|e| malformed(format!("its header is not base64url: {e}")))?;
        let header: Value = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(format!("its header is not JSON: {e}")))?;
        let Value::Object(header) = header else {
            return Err(malformed("its header is not a JSON object"));
        };
        if header.contains_key("crit") {
            return Err(malformed(
                "its header has `crit` extensions, which are not supported",
            ));
        }
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(malformed("its header has no `alg` string")),
        };
        let kid = match header.get("kid") {
            None | Some(Value::Null) => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(malformed("its header's `kid` is not a string")),
        };
        Ok(Self { alg, kid })
    }
}

#[derive(Debug, Clone, Copy)]
struct JwksTiming {
    ttl: Duration,
    unknown_kid_refetch: Duration,
    failure_backoff: Duration,
    grace: Duration,
}

impl Default for JwksTiming {
    fn default() -> Self {
        Self {
            ttl: JWKS_CACHE_TTL,
            unknown_kid_refetch: UNKNOWN_KID_REFETCH_INTERVAL,
            failure_backoff: JWKS_FAILURE_BACKOFF,
            grace: JWKS_GRACE,
        }
    }
}

/// The kinds of JWKS key this module can use, each good for exactly one algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    /// `kty: EC`, `crv: P-256`: ES256 only.
    EcP256,
    /// `kty: RSA`: RS256 only.
    Rsa,
}

impl KeyKind {
    fn algorithm_for(self, alg: &str, kid: &str) -> Result<Algorithm, TokenError> {
        match (self, alg) {
            (Self::EcP256, "ES256") => Ok(Algorithm::ES256),
            (Self::Rsa, "RS256") => Ok(Algorithm::RS256),
            _ => Err(TokenError::KeyAlgorithmMismatch {
                kid: kid.to_owned(),
                alg: alg.to_owned(),
                key: match self {
                    Self::EcP256 => "an EC P-256 (ES256)",
                    Self::Rsa => "an RSA (RS256)",
                },
            }),
        }
    }
}

#[derive(Clone)]
struct JwksKey {
    kind: KeyKind,
    decoding: DecodingKey,
}

#[derive(Deserialize)]
struct JwkSetWire {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
struct JwkWire {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// One JWKS entry as a usable key, or why it is skipped.
fn parse_jwk(jwk: Value) -> Result<(String, JwksKey), String> {
    let jwk: JwkWire = serde_json::from_value(jwk).map_err(|e| e.to_string())?;
    let kid = jwk.kid.ok_or("no kid")?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err(format!("{kid}: not a signing key"));
    }
    if jwk
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Err(format!("{kid}: key_ops excludes verify"));
    }
    let b64 = |part: &Option<String>, name: &str| -> Result<Vec<u8>, String> {
        let part = part.as_deref().ok_or_else(|| format!("{kid}: no {name}"))?;
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| format!("{kid}: {name} is not base64url: {e}"))
    };
    let key = match jwk.kty.as_str() {
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err(format!("{kid}: EC curve {:?} is not P-256", jwk.crv));
            }
            if jwk.alg.as_deref().is_some_and(|alg| alg != "ES256") {
                return Err(format!("{kid}: a P-256 key declaring alg {:?}", jwk.alg));
            }
            let (x, y) = (b64(&jwk.x, "x")?, b64(&jwk.y, "y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(format!("{kid}: P-256 coordinates must be 32 bytes each"));
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            JwksKey {
                kind: KeyKind::EcP256,
                // ring verifies against the uncompressed SEC1 point; this is the same key
                // `DecodingKey::from_ec_components` builds, with the lengths checked above.
                decoding: DecodingKey::from_ec_der(&point),
            }
        }
        "RSA" => {
            if jwk.alg.as_deref().is_some_and(|alg| alg != "RS256") {
                return Err(format!("{kid}: an RSA key declaring alg {:?}", jwk.alg));
            }
            let (n, e) = (b64(&jwk.n, "n")?, b64(&jwk.e, "e")?);
            if n.is_empty() || e.is_empty() {
                return Err(format!("{kid}: empty RSA modulus or exponent"));
            }
            JwksKey {
                kind: KeyKind::Rsa,
                decoding: DecodingKey::from_rsa_raw_components(&n, &e),
            }
        }
        other => return Err(format!("{kid}: key type {other} is not used here")),
    };
    Ok((kid, key))
}

struct KeySet {
    keys: HashMap<String, JwksKey>,
    fetched_at: Instant,
}

/// How one refresh ended, shared with everyone who waited for it.
type RefreshOutcome = Result<(), String>;

/// The outcome of a refresh, once it is known.
async fn wait_for(mut refresh: watch::Receiver<Option<RefreshOutcome>>) -> RefreshOutcome {
    match refresh.wait_for(Option::is_some).await {
        Ok(outcome) => outcome.clone().unwrap_or(Ok(())),
        Err(_) => Err("the JWKS refresh stopped before it finished".into()),
    }
}

#[derive(Default)]
struct RefreshState {
    /// The refresh under way: its outcome is published here, so one fetch serves every waiter.
    in_flight: Option<watch::Receiver<Option<RefreshOutcome>>>,
    last_unknown_kid_refetch: Option<Instant>,
    last_failure: Option<(Instant, String)>,
}

impl RefreshState {
    /// Why the last fetch failed, while it is too recent to try again.
    fn backing_off(&self, backoff: Duration) -> Option<String> {
        self.last_failure
            .as_ref()
            .filter(|(at, _)| at.elapsed() < backoff)
            .map(|(_, reason)| reason.clone())
    }
}

struct JwksCache {
    url: reqwest::Url,
    http: reqwest::Client,
    timing: JwksTiming,
    current: StdRwLock<Option<Arc<KeySet>>>,
    /// Only ever held for a few instructions, never across an await: the HTTP call runs in a
    /// task of its own, so no verification waits behind a lock while the JWKS is slow.
    refresh: StdMutex<RefreshState>,
}

impl JwksCache {
    fn new(JwksSource { url, http }: JwksSource, timing: JwksTiming) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidJwksUrl {
            url: url.clone(),
            reason,
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme {} is not http(s)",
                parsed.scheme()
            )));
        }
        Ok(Self {
            url: parsed,
            http,
            timing,
            current: StdRwLock::new(None),
            refresh: StdMutex::new(RefreshState::default()),
        })
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn state(&self) -> MutexGuard<'_, RefreshState> {
        self.refresh.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key named `kid`:
    /// - from the set while it is fresh (younger than the TTL);
    /// - a `kid` the fresh set lacks refetches it (a rotation), at most once per interval;
    /// - once the set is stale, a refresh starts in the background and the stale set keeps
    ///   answering meanwhile; if the refresh fails, the last good set keeps answering for the
    ///   grace period after it went stale, so a JWKS outage does not take sign-in down; after
    ///   that, or with no set at all, the verification waits for a fetch (and fails with it).
    async fn key(self: &Arc<Self>, kid: &str) -> Result<JwksKey, TokenError> {
        let seen = self.snapshot();
        if let Some(set) = &seen
            && set.fetched_at.elapsed() < self.timing.ttl
        {
            if let Some(key) = set.keys.get(kid) {
                return Ok(key.clone());
            }
            let refresh = {
                let mut state = self.state();
                if let Some(in_flight) = &state.in_flight {
                    in_flight.clone()
                } else {
                    if let Some(reason) = state.backing_off(self.timing.failure_backoff) {
                        return Err(TokenError::JwksUnavailable(reason));
                    }
                    if state
                        .last_unknown_kid_refetch
                        .is_some_and(|at| at.elapsed() < self.timing.unknown_kid_refetch)
                    {
                        return Err(TokenError::UnknownKey(kid.to_owned()));
                    }
                    state.last_unknown_kid_refetch = Some(Instant::now());
                    self.start_refresh(&mut state, seen.as_ref())
                }
            };
            return self.after_refresh(kid, wait_for(refresh).await);
        }

        let last_good = seen
            .as_ref()
            .filter(|set| set.fetched_at.elapsed() < self.timing.ttl + self.timing.grace)
            .and_then(|set| set.keys.get(kid).cloned());
        let refresh = {
            let mut state = self.state();
            let in_flight = state.in_flight.clone();
            match (in_flight, state.backing_off(self.timing.failure_backoff)) {
                (Some(in_flight), _) => in_flight,
                (None, Some(reason)) => {
                    return last_good.ok_or(TokenError::JwksUnavailable(reason));
                }
                (None, None) => self.start_refresh(&mut state, seen.as_ref()),
            }
        };
        match last_good {
            // Not blocked by the refresh: it replaces the set when it lands.
            Some(key) => Ok(key),
            None => self.after_refresh(kid, wait_for(refresh).await),
        }
    }

    fn after_refresh(&self, kid: &str, outcome: RefreshOutcome) -> Result<JwksKey, TokenError> {
        outcome.map_err(TokenError::JwksUnavailable)?;
        self.snapshot()
            .and_then(|set| set.keys.get(kid).cloned())
            .ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))
    }

    /// Starts fetching the set in a task of its own (so a cancelled request cannot leave it
    /// half done) and returns where its outcome will appear. When another refresh landed since
    /// the caller looked (`seen`), that one is the answer and nothing is fetched.
    fn start_refresh(
        self: &Arc<Self>,
        state: &mut RefreshState,
        seen: Option<&Arc<KeySet>>,
    ) -> watch::Receiver<Option<RefreshOutcome>> {
        let newer = match (self.snapshot(), seen) {
            (Some(now), Some(seen)) => now.fetched_at > seen.fetched_at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if newer {
            return watch::channel(Some(Ok(()))).1;
        }
        let (publish, outcome) = watch::channel(None);
        state.in_flight = Some(outcome.clone());
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let result = match cache.fetch().await {
                Ok(keys) => {
                    *cache
                        .current
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(KeySet {
                        keys,
                        fetched_at: Instant::now(),
                    }));
                    Ok(())
                }
                Err(reason) => {
                    cache.log_failed_refresh(&reason);
                    Err(reason)
                }
            };
            {
                let mut state = cache.state();
                state.in_flight = None;
                state.last_failure = result
                    .as_ref()
                    .err()
                    .map(|reason| (Instant::now(), reason.clone()));
            }
            let _ = publish.send(Some(result));
        });
        outcome
    }

    fn log_failed_refresh(&self, reason: &str) {
        let grace_ends = self.timing.ttl + self.timing.grace;
        match self.snapshot() {
            Some(set) if set.fetched_at.elapsed() < grace_ends => {
                let left = grace_ends.saturating_sub(set.fetched_at.elapsed());
                tracing::warn!(
                    url = %self.url,
                    %reason,
                    last_good_age_secs = set.fetched_at.elapsed().as_secs(),
                    grace_left_secs = left.as_secs(),
                    "refreshing the JWKS failed: still verifying with the last good key set"
                );
            }
            Some(_) => tracing::error!(
                url = %self.url,
                %reason,
                "refreshing the JWKS failed and the last good key set is past its grace period: \
                 ES256/RS256 sign-ins fail until the JWKS answers"
            ),
            None => tracing::warn!(url = %self.url, %reason, "fetching the JWKS failed"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, JwksKey>, String> {
        let url = &self.url;
        let mut response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(JWKS_FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url} answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading {url}: {e}"))?
        {
            if body.len() + chunk.len() > JWKS_MAX_BYTES {
                return Err(format!("{url} is larger than {JWKS_MAX_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSetWire =
            serde_json::from_slice(&body).map_err(|e| format!("{url} is not a JWK set: {e}"))?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            match parse_jwk(jwk) {
                Ok((kid, key)) => {
                    keys.entry(kid).or_insert(key);
                }
                Err(reason) => tracing::debug!(%url, %reason, "skipping a JWKS key"),
            }
        }
        tracing::debug!(%url, keys = keys.len(), "fetched the JWKS");
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex as StdMutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    };

    use axum::{Json, Router, extract::State, routing::get};
    use base64::engine::general_purpose::STANDARD;
    use ring::{
        rand::SystemRandom,
        signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair},
    };
    use serde_json::json;

    use super::*;
    use crate::outbound::http_client;

    const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
    const LOCAL_ISSUER: &str = "http://127.0.0.1:54321/auth/v1";
    const USER: &str = "0b9d2c1e-7a4f-4d47-9a51-3f1f0c8e2a11";
    const SESSION: &str = "6f1c1d7e-2b3a-4c5d-8e9f-0a1b2c3d4e5f";

    /// A throwaway 2048-bit RSA key (PKCS#1 DER, base64) made for these tests only.
    const TEST_RSA_KEY_DER_B64: &[&str] = &[
        "MIIEogIBAAKCAQEAlGUmCpmUjyVWs+7tSeU3A2lRmDMPn0ej309ewuVUs5cpw6xNefsBCzKCOiZQPVTbe2vmFlw4PrLcrBU5",
        "UQXa9V4rHGxnCtDHFEixXO65lARsySdMXTrc0clcmzoVIw3SaJTXAb0ReoPzqoQGYiNmIZL3bUWT8zP5IPjFXtR1DSOCxmSl",
        "vtvW5UjoPBuFcBUDcd7a+6APlwS7OSTzL4mQS4beZthrh5bHSucNn4L0akA/BQHLgXo2ojqzaN/6vxnEUacSjpLZzC0qKrkP",
        "H8geGJjyNe91X65tPAsWRts8+Bw9S2pq6dzlajn/J2pFhq6UV2kMx5xTrSJYbj5Z9oZuuQIDAQABAoH/EaNh4inMx8k6qZYq",
        "VQvpoqK9fcdvXRGUjWQq30isEdEvARMMInOOrDPCa3AiYpWO7q7khcPeECgNyYsFaZv/aph9q+M2pVuZKYboIEg/xqFSTN+o",
        "D2zLG5IcuOjlUSDBKtGqvK68ZRy3tR8gx63/vtlLavq1mzK216In04ttObSr1Oj997v1T1XYMA844dYq+3IvkYkCCOuJk5iT",
        "IHXXVksnUEnb4q9G1SS+wb5OTwm966o65Gn9pJr+4lijUNVhgwcE2I/q2MLV9FuujBBDl3QS7Qh7Z3ikxecj5Vu8nGk7KXc8",
        "cHmvmGqZpBXNteTTJRjn97kjpxLkSJUgWtixAoGBANA3SgrNBjkTAbsBQ9C9Ic8dAHAZuPhIdyhH2hgkRMtuz2eE37EdRuC3",
        "y3KCluSG7vY/YFZGTwa5Cpm/w3UVDKMd/RZ2mU5PQSaYDlxAR7+2Z5qPwEKSTsit3XLGNGMN6OVI4vp3Als/Xa6d+AuRR1bg",
        "b6r+33f+yfGL65NFt1L1AoGBALZzYJhd5xDUnZ1pUnRJ5FxQ59IfJFg4UqzPuCfkg4lFWTITIotHsRca/YGCk8wk7k3tebsP",
        "SjfYJx8oCbT6N1f8jEes7R0UqPnyYz3i2H4hQ8fWj4WoghhIrcRxo+6a1blZNffbcOwgYntSZ0Z+jzS5u6gl/0N8ekg8FG96",
        "8/o1AoGBALsBfWm3/KfUL1Cy8SKQS8ZF6PfF0oCELSkrZ3EZWgRQcM0r5PChN+Bqkro1GasEmajnAPJb0WxbU28FcVo93oy+",
        "SWoceNKBkiVEmlk2jnpcLC8AfxALceEBbww/ghuZCZys2tdTffVQMya60GYrRCR+DS1KHpEacGuWXK14Bw/lAoGAM7QGj6cs",
        "r+xQricGosW93RtgVn9UwVtUsnw657MuQ1xPpo0doPK0EKQpauYiFBvzHEpL0OLIWYL7syyZc5vkyx5acoVivHb6W7qAvSzn",
        "xPaQSrVW/r1+AHu4Io9BsYBXSKsrTA33tjKHNgNoGOYMlxh7QW9jIzDHRmkgMWdadHECgYEAhPR26iqvq/NjXi9a1uaEW6+U",
        "aktTo3SuH7RWCTnTRy0U2yohSrI0l5BCcDY1W1U+WYdfszHlZ9BhfstSGXiCG/P2NKOlBo3n2m6JRu3wbFijhIVSmLj3my1b",
        "6wSYb+83nBCKpTQd93ZsIhUTs2ZezrTvxcqVwjKpO5obgaMAwZc=",
    ];

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    /// Claims as Supabase Auth puts them in an access token for a signed-in user.
    fn claims(issuer: &str) -> Value {
        let now = now();
        json!({
            "iss": issuer,
            "aud": "authenticated",
            "exp": now + 3600,
            "iat": now,
            "sub": USER,
            "email": "ana@example.com",
            "phone": "",
            "role": "authenticated",
            "aal": "aal1",
            "session_id": SESSION,
            "is_anonymous": false,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"full_name": "Ana"},
            "amr": [{"method": "password", "timestamp": now}],
        })
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn hs256_verifier() -> TokenVerifier {
        TokenVerifier::new(VerifierConfig {
            issuer: LOCAL_ISSUER.to_owned(),
            hs256_secret: Some(SECRET.into()),
            jwks: None,
        })
        .unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A compact JWS with any header, signed by `sign` over `header.payload`.
    fn jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
        let message = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = sign(message.as_bytes());
        format!("{message}.{}", b64(&signature))
    }

    fn hmac(secret: &[u8]) -> impl FnOnce(&[u8]) -> Vec<u8> {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        move |message| ring::hmac::sign(&key, message).as_ref().to_vec()
    }

    struct EcKey {
        kid: String,
        pair: EcdsaKeyPair,
    }

    impl EcKey {
        fn generate(kid: &str) -> Self {
            let rng = SystemRandom::new();
            let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
            Self {
                kid: kid.to_owned(),
                pair,
            }
        }

        /// The public key as Supabase publishes it.
        fn jwk(&self) -> Value {
            let point = self.pair.public_key().as_ref();
            json!({
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                "key_ops": ["verify"], "ext": true, "kid": self.kid,
                "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            })
        }

        fn sign_as(&self, alg: &str, claims: &Value) -> String {
            let header = json!({"alg": alg, "kid": self.kid, "typ": "JWT"});
            jws(&header, claims, |message| {
                let rng = SystemRandom::new();
                self.pair.sign(&rng, message).unwrap().as_ref().to_vec()
            })
        }

        fn sign(&self, claims: &Value) -> String {
            self.sign_as("ES256", claims)
        }
    }

    struct RsaKey {
        kid: String,
        pair: RsaKeyPair,
    }

    impl RsaKey {
        fn fixture(kid: &str) -> Self {
            let der = STANDARD.decode(TEST_RSA_KEY_DER_B64.concat()).unwrap();
            Self {
                kid: kid.to_owned(),
                pair: RsaKeyPair::from_der(&der).unwrap(),
            }
        }

        fn jwk(&self) -> Value {
            let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(self.pair.public());
            json!({
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                "n": b64(&public.n), "e": b64(&public.e),
            })
        }

        fn sign_as(&self, alg: &str, claims: &Value) -> String {
            let header = json!({"alg": alg, "kid": self.kid, "typ": "JWT"});
            jws(&header, claims, |message| {
                let mut signature = vec![0; self.pair.public().modulus_len()];
                self.pair
                    .sign(
                        &signature::RSA_PKCS1_SHA256,
                        &SystemRandom::new(),
                        message,
                        &mut signature,
                    )
                    .unwrap();
                signature
            })
        }
    }

    #[derive(Clone)]
    struct JwksState {
        jwks: Arc<StdMutex<Value>>,
        hits: Arc<AtomicUsize>,
        /// Answer 503 instead of the set.
        failing: Arc<AtomicBool>,
        /// Milliseconds to wait before answering.
        delay_ms: Arc<AtomicU64>,
    }

    /// A real HTTP server on 127.0.0.1 serving a JWKS at Supabase's path, counting requests.
    struct JwksServer {
        base_url: String,
        state: JwksState,
        task: tokio::task::JoinHandle<()>,
    }

    impl JwksServer {
        async fn start(keys: Vec<Value>) -> Self {
            async fn serve(State(state): State<JwksState>) -> axum::response::Response {
                use axum::response::IntoResponse;
                state.hits.fetch_add(1, Ordering::SeqCst);
                let delay = state.delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                if state.failing.load(Ordering::SeqCst) {
                    return http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let jwks = state.jwks.lock().unwrap().clone();
                Json(jwks).into_response()
            }
            let state = JwksState {
                jwks: Arc::new(StdMutex::new(json!({ "keys": keys }))),
                hits: Arc::new(AtomicUsize::new(0)),
                failing: Arc::new(AtomicBool::new(false)),
                delay_ms: Arc::new(AtomicU64::new(0)),
            };
            let app = Router::new()
                .route("/auth/v1/.well-known/jwks.json", get(serve))
                .with_state(state.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base_url = format!("http://{}", listener.local_addr().unwrap());
            let task = tokio::spawn(async move {
                axum::serve(listener, app).await.unwrap();
            });
            Self {
                base_url,
                state,
                task,
            }
        }

        fn issuer(&self) -> String {
            format!("{}/auth/v1", self.base_url)
        }

        fn hits(&self) -> usize {
            self.state.hits.load(Ordering::SeqCst)
        }

        fn publish(&self, keys: Vec<Value>) {
            *self.state.jwks.lock().unwrap() = json!({ "keys": keys });
        }

        fn fail(&self, failing: bool) {
            self.state.failing.store(failing, Ordering::SeqCst);
        }

        fn delay(&self, delay: Duration) {
            self.state
                .delay_ms
                .store(delay.as_millis() as u64, Ordering::SeqCst);
        }

        /// Waits until the endpoint has been asked `hits` times in all.
        async fn wait_for_hits(&self, hits: usize) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.hits() < hits {
                assert!(
                    Instant::now() < deadline,
                    "{} hits, not {hits}",
                    self.hits()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }

        fn verifier_with(&self, timing: JwksTiming) -> TokenVerifier {
            TokenVerifier::with_timing(
                VerifierConfig::for_supabase(&self.base_url, None, http_client()),
                timing,
            )
            .unwrap()
        }

        fn verifier(&self, secret: Option<&str>) -> TokenVerifier {
            TokenVerifier::new(VerifierConfig::for_supabase(
                &self.base_url,
                secret.map(JwtSecret::from),
                http_client(),
            ))
            .unwrap()
        }
    }

    impl Drop for JwksServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    #[tokio::test]
    async fn hs256_good_token_verifies() {
        let raw = claims(LOCAL_ISSUER);
        let token = sign_hs256(&raw, SECRET.as_bytes());
        let claims = hs256_verifier().verify(&token).await.unwrap();

        assert_eq!(claims.sub, Uuid::parse_str(USER).unwrap());
        assert_eq!(claims.email.as_deref(), Some("ana@example.com"));
        assert_eq!(claims.phone, None, "an empty phone reads as none");
        assert_eq!(claims.role, "authenticated");
        assert_eq!(claims.aud, vec!["authenticated".to_owned()]);
        assert_eq!(claims.iss, LOCAL_ISSUER);
        assert_eq!(claims.session_id, Some(Uuid::parse_str(SESSION).unwrap()));
        assert!(!claims.is_anonymous);
        assert_eq!(claims.aal.as_deref(), Some("aal1"));
        assert_eq!(claims.user_metadata["full_name"], "Ana");
        assert_eq!(claims.amr[0]["method"], "password");
        assert_eq!(claims.raw, raw, "the raw claims are kept as signed");
        // (De)serializing goes through the raw claims, unchanged.
        assert_eq!(serde_json::to_value(&claims).unwrap(), raw);
        let back: AccessClaims = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(back, claims);
    }

    #[tokio::test]
    async fn hs256_wrong_secret_is_a_bad_signature() {
        let token = sign_hs256(
            &claims(LOCAL_ISSUER),
            b"another-secret-of-at-least-32-characters!",
        );
        assert_eq!(
            hs256_verifier().verify(&token).await,
            Err(TokenError::BadSignature)
        );
    }

    #[tokio::test]
    async fn hs256_expired_token_is_refused_beyond_the_leeway() {
        let verifier = hs256_verifier();
        let expired = with(claims(LOCAL_ISSUER), "exp", json!(now() - 120));
        let token = sign_hs256(&expired, SECRET.as_bytes());
        assert_eq!(verifier.verify(&token).await, Err(TokenError::Expired));

        let within_leeway = with(claims(LOCAL_ISSUER), "exp", json!(now() - 10));
        let token = sign_hs256(&within_leeway, SECRET.as_bytes());
        assert!(verifier.verify(&token).await.is_ok());

        let mut no_exp = claims(LOCAL_ISSUER);
        no_exp.as_object_mut().unwrap().remove("exp");
        let token = sign_hs256(&no_exp, SECRET.as_bytes());
        assert!(matches!(
            verifier.verify(&token).await,
            Err(TokenError::Malformed(reason)) if reason.contains("exp")
        ));
    }

    #[tokio::test]
    async fn hs256_wrong_audience_is_refused() {
        let verifier = hs256_verifier();
        for aud in [json!("anon"), json!(""), json!(["anon", "service_role"])] {
            let token = sign_hs256(&with(claims(LOCAL_ISSUER), "aud", aud), SECRET.as_bytes());
            assert_eq!(
                verifier.verify(&token).await,
                Err(TokenError::WrongAudience)
            );
        }
        let mut no_aud = claims(LOCAL_ISSUER);
        no_aud.as_object_mut().unwrap().remove("aud");
        let token = sign_hs256(&no_aud, SECRET.as_bytes());
        assert_eq!(
            verifier.verify(&token).await,
            Err(TokenError::WrongAudience)
        );
    }

    #[tokio::test]
    async fn hs256_wrong_issuer_is_refused() {
        let verifier = hs256_verifier();
        for iss in [
            "https://other-project.supabase.co/auth/v1",
            "http://127.0.0.1:54321/auth/v1/",
            "supabase",
        ] {
            let token = sign_hs256(
                &with(claims(LOCAL_ISSUER), "iss", json!(iss)),
                SECRET.as_bytes(),
            );
            assert_eq!(verifier.verify(&token).await, Err(TokenError::WrongIssuer));
        }
        let mut no_iss = claims(LOCAL_ISSUER);
        no_iss.as_object_mut().unwrap().remove("iss");
        let token = sign_hs256(&no_iss, SECRET.as_bytes());
        assert_eq!(verifier.verify(&token).await, Err(TokenError::WrongIssuer));
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        let server = JwksServer::start(vec![EcKey::generate("a").jwk()]).await;
        let verifier = server.verifier(Some(SECRET));
        let claims = claims(&server.issuer());
        for alg in ["none", "None", "NONE", "nOnE"] {
            let unsigned = jws(&json!({"alg": alg, "typ": "JWT"}), &claims, |_| Vec::new());
            assert!(
                unsigned.ends_with('.'),
                "an unsecured JWS has an empty signature"
            );
            assert_eq!(
                verifier.verify(&unsigned).await,
                Err(TokenError::UnsupportedAlgorithm(alg.to_owned()))
            );
            // Nor does an HMAC signature (or any other) make `none` acceptable.
            let signed = jws(&json!({"alg": alg}), &claims, hmac(SECRET.as_bytes()));
            assert_eq!(
                verifier.verify(&signed).await,
                Err(TokenError::UnsupportedAlgorithm(alg.to_owned()))
            );
        }
        assert_eq!(server.hits(), 0, "no key is looked up for `none`");
    }

    #[tokio::test]
    async fn other_algorithms_are_refused() {
        let verifier = hs256_verifier();
        let claims = claims(LOCAL_ISSUER);
        for alg in [
            "HS384", "HS512", "ES384", "RS512", "PS256", "EdDSA", "hs256", "",
        ] {
            let token = jws(&json!({"alg": alg}), &claims, hmac(SECRET.as_bytes()));
            assert_eq!(
                verifier.verify(&token).await,
                Err(TokenError::UnsupportedAlgorithm(alg.to_owned()))
            );
        }
    }

    #[tokio::test]
    async fn malformed_tokens_are_refused() {
        let verifier = hs256_verifier();
        let good = sign_hs256(&claims(LOCAL_ISSUER), SECRET.as_bytes());
        let header_only = good.split('.').next().unwrap().to_owned();
        for token in [
            String::new(),
            "garbage".to_owned(),
            format!("{header_only}.e30"),
            format!("{good}.extra"),
            format!("!!{good}"),
            format!("{}.e30.", b64(b"[1,2]")),
            format!("{}.e30.", b64(br#"{"typ":"JWT"}"#)),
            format!("{}.e30.", b64(br#"{"alg":"HS256","crit":["b64"]}"#)),
            "x".repeat(TOKEN_MAX_BYTES + 1),
        ] {
            assert!(
                matches!(verifier.verify(&token).await, Err(TokenError::Malformed(_))),
                "{token:.60}"
            );
        }
        // Correctly signed, but not a user's access token (no `sub`, as in the anon key).
        let mut anon = claims(LOCAL_ISSUER);
        anon.as_object_mut().unwrap().remove("sub");
        let token = sign_hs256(&anon, SECRET.as_bytes());
        assert!(matches!(
            verifier.verify(&token).await,
            Err(TokenError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn missing_keys_are_reported_per_algorithm() {
        let only_jwks = TokenVerifier::new(VerifierConfig {
            issuer: LOCAL_ISSUER.to_owned(),
            hs256_secret: None,
            jwks: Some(JwksSource {
                url: "http://127.0.0.1:9/jwks.json".to_owned(),
                http: http_client(),
            }),
        })
        .unwrap();
        let token = sign_hs256(&claims(LOCAL_ISSUER), SECRET.as_bytes());
        assert_eq!(
            only_jwks.verify(&token).await,
            Err(TokenError::NoKeyForAlgorithm("HS256".to_owned()))
        );

        let key = EcKey::generate("a");
        assert_eq!(
            hs256_verifier()
                .verify(&key.sign(&claims(LOCAL_ISSUER)))
                .await,
            Err(TokenError::NoKeyForAlgorithm("ES256".to_owned()))
        );

        let empty_secret = VerifierConfig {
            issuer: LOCAL_ISSUER.to_owned(),
            hs256_secret: Some("".into()),
            jwks: None,
        };
        assert_eq!(
            TokenVerifier::new(empty_secret).unwrap_err(),
            ConfigError::EmptySecret
        );
    }

    /// The classic confusion: an HS256 token "signed" with the public key as HMAC secret.
    #[tokio::test]
    async fn hs256_signed_with_the_public_key_is_refused() {
        let key = EcKey::generate("key-a");
        let server = JwksServer::start(vec![key.jwk()]).await;
        let claims = claims(&server.issuer());
        let header = json!({"alg": "HS256", "kid": key.kid, "typ": "JWT"});
        let public_secrets = [
            key.jwk().to_string().into_bytes(),
            json!({"keys": [key.jwk()]}).to_string().into_bytes(),
            key.pair.public_key().as_ref().to_vec(),
        ];

        let with_secret = server.verifier(Some(SECRET));
        let without_secret = server.verifier(None);
        for public in &public_secrets {
            let forged = jws(&header, &claims, hmac(public));
            assert_eq!(
                with_secret.verify(&forged).await,
                Err(TokenError::BadSignature)
            );
            assert_eq!(
                without_secret.verify(&forged).await,
                Err(TokenError::NoKeyForAlgorithm("HS256".to_owned()))
            );
        }
        assert_eq!(server.hits(), 0, "HS256 never consults the JWKS");
    }

    #[tokio::test]
    async fn a_key_only_verifies_its_own_algorithm() {
        let ec = EcKey::generate("ec-key");
        let rsa = RsaKey::fixture("rsa-key");
        let server = JwksServer::start(vec![ec.jwk(), rsa.jwk()]).await;
        let verifier = server.verifier(Some(SECRET));
        let claims = claims(&server.issuer());

        let rs256_naming_ec = rsa.sign_as("RS256", &claims).replacen(
            &b64(json!({"alg": "RS256", "kid": "rsa-key", "typ": "JWT"})
                .to_string()
                .as_bytes()),
            &b64(json!({"alg": "RS256", "kid": "ec-key", "typ": "JWT"})
                .to_string()
                .as_bytes()),
            1,
        );
        assert!(matches!(
            verifier.verify(&rs256_naming_ec).await,
            Err(TokenError::KeyAlgorithmMismatch { kid, alg, .. }) if kid == "ec-key" && alg == "RS256"
        ));
        let es256_naming_rsa = jws(
            &json!({"alg": "ES256", "kid": "rsa-key"}),
            &claims,
            |message| {
                ec.pair
                    .sign(&SystemRandom::new(), message)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            },
        );
        assert!(matches!(
            verifier.verify(&es256_naming_rsa).await,
            Err(TokenError::KeyAlgorithmMismatch { kid, alg, .. }) if kid == "rsa-key" && alg == "ES256"
        ));
        // Both keys do verify their own algorithm.
        assert!(verifier.verify(&ec.sign(&claims)).await.is_ok());
        assert!(
            verifier
                .verify(&rsa.sign_as("RS256", &claims))
                .await
                .is_ok()
        );
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn es256_via_jwks_with_key_rotation() {
        let key_a = EcKey::generate("key-a");
        let key_b = EcKey::generate("key-b");
        let server = JwksServer::start(vec![key_a.jwk()]).await;
        let verifier = server.verifier(Some(SECRET));
        let claims = claims(&server.issuer());

        let verified = verifier.verify(&key_a.sign(&claims)).await.unwrap();
        assert_eq!(verified.sub, Uuid::parse_str(USER).unwrap());
        assert_eq!(server.hits(), 1);
        // Within the cache's lifetime nothing is refetched, from any clone of the verifier.
        let clone = verifier.clone();
        for _ in 0..5 {
            clone.verify(&key_a.sign(&claims)).await.unwrap();
        }
        assert_eq!(server.hits(), 1);

        // A tampered payload under key A fails.
        let token = key_a.sign(&claims);
        let mut parts: Vec<&str> = token.split('.').collect();
        let tampered_claims = b64(with(claims.clone(), "role", json!("service_role"))
            .to_string()
            .as_bytes());
        parts[1] = &tampered_claims;
        assert_eq!(
            verifier.verify(&parts.join(".")).await,
            Err(TokenError::BadSignature)
        );

        // Supabase rotates to key B: the first token naming B refetches once and verifies.
        server.publish(vec![key_b.jwk()]);
        assert!(verifier.verify(&key_b.sign(&claims)).await.is_ok());
        assert_eq!(server.hits(), 2, "exactly one refetch for the new kid");
        assert!(verifier.verify(&key_b.sign(&claims)).await.is_ok());
        assert_eq!(server.hits(), 2);

        // Key A is gone now; a kid nobody published fails, and neither refetches right away.
        assert_eq!(
            verifier.verify(&key_a.sign(&claims)).await,
            Err(TokenError::UnknownKey("key-a".to_owned()))
        );
        let stranger = EcKey::generate("made-up-kid");
        for _ in 0..3 {
            assert_eq!(
                verifier.verify(&stranger.sign(&claims)).await,
                Err(TokenError::UnknownKey("made-up-kid".to_owned()))
            );
        }
        assert_eq!(
            server.hits(),
            2,
            "unknown kids do not hammer the JWKS endpoint"
        );
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_then_is_throttled() {
        let key = EcKey::generate("key-a");
        let server = JwksServer::start(vec![key.jwk()]).await;
        let verifier = server.verifier(None);
        let claims = claims(&server.issuer());
        verifier.verify(&key.sign(&claims)).await.unwrap();
        assert_eq!(server.hits(), 1);

        let stranger = EcKey::generate("made-up-kid");
        assert_eq!(
            verifier.verify(&stranger.sign(&claims)).await,
            Err(TokenError::UnknownKey("made-up-kid".to_owned()))
        );
        assert_eq!(server.hits(), 2, "the first unknown kid refetches");
        // Concurrent and repeated attempts within the interval do not refetch.
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let verifier = verifier.clone();
                let token = stranger.sign(&claims);
                tokio::spawn(async move { verifier.verify(&token).await })
            })
            .collect();
        for attempt in attempts {
            assert_eq!(
                attempt.await.unwrap(),
                Err(TokenError::UnknownKey("made-up-kid".to_owned()))
            );
        }
        assert_eq!(server.hits(), 2);
        // Known keys keep verifying from the cache meanwhile.
        verifier.verify(&key.sign(&claims)).await.unwrap();
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn the_jwks_is_refetched_after_its_lifetime() {
        let key = EcKey::generate("key-a");
        let server = JwksServer::start(vec![key.jwk()]).await;
        let timing = JwksTiming {
            ttl: Duration::from_millis(300),
            ..JwksTiming::default()
        };
        let verifier = TokenVerifier::with_timing(
            VerifierConfig::for_supabase(&server.base_url, None, http_client()),
            timing,
        )
        .unwrap();
        let claims = claims(&server.issuer());
        verifier.verify(&key.sign(&claims)).await.unwrap();
        verifier.verify(&key.sign(&claims)).await.unwrap();
        assert_eq!(server.hits(), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        // The stale set answers while the refresh runs in the background.
        verifier.verify(&key.sign(&claims)).await.unwrap();
        server.wait_for_hits(2).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        verifier.verify(&key.sign(&claims)).await.unwrap();
        assert_eq!(server.hits(), 2, "the refreshed set is fresh again");
        // A key removed from the JWKS stops verifying once a refresh has seen it gone.
        server.publish(vec![]);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        // The stale set answers until the refresh lands; then the key is unknown.
        while verifier.verify(&key.sign(&claims)).await.is_ok() {
            assert!(Instant::now() < deadline, "the removed key still verifies");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            verifier.verify(&key.sign(&claims)).await,
            Err(TokenError::UnknownKey("key-a".to_owned()))
        );
        // Plus the one refetch any kid missing from a fresh set gets (a rotation, maybe).
        assert_eq!(server.hits(), 4);
    }

    #[tokio::test]
    async fn a_failing_jwks_keeps_the_last_good_keys_for_the_grace_period_only() {
        let key = EcKey::generate("key-a");
        let server = JwksServer::start(vec![key.jwk()]).await;
        let verifier = server.verifier_with(JwksTiming {
            ttl: Duration::from_millis(200),
            grace: Duration::from_millis(2000),
            failure_backoff: Duration::from_millis(50),
            ..JwksTiming::default()
        });
        let claims = claims(&server.issuer());
        verifier.verify(&key.sign(&claims)).await.unwrap();
        assert_eq!(server.hits(), 1);

        // Supabase's JWKS starts failing; the cached set expires.
        server.fail(true);
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..3 {
            verifier.verify(&key.sign(&claims)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        assert!(server.hits() >= 2, "the refresh was tried");
        assert!(
            verifier.verify(&key.sign(&claims)).await.is_ok(),
            "within the grace period the last good keys verify"
        );

        // Past the grace period (TTL + grace after the fetch) tokens are refused.
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let refused = verifier.verify(&key.sign(&claims)).await.unwrap_err();
        assert!(
            matches!(refused, TokenError::JwksUnavailable(_)),
            "{refused}"
        );

        // And the JWKS answering again brings sign-in back.
        server.fail(false);
        tokio::time::sleep(Duration::from_millis(60)).await;
        verifier.verify(&key.sign(&claims)).await.unwrap();
    }

    #[tokio::test]
    async fn a_slow_refresh_blocks_no_verification_and_runs_once() {
        let key = EcKey::generate("key-a");
        let server = JwksServer::start(vec![key.jwk()]).await;
        let verifier = server.verifier_with(JwksTiming {
            ttl: Duration::from_millis(200),
            ..JwksTiming::default()
        });
        let claims = claims(&server.issuer());
        verifier.verify(&key.sign(&claims)).await.unwrap();
        assert_eq!(server.hits(), 1);

        server.delay(Duration::from_millis(1500));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let tokens: Vec<String> = (0..20).map(|_| key.sign(&claims)).collect();
        let started = Instant::now();
        let verifications: Vec<_> = tokens
            .into_iter()
            .map(|token| {
                let verifier = verifier.clone();
                tokio::spawn(async move { verifier.verify(&token).await })
            })
            .collect();
        for verification in verifications {
            verification.await.unwrap().unwrap();
        }
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1000),
            "20 verifications waited {took:?} for the slow JWKS"
        );
        server.wait_for_hits(2).await;
        // Once the slow refresh has landed, it was the only one.
        tokio::time::sleep(Duration::from_millis(1700)).await;
        assert_eq!(server.hits(), 2, "one refresh in flight, shared by all");
    }

    #[tokio::test]
    async fn rs256_via_jwks() {
        let key = RsaKey::fixture("rsa-key");
        let server = JwksServer::start(vec![key.jwk()]).await;
        let verifier = server.verifier(Some(SECRET));
        let claims = claims(&server.issuer());
        let verified = verifier
            .verify(&key.sign_as("RS256", &claims))
            .await
            .unwrap();
        assert_eq!(verified.raw, claims);

        let expired = with(claims.clone(), "exp", json!(now() - 3600));
        assert_eq!(
            verifier.verify(&key.sign_as("RS256", &expired)).await,
            Err(TokenError::Expired)
        );
        let wrong_aud = with(claims.clone(), "aud", json!("anon"));
        assert_eq!(
            verifier.verify(&key.sign_as("RS256", &wrong_aud)).await,
            Err(TokenError::WrongAudience)
        );
        // PS256 with the same key is a different algorithm, and refused.
        assert_eq!(
            verifier.verify(&key.sign_as("PS256", &claims)).await,
            Err(TokenError::UnsupportedAlgorithm("PS256".to_owned()))
        );
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_jwks_is_reported_as_unavailable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let verifier = TokenVerifier::new(VerifierConfig::for_supabase(
            &closed,
            Some(SECRET.into()),
            http_client(),
        ))
        .unwrap();
        let claims = claims(verifier.issuer());
        let error = verifier
            .verify(&EcKey::generate("a").sign(&claims))
            .await
            .unwrap_err();
        assert!(matches!(error, TokenError::JwksUnavailable(_)), "{error}");
        assert!(error.is_unavailable());
        // HS256 keeps working without the JWKS.
        assert!(
            verifier
                .verify(&sign_hs256(&claims, SECRET.as_bytes()))
                .await
                .is_ok()
        );
    }
}
