//! Each background job's latest run, in `kilat_private.job_runs`, for `/admin/system`.
//!
//! Every process runs every job its configuration schedules and records its runs in the same
//! row per job: the first run, then about one a minute while the outcome stays the same, and a
//! change (working to failing, or back) at once. The mail worker runs every few seconds; a
//! write per run would cost more than the runs.

use std::{
    fmt::Display,
    time::{Duration, Instant},
};

use app::admin::system::{BackgroundJob, JobHealth, JobStatus};
use sqlx::{PgExecutor, PgPool};

use crate::config::{Config, Feature};

/// A job's unchanged outcome is written at most this often by each process: a little under a
/// minute, so a job that runs every minute is written every minute even when one run ends a
/// moment sooner after the last than the one before.
pub const RECORD_AT_MOST_EVERY: Duration = Duration::from_secs(50);
/// The least time without a recorded run before a job is late: three minutes, as the
/// unchanged outcome of a job that runs more often is written about once a minute.
const LATE_AFTER_AT_LEAST: Duration = Duration::from_secs(180);
/// A job is late when no run was recorded for this many of its intervals.
const LATE_AFTER_INTERVALS: u32 = 3;
/// A recorded error is cut to this many characters (the column's bound).
const MAX_ERROR_CHARS: usize = 1000;

/// Whether a process with `config` runs `job` (the billing jobs and the reminders only while
/// payments are on; the reminders only when `RENEWAL_REMINDER_DAYS` is above zero).
pub fn scheduled(config: &Config, job: BackgroundJob) -> bool {
    let payments = config.feature(Feature::Payments).enabled();
    match job {
        BackgroundJob::PaymentReconciliation | BackgroundJob::SubscriptionLapse => payments,
        BackgroundJob::RenewalReminders => payments && config.outbox.renewal_reminder_days > 0,
        BackgroundJob::MailDelivery | BackgroundJob::Housekeeping => true,
    }
}

/// How often a process runs `job`.
pub fn interval(job: BackgroundJob) -> Duration {
    match job {
        BackgroundJob::PaymentReconciliation | BackgroundJob::SubscriptionLapse => {
            crate::billing::reconcile::EVERY
        }
        BackgroundJob::MailDelivery => crate::mail::worker::POLL,
        BackgroundJob::RenewalReminders => crate::mail::worker::REMINDERS_EVERY,
        BackgroundJob::Housekeeping => super::maintenance::SWEEP_INTERVAL,
    }
}

/// Records one job's runs for one process.
pub struct RunRecorder {
    pool: PgPool,
    job: BackgroundJob,
    /// When this process last wrote the job's row, and whether that run had worked.
    written: Option<(Instant, bool)>,
}

impl RunRecorder {
    pub fn new(pool: PgPool, job: BackgroundJob) -> Self {
        Self {
            pool,
            job,
            written: None,
        }
    }

    /// Notes a run's outcome, and writes it when it is due. A write that fails is logged and
    /// made at the next run.
    pub async fn finished<E: Display>(&mut self, outcome: Result<(), E>) {
        let now = Instant::now();
        if !write_due(self.written, outcome.is_ok(), now) {
            return;
        }
        let error = outcome.err().map(|error| error.to_string());
        match record(&self.pool, self.job, error.as_deref()).await {
            Ok(()) => self.written = Some((now, error.is_none())),
            Err(write_error) => {
                tracing::warn!(job = self.job.as_str(), error = %write_error, "could not record a background job's run")
            }
        }
    }
}

/// Whether a run that `worked` (or not) at `now` is written, given the last write.
fn write_due(written: Option<(Instant, bool)>, worked: bool, now: Instant) -> bool {
    match written {
        None => true,
        Some((at, had_worked)) => {
            had_worked != worked || now.saturating_duration_since(at) >= RECORD_AT_MOST_EVERY
        }
    }
}

