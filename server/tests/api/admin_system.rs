//! `/admin/system`: migration drift, feature states and the background jobs' latest runs, and
//! how the jobs record their runs.

use std::time::Duration;

use app::admin::system::{BackgroundJob, JobHealth};
use kilat_server::db::job_runs::{self, RunRecorder};

use crate::helpers::{TestDb, spawn_app_on};

async fn job_row(db: &TestDb, job: BackgroundJob) -> Option<(bool, Option<String>, i64)> {
    sqlx::query_as(
        "select last_ok, last_error, extract(epoch from now() - last_run_at)::bigint
         from kilat_private.job_runs where job = $1",
    )
    .bind(job.as_str())
    .fetch_optional(&db.pool)
    .await
    .unwrap()
}

/// The configuration of a development server with nothing set: every job scheduled.
fn config() -> kilat_server::config::Config {
    kilat_server::config::Config::from_lookup(|_| None).expect("the defaults are valid")
}

fn status_of(
    statuses: &[app::admin::system::JobStatus],
    job: BackgroundJob,
) -> &app::admin::system::JobStatus {
    statuses.iter().find(|status| status.job == job).unwrap()
}

#[tokio::test]
async fn a_job_records_a_change_at_once_and_an_unchanged_outcome_once_a_minute() {
    let db = TestDb::migrated().await;
    let job = BackgroundJob::MailDelivery;
    let statuses = job_runs::statuses(&db.pool, &config()).await.unwrap();
    assert_eq!(statuses.len(), BackgroundJob::ALL.len());
    assert!(statuses.iter().all(|s| s.health == JobHealth::NeverRan));

    let mut runs = RunRecorder::new(db.pool.clone(), job);
    runs.finished(Ok::<(), String>(())).await;
    assert_eq!(job_row(&db, job).await, Some((true, None, 0)));

    // Pretend that write was ten minutes ago: the same outcome again is not written (the row
    // keeps its age), however often it comes.
    sqlx::query("update kilat_private.job_runs set last_run_at = now() - interval '10 minutes', last_success_at = now() - interval '10 minutes'")
        .execute(&db.pool)
        .await
        .unwrap();
    for _ in 0..50 {
        runs.finished(Ok::<(), String>(())).await;
    }
    let (ok, _, age) = job_row(&db, job).await.unwrap();
    assert!(ok);
    assert!(age >= 599, "no write within the minute: {age}");

    // A failure is written at once, its cause cut to the column's bound; the success stays.
    runs.finished(Err("connection refused\n".repeat(200))).await;
    let (ok, error, age) = job_row(&db, job).await.unwrap();
    assert!(!ok);
    assert_eq!(error.as_ref().map(|e| e.chars().count()), Some(1000));
    assert_eq!(age, 0);
    let status = status_of(&job_runs::statuses(&db.pool, &config()).await.unwrap(), job).clone();
    assert_eq!(status.health, JobHealth::Failing);
    assert!(status.last_success_at.unwrap() < status.last_failure_at.unwrap());

    // Recovered: written at once, and the last error is kept for the record.
    runs.finished(Ok::<(), String>(())).await;
    let status = status_of(&job_runs::statuses(&db.pool, &config()).await.unwrap(), job).clone();
    assert_eq!(status.health, JobHealth::Working);
    assert_eq!(status.last_run_at, status.last_success_at);
    assert!(status.last_error.unwrap().starts_with("connection refused"));

    // Another process records the same job in the same row.
    let mut other = RunRecorder::new(db.pool.clone(), job);
    other.finished(Err("disk full")).await;
    let (ok, error, _) = job_row(&db, job).await.unwrap();
    assert!(!ok);
    assert_eq!(error.as_deref(), Some("disk full"));

    // Nobody ran the hourly sweep for more than three hours: late, whatever its last outcome.
    job_runs::record(&db.pool, BackgroundJob::Housekeeping, None)
        .await
        .unwrap();
    sqlx::query(
        "update kilat_private.job_runs
         set last_run_at = now() - interval '3 hours 1 minute',
             last_success_at = now() - interval '3 hours 1 minute'
         where job = 'db.sweep'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let statuses = job_runs::statuses(&db.pool, &config()).await.unwrap();
    assert_eq!(
        status_of(&statuses, BackgroundJob::Housekeeping).health,
        JobHealth::Late
    );
    assert_eq!(
        status_of(&statuses, BackgroundJob::RenewalReminders).health,
        JobHealth::NeverRan
    );
    // Jobs this configuration does not run are off, whatever they did before.
    let payments_off = kilat_server::config::Config::from_lookup(|key| {
        (key == "ENABLE_PAYMENTS").then(|| "false".to_string())
    })
    .unwrap();
    let statuses = job_runs::statuses(&db.pool, &payments_off).await.unwrap();
    for job in [
        BackgroundJob::PaymentReconciliation,
        BackgroundJob::SubscriptionLapse,
        BackgroundJob::RenewalReminders,
    ] {
        assert_eq!(status_of(&statuses, job).health, JobHealth::Off, "{job:?}");
    }
    assert_eq!(
        status_of(&statuses, BackgroundJob::MailDelivery).health,
        JobHealth::Failing
    );
}

#[tokio::test]
async fn an_admin_sees_the_schema_the_features_and_the_jobs_as_the_server_runs_them() {
    let db = TestDb::migrated().await;
    let browser = spawn_app_on(db.pool.clone(), &[("ADMIN_EMAILS", "ops@kilat.id")]).await;
    browser.sign_up_confirmed("ops@kilat.id", "Ops").await;

    // The server's own jobs record their first runs as it starts.
    let mut recorded = Vec::new();
    for _ in 0..100 {
        recorded = sqlx::query_scalar::<_, String>(
            "select job from kilat_private.job_runs where last_ok order by job",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        if ["db.sweep", "mail.deliver"]
            .iter()
            .all(|job| recorded.iter().any(|name| name == job))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recorded.contains(&"db.sweep".to_string())
            && recorded.contains(&"mail.deliver".to_string()),
        "{recorded:?}"
    );

    let html = browser.page("/admin/system").await;
    let applied = kilat_server::db::migrations::MIGRATOR.iter().count();
    assert!(
        html.contains(&format!("Up to date ({applied} migrations)"))
            && !html.contains("data-testid=\"schema\""),
        "a current schema is one line of the status: {html}"
    );
    assert!(html.contains("development"), "the environment: {html}");
    assert!(html.contains("Mail delivery") && html.contains("every 5 seconds"));
    let row = |job: &str| {
        let start = html
            .find(&format!("data-testid=\"job-{job}\""))
            .unwrap_or_else(|| panic!("no row for {job}: {html}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_string()
    };
    assert!(row("db.sweep").contains(">working<"), "{}", row("db.sweep"));
    assert!(row("mail.deliver").contains(">working<"));
    // Payments run on the local stand-in in development: the reminders and reconciliation
    // run as well, or say they never ran; nothing is failing.
    assert!(!html.contains(">failing<"), "{html}");

    // A migration applied by a newer build, unknown to this one, is named.
    sqlx::query(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
         values (29991231000000, 'from a newer build', true, '\\x00', 1)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let html = browser.page("/admin/system").await;
    assert!(
        html.contains("Applied, but unknown to this build") && html.contains("29991231000000"),
        "{html}"
    );

    // In Indonesian too.
    browser
        .post_form("/locale", &[("locale", "id"), ("next", "/admin/system")])
        .await;
    let html = browser.page("/admin/system").await;
    assert!(
        html.contains("Pekerjaan latar belakang") && html.contains("setiap 5 detik"),
        "{html}"
    );
}
