//! The one HTTP client for calls this server makes to other services (Supabase Auth and its
//! JWKS, Resend, and the payment and AI providers next). Built once at start-up and cloned
//! into each provider client, so they share one connection pool and the same rules.

use std::time::Duration;

/// How long connecting to a provider may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole call may take, unless its caller sets its own with
/// [`reqwest::RequestBuilder::timeout`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How every outbound call introduces itself (Resend refuses calls without a `User-Agent`).
pub const USER_AGENT: &str = concat!("kilat/", env!("CARGO_PKG_VERSION"));

/// The shared client: connect and request timeouts, a `kilat/<version>` user agent, and no
/// redirects followed — a provider API answers where it was asked, and a redirect would carry
/// our keys to wherever it pointed.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build()
        // Only fails when the TLS backend cannot start; rustls with its bundled roots always can.
        .expect("the outbound HTTP client builds")
}