/// Writes a run of `job` that ended now: worked when `error` is `None`.
pub async fn record(
    db: impl PgExecutor<'_>,
    job: BackgroundJob,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    let error = error.map(|error| error.chars().take(MAX_ERROR_CHARS).collect::<String>());
    sqlx::query!(
        r#"insert into kilat_private.job_runs as r
             (job, last_run_at, last_ok, last_success_at, last_failure_at, last_error)
           values ($1, now(), $2::text is null,
                   case when $2::text is null then now() end,
                   case when $2::text is not null then now() end, $2::text)
           on conflict (job) do update set
             last_run_at = excluded.last_run_at,
             last_ok = excluded.last_ok,
             last_success_at = coalesce(excluded.last_success_at, r.last_success_at),
             last_failure_at = coalesce(excluded.last_failure_at, r.last_failure_at),
             last_error = coalesce(excluded.last_error, r.last_error)"#,
        job.as_str(),
        error,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Every job as recorded, in [`BackgroundJob::ALL`]'s order, judged against the database's
/// clock; a job `config` does not schedule is [`JobHealth::Off`] whatever it did before.
pub async fn statuses(
    db: impl PgExecutor<'_>,
    config: &Config,
) -> Result<Vec<JobStatus>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select j.job as "job!", r.last_ok as "last_ok?",
                  extract(epoch from r.last_run_at)::bigint as last_run_at,
                  extract(epoch from r.last_success_at)::bigint as last_success_at,
                  extract(epoch from r.last_failure_at)::bigint as last_failure_at,
                  r.last_error as "last_error?",
                  extract(epoch from now())::bigint as "now!"
           from unnest($1::text[]) as j(job)
           left join kilat_private.job_runs r on r.job = j.job"#,
        &BackgroundJob::ALL.map(|job| job.as_str().to_string())[..],
    )
    .fetch_all(db)
    .await?;
    Ok(BackgroundJob::ALL
        .into_iter()
        .map(|job| {
            let row = rows.iter().find(|row| row.job == job.as_str());
            let every = interval(job);
            let last_run_at = row.and_then(|row| row.last_run_at);
            let now = row.map_or(0, |row| row.now);
            JobStatus {
                job,
                health: if scheduled(config, job) {
                    health(
                        last_run_at.map(|at| now - at),
                        row.and_then(|row| row.last_ok),
                        every,
                    )
                } else {
                    JobHealth::Off
                },
                every_secs: every.as_secs(),
                last_run_at,
                last_success_at: row.and_then(|row| row.last_success_at),
                last_failure_at: row.and_then(|row| row.last_failure_at),
                last_error: row.and_then(|row| row.last_error.clone()),
            }
        })
        .collect())
}

/// How a job stands whose last recorded run was `age_secs` ago and `worked`: late when no
/// process recorded a run for [`LATE_AFTER_INTERVALS`] of its intervals, and never before
/// [`LATE_AFTER_AT_LEAST`].
fn health(age_secs: Option<i64>, worked: Option<bool>, every: Duration) -> JobHealth {
    let late_after = (every * LATE_AFTER_INTERVALS).max(LATE_AFTER_AT_LEAST);
    match (age_secs, worked) {
        (Some(age), _) if age > late_after.as_secs() as i64 => JobHealth::Late,
        (Some(_), Some(true)) => JobHealth::Working,
        (Some(_), _) => JobHealth::Failing,
        (None, _) => JobHealth::NeverRan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_outcome_is_written_about_once_a_minute_and_a_change_at_once() {
        let start = Instant::now();
        let second = |n: u64| start + Duration::from_secs(n);
        assert!(write_due(None, true, start));
        assert!(!write_due(Some((start, true)), true, second(5)));
        assert!(!write_due(Some((start, true)), true, second(49)));
        assert!(write_due(Some((start, true)), true, second(50)));
        assert!(write_due(Some((start, true)), false, second(1)));
        assert!(!write_due(Some((start, false)), false, second(30)));
        assert!(write_due(Some((start, false)), true, second(1)));
    }

    #[test]
    fn a_job_is_late_after_three_intervals_and_never_before_three_minutes() {
        let hourly = Duration::from_secs(3600);
        let every_five = Duration::from_secs(5);
        assert_eq!(health(None, None, hourly), JobHealth::NeverRan);
        assert_eq!(health(Some(10), Some(true), hourly), JobHealth::Working);
        assert_eq!(health(Some(10), Some(false), hourly), JobHealth::Failing);
        assert_eq!(
            health(Some(3 * 3600), Some(true), hourly),
            JobHealth::Working
        );
        assert_eq!(
            health(Some(3 * 3600 + 1), Some(true), hourly),
            JobHealth::Late
        );
        assert_eq!(
            health(Some(3 * 3600 + 1), Some(false), hourly),
            JobHealth::Late
        );
        // Recorded once a minute while it works: three silent minutes, not fifteen seconds.
        assert_eq!(
            health(Some(170), Some(true), every_five),
            JobHealth::Working
        );
        assert_eq!(health(Some(181), Some(true), every_five), JobHealth::Late);
    }
}
