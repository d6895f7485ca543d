//! Logging: human-readable in development, JSON in production; `RUST_LOG` filters.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::Environment;

pub fn init(environment: Environment) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match environment {
        Environment::Production => registry
            .with(fmt::layer().json().with_current_span(true))
            .try_init(),
        Environment::Development => registry.with(fmt::layer().with_target(false)).try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
