//! The outbox's sender, run by every instance. Exactly once, in three moves:
//!
//! 1. **Take** due rows in one short statement (`for update skip locked`, so instances never
//!    take the same row) and *lease* them: the attempt is counted and `next_attempt_at` pushed
//!    past the send's timeout, so the HTTP call happens outside any transaction and a worker
//!    that dies mid-send frees its rows by itself.
//! 2. **Send** each with `Idempotency-Key` = the row's id. A crash between sending and
//!    recording resends under the same key once the lease ends, and Resend (and the local twin)
//!    answers with the first message instead of mailing again. Mail queued as facts is rendered
//!    and stored before its first send, so every retry sends the same bytes.
//! 3. **Record** `sent`, or a retry after an exponential backoff with jitter (capped at a few
//!    minutes), keeping the error. A permanent refusal (Resend's 400/422 validation errors) or a
//!    message still unsent [`OutboxSettings::give_up_after`] after it was queued goes `dead`,
//!    for the admin pages: the bound stays well inside Resend's 24-hour key window, so no retry
//!    can ever come after the key is forgotten.
//!
//! The loop ([`spawn`]) wakes when any instance queues mail (the outbox's `NOTIFY`), and every
//! few seconds regardless; it also queues the renewal reminders every minute.

use std::{sync::Arc, time::Duration};

use app::{admin::system::BackgroundJob, i18n::Locale};
use sqlx::{PgPool, postgres::PgListener};
use tokio::{sync::Notify, task::JoinSet};
use uuid::Uuid;

use super::{
    Email, MailError, Mailer,
    outbox::{self, MailKind},
    templates::Rendered,
};
use crate::{
    config::Config,
    db::job_runs::{self, RunRecorder},
};

/// `MAIL_GIVE_UP_AFTER` unless set.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(12 * 3600);
/// The longest `MAIL_GIVE_UP_AFTER`: retries must end well before Resend forgets a key (24 h).
const MAX_GIVE_UP_AFTER: Duration = Duration::from_secs(20 * 3600);
const MIN_GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// `RENEWAL_REMINDER_DAYS` unless set.
pub const DEFAULT_RENEWAL_REMINDER_DAYS: u32 = 3;
/// Less than the shortest month, so a reminder never comes right after paying.
const MAX_RENEWAL_REMINDER_DAYS: u32 = 27;

/// How long a taken row is left alone: longer than a send can take (the outbound client's
/// timeouts) plus rendering and recording.
pub const LEASE: Duration = Duration::from_secs(120);
/// The wait after a first failure; doubled after each further one…
pub const FIRST_RETRY: Duration = Duration::from_secs(10);
/// …up to this.
pub const MAX_RETRY: Duration = Duration::from_secs(300);
/// Rows taken per run and instance (sent concurrently).
const BATCH: i64 = 20;
/// How long a woken worker waits for more mail before it takes a batch.
const GATHER: Duration = Duration::from_millis(50);
/// How often an idle worker looks anyway (a retry falls due, a notification was missed).
pub const POLL: Duration = Duration::from_secs(5);
/// How often the renewal reminders are queued.
pub const REMINDERS_EVERY: Duration = Duration::from_secs(60);
/// The longest error kept on a row (the column's check).
const ERROR_LIMIT: usize = 2000;

/// The outbox's configuration: `MAIL_GIVE_UP_AFTER` and `RENEWAL_REMINDER_DAYS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxSettings {
    /// How long after it was queued a message may still be sent; then it is given up (`dead`).
    pub give_up_after: Duration,
    /// Days before a paid period ends that its reminder is sent; 0 sends none.
    pub renewal_reminder_days: u32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            give_up_after: DEFAULT_GIVE_UP_AFTER,
            renewal_reminder_days: DEFAULT_RENEWAL_REMINDER_DAYS,
        }
    }
}

