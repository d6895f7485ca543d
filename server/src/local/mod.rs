//! Local stand-ins for the services Kilat talks to. Each speaks its provider's protocol, so the
//! production client is the code path every local run and test exercises. Never in production.

pub mod auth_twin;
pub mod mail_twin;

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

/// The stand-in server: the Supabase API surface (like the Supabase CLI's gateway on 54321) and
/// the mail twin under `/resend`, served by this process on its own port.
pub struct StandIns {
    /// Where the stand-ins answer, e.g. `http://127.0.0.1:54321`.
    pub base_url: String,
    pub mailbox: mail_twin::Mailbox,
}

/// What the Auth twin needs beyond the stand-ins' own address and mail.
pub struct AuthTwinSettings {
    pub pool: sqlx::PgPool,
    pub jwt_secret: Vec<u8>,
    pub anon_key: String,
    pub site_url: String,
    pub mail_from: String,
    pub autoconfirm: bool,
    pub access_token_ttl: std::time::Duration,
}

/// Binds the stand-in port (0 picks a free one) on loopback and serves the stand-ins there:
/// the mail twin always, the Auth twin when `auth` is given.
pub async fn start(port: u16, auth: Option<AuthTwinSettings>) -> anyhow::Result<StandIns> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await.with_context(|| {
        format!(
            "cannot listen on 127.0.0.1:{port} for the local stand-ins (is another Kilat or the \
             Supabase CLI running? set LOCAL_SUPABASE_PORT)"
        )
    })?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let mailbox = mail_twin::Mailbox::default();
    let mut router = Router::new().nest("/resend", mail_twin::router(mailbox.clone()));
    if let Some(auth) = auth {
        let twin = auth_twin::AuthTwinConfig {
            pool: auth.pool,
            jwt_secret: auth.jwt_secret,
            anon_key: auth.anon_key,
            api_external_url: base_url.clone(),
            additional_redirect_urls: Vec::new(),
            site_url: auth.site_url,
            mailer: crate::mail::Mailer::new(format!("{base_url}/resend"), "re_local_stand_in"),
            mail_from: auth.mail_from,
            autoconfirm: auth.autoconfirm,
            access_token_ttl: auth.access_token_ttl,
        };
        router = router.nest("/auth/v1", auth_twin::router(twin));
    }
    tokio::spawn(async move {
        if let Err(error) = axum::serve(crate::startup::without_nagle(listener), router).await {
            tracing::error!(%error, "the local stand-in server stopped");
        }
    });
    tracing::info!("local stand-ins (Supabase Auth, Resend) at {base_url}");
    Ok(StandIns { base_url, mailbox })
}
