//! Local stand-ins for the services Kilat talks to. Each speaks its provider's protocol, so the
//! production client is the code path every local run and test exercises. Never in production.

pub mod ai_twin;
pub mod auth_twin;
pub mod doku_twin;
pub mod gateway;
pub mod hosted_checkout;
pub mod mail_twin;
pub mod midtrans_twin;
pub mod payment_notifier;
mod payment_twin_state;
pub mod storage_twin;
mod twin_control;
#[cfg(test)]
mod twin_test_support;

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

/// The stand-in server: the Supabase API surface (like the Supabase CLI's gateway on 54321:
/// Auth under `/auth/v1`, Storage under `/storage/v1`), the mail twin under `/resend` and the
/// AI twins under `/openai/v1` and `/anthropic`, served by this process on its own port.
pub struct StandIns {
    /// Where the stand-ins answer, e.g. `http://127.0.0.1:54321`.
    pub base_url: String,
    pub mailbox: mail_twin::Mailbox,
}

/// The long-lived API key for `role` (`anon` or `service_role`) signed with `jwt_secret`,
/// exactly as the Supabase CLI makes its local keys: the same header and claims, serialized in
/// the same order, so with the CLI's default secret these are byte for byte the keys
/// `supabase status` prints, and code or docs written for the CLI's stack work unchanged.
pub fn api_key(role: &str, jwt_secret: &[u8]) -> String {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    // Serialized by hand: a JSON map would reorder the claims and change the key.
    let claims = format!(
        r#"{{"iss":"supabase-demo","role":{},"exp":1983812996}}"#,
        serde_json::Value::from(role)
    );
    let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, jwt_secret);
    let signature = ring::hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// What the Auth twin needs beyond the stand-ins' own address and mail. The Storage twin,
/// served next to it, shares its database, secret and keys.
pub struct AuthTwinSettings {
    pub pool: sqlx::PgPool,
    pub jwt_secret: Vec<u8>,
    pub anon_key: String,
    pub site_url: String,
    pub mail_from: String,
    pub autoconfirm: bool,
    pub access_token_ttl: std::time::Duration,
    /// The server's shared outbound client, for the twin's mail to the mail twin.
    pub http: reqwest::Client,
    /// Where the Storage twin keeps object bytes (`LOCAL_STORAGE_DIR`); a relative path is
    /// taken from the working directory at start.
    pub storage_dir: PathBuf,
}

impl std::fmt::Debug for AuthTwinSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTwinSettings")
            .field("jwt_secret", &"<redacted>")
            .field("anon_key", &"<redacted>")
            .field("site_url", &self.site_url)
            .field("mail_from", &self.mail_from)
            .field("autoconfirm", &self.autoconfirm)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("storage_dir", &self.storage_dir)
            .finish_non_exhaustive()
    }
}

/// The payment gateway twin to serve, with the keys the server uses too.
pub enum PaymentTwin {
    Midtrans {
        server_key: String,
    },
    Doku {
        client_id: String,
        secret_key: String,
    },
}

/// What the payment twin needs beyond its keys.
pub struct PaymentTwinSettings {
    pub twin: PaymentTwin,
    /// Our public address (`SITE_URL`): notifications go to its webhook routes.
    pub site_url: String,
    pub http: reqwest::Client,
}

/// The gateways retry a refused notification over hours (Midtrans 2 min to 3.5 h, DOKU 30 min
/// to 12 h); locally every wait is this many times shorter, so a retry is seen while
/// developing.
const LOCAL_RETRY_SPEEDUP: u32 = 60;

