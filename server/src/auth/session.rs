//! The browser session: which Supabase session a cookie stands for, and the PKCE verifier of a
//! sign-in still under way. Stored server-side (`kilat_private.sessions`); the cookie only
//! carries a random id, renewed whenever someone signs in.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use super::{pkce, supabase_client::AuthSession};

const SIGNED_IN: &str = "signed_in";
const PENDING_FLOW: &str = "pending_flow";

/// The cookie's name.
pub const COOKIE: &str = "kilat_session";

/// The Supabase session behind a signed-in browser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl From<AuthSession> for SignedIn {
    fn from(session: AuthSession) -> Self {
        Self {
            user_id: session.user.id,
            email: session.user.email.unwrap_or_default(),
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_at: session.expires_at,
        }
    }
}

/// A sign-in that continues in another request (an email link, Google): the PKCE verifier
/// whose challenge went to Supabase, and where to go afterwards.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingFlow {
    pub code_verifier: String,
    pub next: String,
}

pub type SessionResult<T> = Result<T, tower_sessions::session::Error>;

/// Signs the browser in: a new session id (so a cookie planted before sign-in is worthless),
/// then the tokens.
pub async fn sign_in(session: &Session, signed_in: SignedIn) -> SessionResult<()> {
    session.cycle_id().await?;
    session.remove_value(PENDING_FLOW).await?;
    session.insert(SIGNED_IN, signed_in).await
}

pub async fn signed_in(session: &Session) -> SessionResult<Option<SignedIn>> {
    session.get(SIGNED_IN).await
}

/// Keeps refreshed tokens. Saved at once: a streamed page refreshes while its body is being
/// written, after the session layer has already saved what the response head carried.
pub async fn update(session: &Session, signed_in: SignedIn) -> SessionResult<()> {
    session.insert(SIGNED_IN, signed_in).await?;
    session.save().await
}

/// Forgets everything and deletes the session.
pub async fn end(session: &Session) -> SessionResult<()> {
    session.flush().await
}

/// Starts a sign-in that comes back through `/auth/confirm` and then goes to `next`: keeps a
/// new PKCE verifier and returns the challenge to send to Supabase.
pub async fn start_flow(session: &Session, next: &str) -> SessionResult<String> {
    let (code_verifier, challenge) = pkce::new_pair();
    let flow = PendingFlow {
        code_verifier,
        next: next.to_string(),
    };
    session.insert(PENDING_FLOW, flow).await?;
    Ok(challenge)
}

/// The pending flow, removed: a code is exchanged once.
pub async fn take_flow(session: &Session) -> SessionResult<Option<PendingFlow>> {
    session.remove(PENDING_FLOW).await
}
