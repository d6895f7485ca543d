//! What anyone may see of the service's health, on `/status`: the same measurements as
//! `/api/health` (database, migrations, each feature's state), in words and without secrets.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::refusal::RequestError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub database_ok: bool,
    pub database_latency_ms: Option<f64>,
    /// `None` when the database could not say.
    pub migrations_applied: Option<usize>,
    pub migrations_pending: Option<usize>,
    pub features: Vec<FeatureStatus>,
}

impl StatusReport {
    /// Everything needed to serve is there: the database answers and the schema is current.
    pub fn healthy(&self) -> bool {
        self.database_ok && self.migrations_pending == Some(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureStatus {
    /// The feature's name in configuration and `/api/health`: `auth`, `payments`, …
    pub name: String,
    pub state: FeatureState,
}

/// Where a feature stands, as people are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureState {
    Ready,
    /// Running on a local stand-in (development).
    LocalStandIn,
    TurnedOff,
    /// On, but missing the configuration it needs.
    NotConfigured,
}

/// The backend behind [`load_status`] (provided as `Arc<dyn StatusProbe>` context).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait StatusProbe: Send + Sync {
    async fn report(&self) -> StatusReport;
}

#[server]
pub async fn load_status() -> Result<StatusReport, RequestError> {
    let probe =
        use_context::<std::sync::Arc<dyn StatusProbe>>().ok_or(RequestError::Unavailable)?;
    Ok(probe.report().await)
}