/// Binds the stand-in port (0 picks a free one) on loopback and serves the stand-ins there:
/// the mail and AI twins always, the Auth and Storage twins when `auth` is given, the payment gateway
/// twin when `payments` is.
pub async fn start(
    port: u16,
    auth: Option<AuthTwinSettings>,
    payments: Option<PaymentTwinSettings>,
) -> anyhow::Result<StandIns> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await.with_context(|| {
        format!(
            "cannot listen on 127.0.0.1:{port} for the local stand-ins (is another Kilat or the \
             Supabase CLI running? set LOCAL_SUPABASE_PORT)"
        )
    })?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let mailbox = mail_twin::Mailbox::default();
    let mut router = Router::new()
        .nest("/resend", mail_twin::router(mailbox.clone()))
        .nest(
            "/openai/v1",
            ai_twin::openai_router(ai_twin::AiTwin::new(crate::ai::ProviderKind::OpenAi)),
        )
        .nest(
            "/anthropic",
            ai_twin::anthropic_router(ai_twin::AiTwin::new(crate::ai::ProviderKind::Anthropic)),
        );
    let mut services = vec!["Resend", "OpenAI", "Anthropic"];
    if let Some(payments) = payments {
        let compressed = |delays: &[std::time::Duration]| {
            delays
                .iter()
                .map(|delay| *delay / LOCAL_RETRY_SPEEDUP)
                .collect()
        };
        match payments.twin {
            PaymentTwin::Midtrans { server_key } => {
                router = router.nest(
                    "/midtrans",
                    midtrans_twin::router(midtrans_twin::MidtransTwinConfig {
                        server_key,
                        notification_url: format!(
                            "{}{}",
                            payments.site_url,
                            crate::billing::MIDTRANS_WEBHOOK_PATH
                        ),
                        public_url: format!("{base_url}/midtrans"),
                        http: payments.http,
                        retry_delays: compressed(&midtrans_twin::RETRY_DELAYS),
                    }),
                );
                services.push("Midtrans");
            }
            PaymentTwin::Doku {
                client_id,
                secret_key,
            } => {
                router = router.nest(
                    "/doku",
                    doku_twin::router(doku_twin::DokuTwinConfig {
                        client_id,
                        secret_key,
                        notification_url: format!(
                            "{}{}",
                            payments.site_url,
                            crate::billing::DOKU_WEBHOOK_PATH
                        ),
                        notification_target_path: crate::billing::DOKU_WEBHOOK_PATH.into(),
                        public_url: format!("{base_url}/doku"),
                        http: payments.http,
                        retry_delays: compressed(&doku_twin::RETRY_DELAYS),
                    }),
                );
                services.push("DOKU");
            }
        }
    }
    if let Some(auth) = auth {
        let storage_root = std::path::absolute(&auth.storage_dir).with_context(|| {
            format!(
                "cannot resolve the Storage twin's folder {} (LOCAL_STORAGE_DIR)",
                auth.storage_dir.display()
            )
        })?;
        router = router.nest(
            "/storage/v1",
            storage_twin::router(storage_twin::StorageTwinConfig {
                pool: auth.pool.clone(),
                jwt_secret: auth.jwt_secret.clone(),
                anon_key: auth.anon_key.clone(),
                root: storage_root,
            }),
        );
        services.extend(["Supabase Auth", "Supabase Storage"]);
        let twin = auth_twin::AuthTwinConfig {
            pool: auth.pool,
            jwt_secret: auth.jwt_secret,
            anon_key: auth.anon_key,
            api_external_url: base_url.clone(),
            additional_redirect_urls: Vec::new(),
            site_url: auth.site_url,
            mailer: crate::mail::Mailer::new(
                auth.http,
                format!("{base_url}/resend"),
                crate::config::LOCAL_RESEND_KEY,
            ),
            mail_from: auth.mail_from,
            autoconfirm: auth.autoconfirm,
            access_token_ttl: auth.access_token_ttl,
        };
        router = router.nest("/auth/v1", auth_twin::router(twin));
    }
    tokio::spawn(async move {
        if let Err(error) = axum::serve(crate::listener::without_nagle(listener), router).await {
            tracing::error!(%error, "the local stand-in server stopped");
        }
    });
    tracing::info!("local stand-ins ({}) at {base_url}", services.join(", "));
    Ok(StandIns { base_url, mailbox })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LOCAL_JWT_SECRET;

    /// The keys `supabase status` prints for the CLI's local stack.
    const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
    const CLI_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

    #[test]
    fn the_default_secret_gives_the_supabase_cli_keys_byte_for_byte() {
        assert_eq!(api_key("anon", LOCAL_JWT_SECRET.as_bytes()), CLI_ANON_KEY);
        assert_eq!(
            api_key("service_role", LOCAL_JWT_SECRET.as_bytes()),
            CLI_SERVICE_ROLE_KEY
        );
        assert_ne!(
            api_key("anon", b"another-secret-of-at-least-32-characters"),
            CLI_ANON_KEY
        );
    }

    #[tokio::test]
    async fn twin_settings_debug_hides_the_secret_and_the_key() {
        let settings = AuthTwinSettings {
            pool: sqlx::postgres::PgPoolOptions::new()
                .connect_lazy("postgres://127.0.0.1:1/none")
                .unwrap(),
            jwt_secret: b"twin-secret-bytes".to_vec(),
            anon_key: "twin-anon-key-value".into(),
            site_url: "http://127.0.0.1:3000".into(),
            mail_from: "a@b.id".into(),
            autoconfirm: false,
            access_token_ttl: std::time::Duration::from_secs(60),
            http: crate::outbound::http_client(),
            storage_dir: PathBuf::from(".data/storage"),
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("twin-secret-bytes"), "{debug}");
        assert!(!debug.contains("twin-anon-key-value"), "{debug}");
    }
}
