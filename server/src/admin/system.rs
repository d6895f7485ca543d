//! `/admin/system`: the health check's measurements in detail (which migrations differ, which
//! settings a feature lacks) and the background jobs' latest runs.

use app::admin::{
    AdminError,
    system::{Environment, MigrationDrift, MigrationName, MissingSettings, SystemReport},
};

use super::access::Admin;
use crate::{db::job_runs, health::HealthCheck};

pub async fn report(check: &HealthCheck, _admin: &Admin) -> Result<SystemReport, AdminError> {
    let probe = check.probe().await;
    // Without them the page still says what the probe found (the database down, say).
    let jobs = job_runs::statuses(&check.pool, &check.config)
        .await
        .inspect_err(|error| tracing::error!(%error, "the background jobs' records cannot be read"))
        .ok();
    let named = |list: &[(i64, String)]| {
        list.iter()
            .map(|(version, description)| MigrationName {
                version: *version,
                description: description.clone(),
            })
            .collect()
    };
    Ok(SystemReport {
        environment: match check.config.environment {
            crate::config::Environment::Development => Environment::Development,
            crate::config::Environment::Production => Environment::Production,
        },
        status: check.status_report(&probe),
        migrations: probe.migrations.as_ref().map(|report| MigrationDrift {
            pending: named(&report.pending),
            changed: named(&report.changed),
            unknown_applied: report.unknown_applied.clone(),
        }),
        missing: check
            .config
            .features()
            .filter(|(_, state)| !state.missing_env().is_empty())
            .map(|(feature, state)| MissingSettings {
                feature: feature.name().to_string(),
                env: state
                    .missing_env()
                    .iter()
                    .map(|env| env.to_string())
                    .collect(),
            })
            .collect(),
        jobs,
    })
}
