//! The browser session: which Supabase session a cookie stands for, and the PKCE verifier of a
//! sign-in still under way. Stored server-side (`kilat_private.sessions`); the cookie only
//! carries a random id, renewed whenever someone signs in.

use std::fmt;

use serde::{Deserialize, Serialize};
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use super::{pkce, supabase_client::AuthSession};

const SIGNED_IN: &str = "signed_in";
const PENDING_FLOW: &str = "pending_flow";

/// The cookie's name.
pub const COOKIE: &str = "kilat_session";

/// How long a signed-in session lasts without being used.
pub const SIGNED_IN_LIFETIME: time::Duration = time::Duration::days(14);
/// How long an anonymous session that only carries a sign-in under way lasts: as long as the
/// link Supabase emails stays valid (its default OTP expiry, one hour), so a link opened late
/// still finds its verifier; short enough that anonymous requests starting flows cannot fill
/// the session table (the hourly sweep deletes them soon after).
pub const FLOW_LIFETIME: time::Duration = time::Duration::hours(1);

/// The Supabase session behind a signed-in browser.
#[derive(Clone, Serialize, Deserialize)]
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

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A sign-in that continues in another request (an email link, Google): the PKCE verifier
/// whose challenge went to Supabase, and where to go afterwards.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingFlow {
    pub code_verifier: String,
    pub next: String,
}

impl fmt::Debug for PendingFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingFlow")
            .field("code_verifier", &"<redacted>")
            .field("next", &self.next)
            .finish()
    }
}

pub type SessionResult<T> = Result<T, tower_sessions::session::Error>;

/// Signs the browser in: a new session id (so a cookie planted before sign-in is worthless),
/// then the tokens.
pub async fn sign_in(session: &Session, signed_in: SignedIn) -> SessionResult<()> {
    session.cycle_id().await?;
    session.set_expiry(Some(Expiry::OnInactivity(SIGNED_IN_LIFETIME)));
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
///
/// The browser's session is reused (a new flow replaces the one before), so one browser holds
/// at most one row however often it starts; an anonymous browser's row lives only
/// [`FLOW_LIFETIME`], so many browsers starting flows leave rows the sweep soon deletes. A
/// signed-in session keeps its own lifetime.
pub async fn start_flow(session: &Session, next: &str) -> SessionResult<String> {
    if signed_in(session).await?.is_none() {
        session.set_expiry(Some(Expiry::OnInactivity(FLOW_LIFETIME)));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_tokens_or_the_verifier() {
        let signed_in = SignedIn {
            user_id: Uuid::nil(),
            email: "ana@example.com".into(),
            access_token: "access-token-value".into(),
            refresh_token: "refresh-token-value".into(),
            expires_at: 0,
        };
        let debug = format!("{signed_in:?}");
        assert!(!debug.contains("access-token-value"), "{debug}");
        assert!(!debug.contains("refresh-token-value"), "{debug}");
        assert!(debug.contains("ana@example.com"), "{debug}");

        let flow = PendingFlow {
            code_verifier: "verifier-value".into(),
            next: "/dashboard".into(),
        };
        let debug = format!("{flow:?}");
        assert!(!debug.contains("verifier-value"), "{debug}");
        assert!(debug.contains("/dashboard"), "{debug}");
    }
}
