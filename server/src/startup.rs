//! Builds the application: database, migrations, router; then serves until told to stop.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{Router, extract::FromRef, routing::get};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::{
    config::Config,
    db::{self, migrations::MIGRATOR},
    health, http_layers,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to the database (starting the local cluster when needed), applies the
    /// migrations and binds the listening socket.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database).await?;
        MIGRATOR.run(&pool).await.context(
            "applying migrations failed (`server doctor` shows how the database differs)",
        )?;
        Self::build_with_pool(config, leptos_options, pool).await
    }

    /// Like [`Application::build`] on an existing, migrated pool.
    pub async fn build_with_pool(
        config: Config,
        leptos_options: LeptosOptions,
        pool: PgPool,
    ) -> anyhow::Result<Self> {
        let addr = config.listen_addr.unwrap_or(leptos_options.site_addr);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let state = AppState {
            config: Arc::new(config),
            pool,
            leptos_options,
        };
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

fn router(state: AppState) -> Router {
    let options = state.leptos_options.clone();
    let routes = generate_route_list(app::App);
    let environment = state.config.environment;
    let router = Router::new()
        .route("/api/health", get(health::health))
        .leptos_routes(&state, routes, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(file_and_error_handler::<AppState, _>(app::shell))
        .with_state(state);
    http_layers::apply(router, environment, options.hash_files)
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