impl OutboxSettings {
    pub const VARIABLES: [&'static str; 2] = ["MAIL_GIVE_UP_AFTER", "RENEWAL_REMINDER_DAYS"];

    /// Reads the variables through `get` (trimmed, unset or empty = `None`); every invalid
    /// value is added to `problems`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let mut settings = Self::default();
        if let Some(raw) = get("MAIL_GIVE_UP_AFTER") {
            match parse_duration(&raw)
                .filter(|bound| (MIN_GIVE_UP_AFTER..=MAX_GIVE_UP_AFTER).contains(bound))
            {
                Some(bound) => settings.give_up_after = bound,
                None => problems.push(format!(
                    "MAIL_GIVE_UP_AFTER={raw:?} is not a time from 1m to 20h (e.g. 12h, 90m): \
                     retries must end well inside Resend's 24-hour idempotency window"
                )),
            }
        }
        if let Some(raw) = get("RENEWAL_REMINDER_DAYS") {
            match raw
                .parse::<u32>()
                .ok()
                .filter(|days| *days <= MAX_RENEWAL_REMINDER_DAYS)
            {
                Some(days) => settings.renewal_reminder_days = days,
                None => problems.push(format!(
                    "RENEWAL_REMINDER_DAYS={raw:?} is not a number of days from 0 (no reminders) \
                     to {MAX_RENEWAL_REMINDER_DAYS}"
                )),
            }
        }
        settings
    }
}

/// `90`, `90s`, `15m` or `12h`.
fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (number, unit) = match raw.char_indices().last()? {
        (at, unit) if unit.is_ascii_alphabetic() => (&raw[..at], unit.to_ascii_lowercase()),
        _ => (raw, 's'),
    };
    let number: u64 = number.trim().parse().ok()?;
    let unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => return None,
    };
    number.checked_mul(unit).map(Duration::from_secs)
}

/// When to try again, and when to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_retry: Duration,
    pub max_retry: Duration,
    pub give_up_after: Duration,
    pub lease: Duration,
}

impl RetryPolicy {
    pub fn new(give_up_after: Duration) -> Self {
        Self {
            first_retry: FIRST_RETRY,
            max_retry: MAX_RETRY,
            give_up_after,
            lease: LEASE,
        }
    }

