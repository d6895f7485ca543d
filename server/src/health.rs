//! `GET /api/health`: is this instance able to serve? 200 when yes, 503 when not.

use std::{sync::Arc, time::Instant};

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde::Serialize;
use sqlx::PgPool;

use crate::{
    config::{Config, FeatureState},
    db::migrations::{self, MigrationReport},
};

/// What the health check reads: the database it probes and the configuration it reports.
#[derive(Clone)]
pub struct HealthCheck {
    pub pool: PgPool,
    pub config: Arc<Config>,
}

/// `GET /api/health`, answered from `check`.
pub fn router<S: Clone + Send + Sync + 'static>(check: HealthCheck) -> Router<S> {
    Router::new()
        .route("/api/health", get(health))
        .with_state(check)
}

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub environment: &'static str,
    pub database: DatabaseHealth,
    pub migrations: MigrationHealth,
    /// `midtrans` or `doku` (`PAYMENT_PROVIDER`); whether its keys are set is the payments
    /// feature's `mode`.
    pub payment_provider: String,
    pub features: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
pub struct DatabaseHealth {
    pub ok: bool,
    pub latency_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct MigrationHealth {
    pub applied: Option<usize>,
    pub pending: Option<usize>,
}

pub async fn health(State(state): State<HealthCheck>) -> impl IntoResponse {
    let (healthy, body) = measure(&state).await;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(http::header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
}

/// `/status` for people: the same measurements, in the app's terms.
#[async_trait::async_trait]
impl app::status::StatusProbe for HealthCheck {
    async fn report(&self) -> app::status::StatusReport {
        self.status_report(&self.probe().await)
    }
}

/// What one look at the database found.
pub struct Probe {
    pub database_ok: bool,
    pub latency_ms: Option<f64>,
    /// `None` when the database could not say.
    pub migrations: Option<MigrationReport>,
}

impl Probe {
    /// Everything needed to serve is there: the database answers and the schema is current.
    fn healthy(&self) -> bool {
        self.migrations
            .as_ref()
            .is_some_and(|r| r.pending.is_empty() && r.changed.is_empty())
    }
}

impl HealthCheck {
    /// Probes the database and compares its migrations with this build's.
    pub async fn probe(&self) -> Probe {
        let started = Instant::now();
        let database_ok = sqlx::query("select 1").execute(&self.pool).await.is_ok();
        let latency_ms =
            database_ok.then(|| (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0);
        let migrations = if database_ok {
            migrations::compare(&self.pool, &migrations::MIGRATOR)
                .await
                .inspect_err(
                    |error| tracing::warn!(%error, "health: cannot read applied migrations"),
                )
                .ok()
        } else {
            None
        };
        Probe {
            database_ok,
            latency_ms,
            migrations,
        }
    }

    /// `probe` and each feature's state, as `/status` shows them.
    pub fn status_report(&self, probe: &Probe) -> app::status::StatusReport {
        use app::status::{FeatureState as Shown, FeatureStatus, StatusReport};
        StatusReport {
            database_ok: probe.database_ok,
            database_latency_ms: probe.latency_ms,
            migrations_applied: probe.migrations.as_ref().map(|r| r.applied),
            migrations_pending: probe.migrations.as_ref().map(|r| r.pending.len()),
            features: self
                .config
                .features()
                .map(|(feature, state)| FeatureStatus {
                    name: feature.name().to_string(),
                    state: match state {
                        FeatureState::Ready => Shown::Ready,
                        FeatureState::LocalStandIn { .. } => Shown::LocalStandIn,
                        FeatureState::DisabledByFlag => Shown::TurnedOff,
                        FeatureState::MissingConfiguration { .. } => Shown::NotConfigured,
                    },
                })
                .collect(),
        }
    }
}

/// Probes the database and reads the features' states: whether this instance can serve, and
/// the report.
async fn measure(state: &HealthCheck) -> (bool, Health) {
    let probe = state.probe().await;
    let features = state
        .config
        .features()
        .map(|(feature, feature_state)| {
            let value = serde_json::json!({
                "enabled": feature_state.enabled(),
                "disabled_by_flag": matches!(feature_state, FeatureState::DisabledByFlag),
                "mode": feature_state.label(),
                "missing_env": feature_state.missing_env(),
            });
            (feature.name().to_string(), value)
        })
        .collect();

    let body = Health {
        status: if probe.healthy() { "ok" } else { "unavailable" },
        environment: state.config.environment.as_str(),
        database: DatabaseHealth {
            ok: probe.database_ok,
            latency_ms: probe.latency_ms,
        },
        migrations: MigrationHealth {
            applied: probe.migrations.as_ref().map(|r| r.applied),
            pending: probe.migrations.as_ref().map(|r| r.pending.len()),
        },
        payment_provider: state
            .config
            .payments
            .gateway
            .provider()
            .as_db()
            .to_ascii_lowercase(),
        features,
    };
    (probe.healthy(), body)
}
