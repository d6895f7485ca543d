//! Reconciliation: a notification can be lost (a gateway outage, our outage past its last
//! retry). Payments still PENDING a few minutes after they were made are asked about at the
//! gateway's status API, and the answer is settled through the same path as a webhook, so a
//! paid customer never stays on FREE, and a check racing the notification applies once. A
//! checkout past its expiry that the gateway still calls unpaid (or does not know) is closed
//! as EXPIRED. Every instance runs it; each payment is taken by one at a time.

use std::time::Duration;

use app::admin::system::BackgroundJob;
use serde_json::json;
use time::OffsetDateTime;

use super::{
    Billing, CLAIM_STALE_AFTER,
    gateway::{GatewayReport, Reported},
    settle::{self, Report, Settled, checked_event_id},
    subscriptions,
};
use crate::db::job_runs::RunRecorder;

/// How old a pending payment must be before its gateway is asked: by then an honest
/// notification has long arrived.
pub const ASK_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often the background job runs, and the least time between two checks of one payment.
pub const EVERY: Duration = Duration::from_secs(60);
/// How long past its expiry a checkout is still given to be confirmed before it is closed.
const EXPIRY_GRACE: Duration = Duration::from_secs(10 * 60);
/// Payments asked about per run and instance.
const BATCH: i64 = 20;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    pub asked: u32,
    /// Reports that moved a payment.
    pub changed: u32,
    /// Gateway calls that failed (tried again next run).
    pub failed: u32,
}

impl Reconciled {
    /// The run as its job's record says it: failing when the gateway answered none of the
    /// status checks it was asked (a wrong key, the gateway down).
    fn outcome(self) -> Result<(), String> {
        if self.asked > 0 && self.failed == self.asked {
            Err(format!(
                "the gateway answered none of {} status checks",
                self.asked
            ))
        } else {
            Ok(())
        }
    }
}

/// Asks the gateway about pending payments older than `ask_after` not asked about in the
/// last `min_gap`, and settles the answers.
pub async fn run_once(
    billing: &Billing,
    ask_after: Duration,
    min_gap: Duration,
) -> Result<Reconciled, sqlx::Error> {
    let provider = billing.gateway.provider();
    // Taken and stamped in one statement: another instance skips these rows now and, until
    // `min_gap` has passed, afterwards.
    let due = sqlx::query!(
        r#"update public.payments p
           set gateway_metadata = p.gateway_metadata || jsonb_build_object('reconciled_at', now())
           from (
             select id from public.payments
             where status = 'PENDING'
               and provider = ($1::text)::public.payment_provider
               and created_at < now() - make_interval(secs => $2::double precision)
               and coalesce((gateway_metadata->>'reconciled_at')::timestamptz, '-infinity')
                   < now() - make_interval(secs => $3::double precision)
             order by created_at
             limit $4
             for update skip locked
           ) due
           where p.id = due.id
           returning p.external_id,
                     (p.expires_at is not null
                      and p.expires_at < now() - make_interval(secs => $5::double precision)) as "lapsed!""#,
        provider.as_db(),
        ask_after.as_secs_f64(),
        min_gap.as_secs_f64(),
        BATCH,
        EXPIRY_GRACE.as_secs_f64(),
    )
    .fetch_all(&billing.pool)
    .await?;

    let mut run = Reconciled::default();
    for payment in due {
        run.asked += 1;
        let answer = match billing.gateway.status(&payment.external_id).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(%error, order = %payment.external_id, "reconciliation could not ask the gateway");
                run.failed += 1;
                continue;
            }
        };
        let report = match answer {
            Some(report)
                if !(payment.lapsed
                    && matches!(report.reported, Reported::Pending | Reported::Unknown)) =>
            {
                report
            }
            // Unknown to the gateway (never paid) or still unpaid, past expiry: closed here.
            Some(_) | None if payment.lapsed => GatewayReport {
                provider,
                order_id: payment.external_id.clone(),
                reported: Reported::Expired,
                status_word: "unpaid_past_expiry".into(),
                amount: None,
                payment_type: None,
                details: json!({}),
            },
            _ => continue,
        };
        if report.order_id != payment.external_id {
            tracing::error!(asked = %payment.external_id, answered = %report.order_id, "the gateway answered about another order");
            run.failed += 1;
            continue;
        }
        let event_id = checked_event_id(provider, &report);
        let payload = json!({
            "checked_at": OffsetDateTime::now_utc().unix_timestamp(),
            "status": report.status_word,
            "amount": report.amount,
            "details": report.details,
        });
        let settled = settle::settle(
            &billing.pool,
            CLAIM_STALE_AFTER,
            Report {
                report: &report,
                event_id: &event_id,
                payload: &payload,
                source: "reconciliation",
            },
        )
        .await?;
        if let Settled::Applied { changed: true, .. } = settled {
            run.changed += 1;
            tracing::info!(order = %report.order_id, status = %report.status_word, "reconciliation settled a payment");
        }
    }
    Ok(run)
}

/// Runs reconciliation and the subscription lapse every [`EVERY`] for as long as the process
/// lives.
pub fn spawn_jobs(billing: std::sync::Arc<Billing>) -> tokio::task::JoinHandle<()> {
    let mut reconciliations =
        RunRecorder::new(billing.pool.clone(), BackgroundJob::PaymentReconciliation);
    let mut lapses = RunRecorder::new(billing.pool.clone(), BackgroundJob::SubscriptionLapse);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let reconciled = run_once(&billing, ASK_AFTER, EVERY)
                .await
                .inspect_err(|error| tracing::error!(%error, "payment reconciliation failed"));
            reconciliations
                .finished(
                    reconciled
                        .map_err(|error| error.to_string())
                        .and_then(Reconciled::outcome),
                )
                .await;
            let lapsed = subscriptions::lapse_due(&billing.pool).await;
            match &lapsed {
                Ok(0) => {}
                Ok(lapsed) => {
                    tracing::info!(lapsed, "subscriptions past their period moved to FREE")
                }
                Err(error) => tracing::error!(%error, "the subscription lapse job failed"),
            }
            lapses.finished(lapsed.map(drop)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::Reconciled;

    #[test]
    fn a_run_the_gateway_answered_none_of_is_recorded_as_failing() {
        let run = |asked, failed| Reconciled {
            asked,
            changed: 0,
            failed,
        };
        assert_eq!(run(0, 0).outcome(), Ok(()), "nothing to ask");
        assert_eq!(
            run(5, 4).outcome(),
            Ok(()),
            "one answer is a working gateway"
        );
        assert_eq!(
            run(5, 5).outcome(),
            Err("the gateway answered none of 5 status checks".into())
        );
    }
}