    /// The wait after the `failures`-th failed attempt (1 for the first): doubling from
    /// `first_retry`, capped at `max_retry`, then "equal jitter" — between half and all of it,
    /// by `jitter` in `[0, 1)` — so instances retrying after one outage spread out.
    pub fn backoff(&self, failures: u32, jitter: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let full = self
            .first_retry
            .saturating_mul(1 << doublings)
            .min(self.max_retry);
        full / 2 + full.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// A uniform number in `[0, 1)` from the system's randomness (a v4 UUID's random bits).
fn jitter() -> f64 {
    let bits = Uuid::new_v4().as_u128() as u64 & ((1 << 53) - 1);
    bits as f64 / (1u64 << 53) as f64
}

/// The sender. Cheap to clone.
#[derive(Clone)]
pub struct MailWorker {
    pool: PgPool,
    mailer: Mailer,
    /// `MAIL_FROM`, pinned on a row at its first attempt.
    from: String,
    /// For the links in mail the worker renders.
    site_url: String,
    /// The language of mail queued for someone who never chose one.
    default_locale: Locale,
    policy: RetryPolicy,
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Accepted by the provider.
    pub sent: u32,
    /// Failed, tried again later.
    pub retried: u32,
    /// Given up: refused for good, or past the give-up bound.
    pub dead: u32,
}

/// A row this worker holds the lease on.
struct Leased {
    id: Uuid,
    kind: String,
    recipient: String,
    reply_to: Option<String>,
    locale: Option<String>,
    content: Option<Rendered>,
    payload: Option<serde_json::Value>,
    /// Counting this one: the lease's token (a row taken again by another worker after a
    /// lease ran out has a higher count, and this worker's late record of a failure is void).
    attempts: i32,
    sender: String,
}

enum Outcome {
    Sent,
    Retried,
    Dead,
    /// The lease ran out and another worker took the row over.
    Lost,
}

impl MailWorker {
    pub fn new(
        pool: PgPool,
        mailer: Mailer,
        from: impl Into<String>,
        site_url: impl Into<String>,
        default_locale: Locale,
    ) -> Self {
        Self {
            pool,
            mailer,
            from: from.into(),
            site_url: site_url.into().trim_end_matches('/').to_string(),
            default_locale,
            policy: RetryPolicy::new(DEFAULT_GIVE_UP_AFTER),
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The worker the configuration describes (`MAIL_FROM`, `SITE_URL`, `DEFAULT_LOCALE`,
    /// `MAIL_GIVE_UP_AFTER`), sending through `mailer`.
    pub fn from_config(config: &Config, pool: PgPool, mailer: Mailer) -> Self {
        Self::new(
            pool,
            mailer,
            config.mail.from(),
            config.site_url.clone(),
            config.default_locale,
        )
        .with_policy(RetryPolicy::new(config.outbox.give_up_after))
    }

    /// Gives up what outlived the bound, then takes, sends and records one batch of due mail.
    pub async fn run_once(&self) -> Result<Run, sqlx::Error> {
        Ok(self.run_batch().await?.0)
    }

    /// [`MailWorker::run_once`], and how many rows it took.
    async fn run_batch(&self) -> Result<(Run, usize), sqlx::Error> {
        let mut run = Run {
            dead: self.give_up_expired().await?,
            ..Run::default()
        };
        let leased = self.lease().await?;
        let taken = leased.len();
        let mut sends = JoinSet::new();
        for row in leased {
            let worker = self.clone();
            sends.spawn(async move { worker.deliver(row).await });
        }
        while let Some(done) = sends.join_next().await {
            match done {
                Ok(Ok(Outcome::Sent)) => run.sent += 1,
                Ok(Ok(Outcome::Retried)) => run.retried += 1,
                Ok(Ok(Outcome::Dead)) => run.dead += 1,
                Ok(Ok(Outcome::Lost)) => {}
                Ok(Err(error)) => tracing::error!(
                    %error,
                    "could not record a mail's outcome: it is tried again (same key) when its lease ends"
                ),
                Err(error) => tracing::error!(%error, "a mail send task failed"),
            }
        }
        Ok((run, taken))
    }

    /// Pending mail queued longer ago than the bound goes `dead` unsent (a message whose lease
    /// ran out, or that waited out an outage of every instance). A message an admin put back in
    /// the queue counts from then (`requeued_at`, see `admin::outbox::retry`).
    async fn give_up_expired(&self) -> Result<u32, sqlx::Error> {
        let expired = sqlx::query!(
            r#"update public.mail_outbox
               set status = 'dead', dead_at = now(),
                   last_error = left('gave up: still unsent ' || $2 || ' after it was queued'
                                     || coalesce(' (last error: ' || last_error || ')', ''), $3)
               where status = 'pending' and next_attempt_at <= now()
                 and coalesce(requeued_at, created_at) <= now() - make_interval(secs => $1::double precision)
               returning id, kind, attempts"#,
            self.policy.give_up_after.as_secs_f64(),
            describe(self.policy.give_up_after),
            ERROR_LIMIT as i32,
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &expired {
            tracing::error!(mail = %row.id, kind = %row.kind, attempts = row.attempts, "gave up on a message: still unsent at the give-up bound");
        }
        Ok(expired.len() as u32)
    }

    /// Takes up to a batch of due rows and leases them, in one statement.
    async fn lease(&self) -> Result<Vec<Leased>, sqlx::Error> {
        let rows = sqlx::query!(
            r#"update public.mail_outbox m
               set attempts = m.attempts + 1,
                   last_attempt_at = now(),
                   next_attempt_at = now() + make_interval(secs => $1::double precision),
                   sender = coalesce(m.sender, $3)
               from (
                 select id from public.mail_outbox
                 where status = 'pending' and next_attempt_at <= now()
                 order by next_attempt_at
                 limit $2
                 for update skip locked
               ) due
               where m.id = due.id
               returning m.id, m.kind, m.recipient, m.reply_to, m.locale, m.subject, m.html,
                         m.text, m.payload, m.attempts, m.sender as "sender!""#,
            self.policy.lease.as_secs_f64(),
            BATCH,
            self.from,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Leased {
                id: row.id,
                kind: row.kind,
                recipient: row.recipient,
                reply_to: row.reply_to,
                locale: row.locale,
                content: match (row.subject, row.html, row.text) {
                    (Some(subject), Some(html), Some(text)) => Some(Rendered {
                        subject,
                        html,
                        text,
                    }),
                    _ => None,
                },
                payload: row.payload,
                attempts: row.attempts,
                sender: row.sender,
            })
            .collect())
    }

    async fn deliver(&self, row: Leased) -> Result<Outcome, sqlx::Error> {
        let rendered = match &row.content {
            Some(content) => content.clone(),
            None => match self.render(&row) {
                Ok(rendered) => {
                    if !self.store_rendered(&row, &rendered).await? {
                        return Ok(Outcome::Lost);
                    }
                    rendered
                }
                Err(why) => return self.record_failure(&row, &why, true).await,
            },
        };
        let email = Email {
            from: row.sender.clone(),
            to: vec![row.recipient.clone()],
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            reply_to: row.reply_to.clone(),
        };
        match self.mailer.send(&email, &row.id.to_string()).await {
            Ok(provider_id) => {
                sqlx::query!(
                    r#"update public.mail_outbox
                       set status = 'sent', sent_at = now(), dead_at = null, provider_message_id = $2
                       where id = $1 and status <> 'sent'"#,
                    row.id,
                    provider_id,
                )
                .execute(&self.pool)
                .await?;
                Ok(Outcome::Sent)
            }
            Err(error) => {
                self.record_failure(&row, &error.to_string(), is_permanent(&error))
                    .await
            }
        }
    }

    /// Renders a row queued as facts, in its recipient's language (or the default).
    fn render(&self, row: &Leased) -> Result<Rendered, String> {
        let kind = MailKind::parse(&row.kind)
            .ok_or_else(|| format!("unknown mail kind {:?}", row.kind))?;
        let payload = row
            .payload
            .as_ref()
            .ok_or("the row has neither content nor facts")?;
        outbox::render_facts(kind, self.locale_of(row), &self.site_url, payload)
    }

    /// The row's language, or the default for someone who never chose one.
    fn locale_of(&self, row: &Leased) -> Locale {
        row.locale
            .as_deref()
            .and_then(Locale::parse)
            .unwrap_or(self.default_locale)
    }

    /// Stores what was rendered before the first send, so every retry sends the same message.
    /// False when the lease was lost meanwhile.
    async fn store_rendered(&self, row: &Leased, rendered: &Rendered) -> Result<bool, sqlx::Error> {
        let locale = self.locale_of(row);
        let stored = sqlx::query!(
            r#"update public.mail_outbox
               set subject = $3, html = $4, text = $5, locale = $6
               where id = $1 and attempts = $2 and status = 'pending' and subject is null"#,
            row.id,
            row.attempts,
            rendered.subject,
            rendered.html,
            rendered.text,
            locale.code(),
        )
        .execute(&self.pool)
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    /// Schedules a retry after the backoff, or gives the message up: at once when `permanent`,
    /// or when the retry would fall past the give-up bound.
    async fn record_failure(
        &self,
        row: &Leased,
        error: &str,
        permanent: bool,
    ) -> Result<Outcome, sqlx::Error> {
        let attempt = u32::try_from(row.attempts).unwrap_or(1);
        let delay = self.policy.backoff(attempt, jitter());
        let error: String = error.chars().take(ERROR_LIMIT).collect();
        let status = sqlx::query_scalar!(
            r#"update public.mail_outbox
               set last_error = $3,
                   next_attempt_at = now() + make_interval(secs => $5::double precision),
                   status = case when $4 or coalesce(requeued_at, created_at) + make_interval(secs => $6::double precision)
                                            <= now() + make_interval(secs => $5::double precision)
                                 then 'dead' else 'pending' end,
                   dead_at = case when $4 or coalesce(requeued_at, created_at) + make_interval(secs => $6::double precision)
                                             <= now() + make_interval(secs => $5::double precision)
                                  then now() end
               where id = $1 and attempts = $2 and status = 'pending'
               returning status"#,
            row.id,
            row.attempts,
            error,
            permanent,
            delay.as_secs_f64(),
            self.policy.give_up_after.as_secs_f64(),
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(match status.as_deref() {
            None => Outcome::Lost,
            Some("dead") => {
                let why = if permanent {
                    "refused for good"
                } else {
                    "a retry would come after the give-up bound"
                };
                tracing::error!(mail = %row.id, kind = %row.kind, attempts = row.attempts, %error, why, "gave up on a message");
                Outcome::Dead
            }
            Some(_) => {
                tracing::warn!(mail = %row.id, kind = %row.kind, attempts = row.attempts, retry_in_secs = delay.as_secs(), %error, "mail not sent; trying again later");
                Outcome::Retried
            }
        })
    }

    /// Runs for as long as the process lives: a batch whenever mail is queued (by any
    /// instance: the outbox's `NOTIFY`) or every few seconds, and the renewal reminders (when
    /// `reminders` gives how long before a period's end) every minute.
    pub fn spawn(self, reminders: Option<Duration>) -> tokio::task::JoinHandle<()> {
        let wake = Arc::new(Notify::new());
        listen_for_queued_mail(self.pool.clone(), wake.clone());
        let mut deliveries = RunRecorder::new(self.pool.clone(), BackgroundJob::MailDelivery);
        let mut reminder_runs =
            RunRecorder::new(self.pool.clone(), BackgroundJob::RenewalReminders);
        tokio::spawn(async move {
            let mut reminders_due = tokio::time::Instant::now();
            loop {
                if let Some(window) = reminders
                    && tokio::time::Instant::now() >= reminders_due
                {
                    reminders_due = tokio::time::Instant::now() + REMINDERS_EVERY;
                    let queued = outbox::enqueue_renewal_reminders(&self.pool, window).await;
                    match &queued {
                        Ok(0) => {}
                        Ok(queued) => tracing::info!(queued, "renewal reminders queued"),
                        Err(error) => tracing::error!(%error, "queueing renewal reminders failed"),
                    }
                    reminder_runs.finished(queued.map(drop)).await;
                }
                let batch = self.run_batch().await;
                let full = match &batch {
                    Ok((_, taken)) => *taken as i64 == BATCH,
                    Err(error) => {
                        tracing::error!(%error, "the mail worker could not reach the outbox");
                        false
                    }
                };
                deliveries.finished(batch_outcome(&batch)).await;
                if full {
                    continue;
                }
                tokio::select! {
                    // Mail queued in a burst (a busy minute of payments) goes out in one batch:
                    // one lease for many messages instead of one for each.
                    _ = wake.notified() => tokio::time::sleep(GATHER).await,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        })
    }
}

/// A batch as its job's record says it: failing when it could not reach the outbox, or when it
/// took messages and sent none of them (a wrong key, the provider down).
fn batch_outcome(batch: &Result<(Run, usize), sqlx::Error>) -> Result<(), String> {
    match batch {
        Err(error) => Err(error.to_string()),
        Ok((run, taken)) if *taken > 0 && run.sent == 0 => Err(format!(
            "none of the {taken} messages taken could be sent; each one's error is in the outbox"
        )),
        Ok(_) => Ok(()),
    }
}

/// Starts the worker the configuration describes (reminders only while payments are on).
pub fn spawn(config: &Config, pool: PgPool, mailer: Mailer) {
    let reminders = job_runs::scheduled(config, BackgroundJob::RenewalReminders)
        .then(|| Duration::from_secs(u64::from(config.outbox.renewal_reminder_days) * 86_400));
    MailWorker::from_config(config, pool, mailer).spawn(reminders);
}

/// Wakes the worker whenever any instance queues mail (the outbox's `NOTIFY`), reconnecting
/// after a lost connection (the worker's poll covers the gap).
fn listen_for_queued_mail(pool: PgPool, wake: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = relay_queued(&pool, &wake).await {
                tracing::warn!(%error, "the mail worker's listener lost its connection; reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn relay_queued(pool: &PgPool, wake: &Notify) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(outbox::CHANNEL).await?;
    loop {
        listener.recv().await?;
        wake.notify_one();
    }
}

/// A refusal that sending again cannot change: Resend's validation errors, and a key reused
/// with another message (which no retry under that key can deliver).
fn is_permanent(error: &MailError) -> bool {
    match error {
        MailError::Rejected {
            status: 400 | 422, ..
        } => true,
        MailError::Rejected {
            status: 409, name, ..
        } => name == "invalid_idempotent_request",
        _ => false,
    }
}

/// `12h`, `90m`, `45s`.
fn describe(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_that_sent_none_of_what_it_took_is_recorded_as_failing() {
        let run = |sent, retried, dead| Run {
            sent,
            retried,
            dead,
        };
        assert_eq!(
            batch_outcome(&Ok((run(0, 0, 0), 0))),
            Ok(()),
            "nothing to send"
        );
        assert_eq!(batch_outcome(&Ok((run(1, 4, 0), 5))), Ok(()));
        assert!(batch_outcome(&Ok((run(0, 4, 1), 5))).is_err());
        assert!(batch_outcome(&Err(sqlx::Error::PoolTimedOut)).is_err());
    }

    #[test]
    fn the_backoff_doubles_from_the_first_retry_and_stops_at_the_cap() {
        let policy = RetryPolicy::new(DEFAULT_GIVE_UP_AFTER);
        // Without jitter's upper half: exactly half of the doubled wait.
        let low: Vec<u64> = (1..=8).map(|n| policy.backoff(n, 0.0).as_secs()).collect();
        assert_eq!(low, [5, 10, 20, 40, 80, 150, 150, 150]);
        for failures in [1, 2, 5, 6, 30, 1_000, u32::MAX] {
            let floor = policy.backoff(failures, 0.0);
            let ceiling = policy.backoff(failures, 0.999_999);
            assert!(floor <= ceiling);
            assert!(ceiling <= MAX_RETRY, "{failures}: {ceiling:?}");
            assert!(ceiling.as_secs_f64() <= floor.as_secs_f64() * 2.0 + 1e-6);
        }
        assert_eq!(policy.backoff(100, 0.999_999).as_secs(), 299);
    }

    #[test]
    fn jitter_stays_in_its_range_and_varies() {
        let draws: Vec<f64> = (0..1_000).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.iter().any(|j| *j < 0.25) && draws.iter().any(|j| *j > 0.75));
        let policy = RetryPolicy::new(DEFAULT_GIVE_UP_AFTER);
        for j in draws {
            let wait = policy.backoff(3, j);
            assert!((Duration::from_secs(20)..=Duration::from_secs(40)).contains(&wait));
        }
    }

    #[test]
    fn the_settings_read_their_variables_and_refuse_a_bound_past_resends_key_window() {
        let read = |vars: &[(&str, &str)]| {
            let mut problems = Vec::new();
            let settings = OutboxSettings::from_lookup(
                |key| {
                    vars.iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| v.to_string())
                },
                &mut problems,
            );
            (settings, problems)
        };
        assert_eq!(read(&[]), (OutboxSettings::default(), vec![]));
        let (settings, problems) = read(&[
            ("MAIL_GIVE_UP_AFTER", "90m"),
            ("RENEWAL_REMINDER_DAYS", "0"),
        ]);
        assert!(problems.is_empty());
        assert_eq!(settings.give_up_after, Duration::from_secs(5400));
        assert_eq!(settings.renewal_reminder_days, 0);
        assert_eq!(
            read(&[("MAIL_GIVE_UP_AFTER", "3600")]).0.give_up_after,
            Duration::from_secs(3600)
        );
        for bad in ["24h", "2d", "10s", "soon", "-1h", ""] {
            let (_, problems) = read(&[("MAIL_GIVE_UP_AFTER", bad)]);
            assert_eq!(problems.len(), 1, "{bad}");
            assert!(problems[0].contains("MAIL_GIVE_UP_AFTER"), "{bad}");
        }
        let (_, problems) = read(&[("RENEWAL_REMINDER_DAYS", "40")]);
        assert!(problems[0].contains("RENEWAL_REMINDER_DAYS"));
    }

    #[test]
    fn only_validation_refusals_are_final() {
        let refused = |status, name: &str| MailError::Rejected {
            status,
            name: name.into(),
            message: String::new(),
        };
        assert!(is_permanent(&refused(422, "validation_error")));
        assert!(is_permanent(&refused(400, "invalid_idempotency_key")));
        assert!(is_permanent(&refused(409, "invalid_idempotent_request")));
        assert!(!is_permanent(&refused(
            409,
            "concurrent_idempotent_requests"
        )));
        assert!(!is_permanent(&refused(429, "rate_limit_exceeded")));
        assert!(!is_permanent(&refused(500, "internal_server_error")));
        assert!(!is_permanent(&refused(401, "missing_api_key")));
    }
}
