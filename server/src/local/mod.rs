//! Local stand-ins for the services Kilat talks to. Each speaks its provider's protocol, so the
//! production client is the code path every local run and test exercises. Never in production.

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

/// Binds the stand-in port (0 picks a free one) on loopback and serves the stand-ins there.
pub async fn start(port: u16) -> anyhow::Result<StandIns> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} for the local stand-ins (is another Kilat or the Supabase CLI running? set LOCAL_SUPABASE_PORT)"))?;
    let address = listener.local_addr()?;
    let mailbox = mail_twin::Mailbox::default();
    let router = Router::new().nest("/resend", mail_twin::router(mailbox.clone()));
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the local stand-in server stopped");
        }
    });
    tracing::info!("local stand-ins (Supabase Auth, Resend) at http://{address}");
    Ok(StandIns {
        base_url: format!("http://{address}"),
        mailbox,
    })
}
