//! `/admin/system`: whether the schema matches this build's migrations, each feature's state
//! with what it lacks, and the background jobs with when each last ran.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AdminError;
#[cfg(feature = "ssr")]
use super::api::{answer, console};
use crate::status::StatusReport;

/// The work every server process does on a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BackgroundJob {
    /// Asks the gateway about checkouts whose notification never came.
    PaymentReconciliation,
    /// Moves subscriptions past their period back to FREE.
    SubscriptionLapse,
    /// Sends the outbox's mail.
    MailDelivery,
    /// Queues the renewal reminders (only while payments are on).
    RenewalReminders,
    /// Deletes expired sessions and idle rate-limit buckets.
    Housekeeping,
}

impl BackgroundJob {
    pub const ALL: [BackgroundJob; 5] = [
        BackgroundJob::PaymentReconciliation,
        BackgroundJob::SubscriptionLapse,
        BackgroundJob::MailDelivery,
        BackgroundJob::RenewalReminders,
        BackgroundJob::Housekeeping,
    ];

    /// Its name in the database (`kilat_private.job_runs.job`) and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            BackgroundJob::PaymentReconciliation => "billing.reconcile",
            BackgroundJob::SubscriptionLapse => "billing.lapse",
            BackgroundJob::MailDelivery => "mail.deliver",
            BackgroundJob::RenewalReminders => "mail.renewal_reminders",
            BackgroundJob::Housekeeping => "db.sweep",
        }
    }
}

/// How a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobHealth {
    /// Its latest run worked, recently enough.
    Working,
    /// Its latest run failed.
    Failing,
    /// No run recorded for three of its intervals (and at least three minutes): no process is
    /// running it, or a run is taking that long.
    Late,
    /// No run ever recorded.
    NeverRan,
    /// This configuration does not run it (payments off, reminders off).
    Off,
}

/// One background job as the database last heard of it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    pub job: BackgroundJob,
    pub health: JobHealth,
    /// How often a process runs it, in seconds.
    pub every_secs: u64,
    pub last_run_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_failure_at: Option<i64>,
    /// The latest failure's cause, kept after the job recovers.
    pub last_error: Option<String>,
}

/// Where the server runs (`APP_ENV`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Environment {
    Development,
    Production,
}

/// A migration by its file's version and description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationName {
    pub version: i64,
    pub description: String,
}

/// How the database's migrations differ from this build's (what `server doctor` checks).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationDrift {
    /// In this build, not applied yet.
    pub pending: Vec<MigrationName>,
    /// Applied from a file whose content has changed since.
    pub changed: Vec<MigrationName>,
    /// Applied, but this build has no file of that version.
    pub unknown_applied: Vec<i64>,
}

impl MigrationDrift {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.changed.is_empty() && self.unknown_applied.is_empty()
    }
}

/// A feature that cannot reach its real provider, and the settings it lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingSettings {
    pub feature: String,
    pub env: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemReport {
    pub environment: Environment,
    /// The same measurements as `/status`.
    pub status: StatusReport,
    /// `None`: the database could not say.
    pub migrations: Option<MigrationDrift>,
    pub missing: Vec<MissingSettings>,
    /// `None`: their records could not be read.
    pub jobs: Option<Vec<JobStatus>>,
}

#[server]
pub async fn load_system_report() -> Result<Option<SystemReport>, AdminError> {
    answer(console()?.system().await)
}
