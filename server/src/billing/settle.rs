//! The one path by which a gateway's word changes a payment: webhooks and reconciliation both
//! come here. A report is first claimed in the webhook ledger (so a repeated delivery is a
//! duplicate), then applied in one transaction with the payment row locked: the row is the
//! business key, so the same outcome arriving under another event id (a retry with a new
//! `Request-Id`, a reconciliation racing the webhook) finds the payment already moved and
//! changes nothing.

use std::time::Duration;

use app::domain::{PaymentProvider, PaymentStatus, Plan};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::gateway::{GatewayReport, Reported};
use super::webhook_ledger::{self, Claim, Delivery};
use crate::audit::AuditAction;

/// What became of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Applied: the payment moved (or the report was recorded and, by the rules, moved
    /// nothing). `status` is where the payment stands now.
    Applied {
        payment_id: Uuid,
        status: PaymentStatus,
        changed: bool,
    },
    /// This event was already processed.
    Duplicate,
    /// Another delivery of this event holds it right now (or took it over from us).
    InProgress,
    /// No payment has this order id (recorded in the ledger all the same).
    UnknownOrder,
}

/// What a report does to a payment in `current`, by the rules: PENDING may become PAID,
/// FAILED or EXPIRED; PAID is final except for a full refund; money arriving after FAILED or
/// EXPIRED is still honoured; an amount other than the payment's never grants anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Pay,
    Fail(String),
    Expire,
    Refund,
    /// Recorded, nothing changes (why, for the ledger's payload and logs).
    Keep(&'static str),
}

pub fn transition(current: PaymentStatus, report: &GatewayReport, amount: i64) -> Transition {
    use PaymentStatus as S;
    let amount_matches = report.amount == Some(amount);
    match (current, report.reported) {
        (S::Pending | S::Failed | S::Expired, Reported::Paid) if !amount_matches => {
            if current == S::Pending {
                Transition::Fail(format!(
                    "the gateway reported {} paid, the order is for {amount}",
                    report
                        .amount
                        .map_or_else(|| "an unreadable amount".to_string(), |a| a.to_string())
                ))
            } else {
                Transition::Keep("a payment of the wrong amount after the order closed")
            }
        }
        (S::Pending | S::Failed | S::Expired, Reported::Paid) => Transition::Pay,
        (S::Pending, Reported::Failed) => {
            Transition::Fail(format!("the gateway reported {}", report.status_word))
        }
        (S::Pending, Reported::Expired) => Transition::Expire,
        (S::Paid, Reported::Refunded) => Transition::Refund,
        (S::Paid, Reported::PartiallyRefunded) => Transition::Keep("a partial refund"),
        (S::Paid, _) => Transition::Keep("PAID is final"),
        (S::Refunded, _) => Transition::Keep("already refunded"),
        (_, Reported::Pending) => Transition::Keep("still pending"),
        (_, Reported::Unknown) => Transition::Keep("a status Kilat does not know"),
        (S::Failed | S::Expired, _) => Transition::Keep("the order is closed"),
        (S::Pending, Reported::Refunded | Reported::PartiallyRefunded) => {
            Transition::Keep("a refund of an unpaid order")
        }
    }
}

/// One report to settle, and its ledger identity.
pub struct Report<'a> {
    pub report: &'a GatewayReport,
    pub event_id: &'a str,
    /// What arrived (the notification's body and headers, or the status answer).
    pub payload: &'a Value,
    /// `webhook` or `reconciliation`, for the audit entries.
    pub source: &'static str,
}

struct PaymentRow {
    id: Uuid,
    plan: Plan,
    amount: i64,
    status: PaymentStatus,
}

/// Claims `report` in the ledger and applies it. An error leaves the event failed in the
/// ledger (the gateway's retry, or the next reconciliation, takes it over).
pub async fn settle(
    pool: &PgPool,
    stale_after: Duration,
    report: Report<'_>,
) -> Result<Settled, sqlx::Error> {
    let provider = report.report.provider;
    let delivery = Delivery {
        provider,
        event_id: report.event_id,
        event_type: &report.report.status_word,
        order_id: Some(&report.report.order_id),
        payload: report.payload,
    };
    // Its own short transaction: the claim is visible to every other delivery at once.
    let token = match webhook_ledger::claim(pool, &delivery, stale_after).await? {
        Claim::Claimed { token, .. } => token,
        Claim::Duplicate => return Ok(Settled::Duplicate),
        Claim::InProgress => return Ok(Settled::InProgress),
    };
    match apply(pool, &report, token).await {
        Ok(settled) => Ok(settled),
        Err(error) => {
            let reason = error.to_string();
            if let Err(finish_error) =
                webhook_ledger::finish(pool, provider, report.event_id, token, Err(&reason)).await
            {
                tracing::error!(%finish_error, "could not mark a failed webhook event failed");
            }
            Err(error)
        }
    }
}

async fn apply(pool: &PgPool, report: &Report<'_>, token: Uuid) -> Result<Settled, sqlx::Error> {
    let gateway = report.report;
    let mut tx = pool.begin().await?;
    let payment = sqlx::query!(
        r#"select id, plan::text as "plan!", amount, status::text as "status!"
           from public.payments
           where provider = ($1::text)::public.payment_provider and external_id = $2
           for update"#,
        gateway.provider.as_db(),
        gateway.order_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .and_then(|row| {
        Some(PaymentRow {
            id: row.id,
            plan: row.plan.parse().ok()?,
            amount: row.amount,
            status: row.status.parse().ok()?,
        })
    });
    let Some(payment) = payment else {
        let finished = webhook_ledger::finish(
            &mut *tx,
            gateway.provider,
            report.event_id,
            token,
            Err("no payment has this order id"),
        )
        .await?;
        tx.commit().await?;
        return Ok(if finished {
            Settled::UnknownOrder
        } else {
            Settled::InProgress
        });
    };

    let step = transition(payment.status, gateway, payment.amount);
    let effect = effect(&payment, report, &step);
    let status = effect
        .as_ref()
        .map_or(payment.status, |(status, _)| *status);
    // The effects and the ledger's finish in one statement: one round trip once the row is
    // locked.
    let finished = match effect {
        None => {
            webhook_ledger::finish(&mut *tx, gateway.provider, report.event_id, token, Ok(()))
                .await?
        }
        Some((status, effect)) => {
            sqlx::query_scalar!(
                r#"select public.finish_webhook_event(($7::text)::public.payment_provider, $8, $9, true, null) as "finished!"
                   from public.settle_payment($1, ($2::text)::public.payment_status, $3, $4, $5, $6)"#,
                payment.id,
                status.as_db(),
                gateway.payment_type,
                effect.gateway_metadata,
                effect.action.as_str(),
                effect.audit_metadata,
                gateway.provider.as_db(),
                report.event_id,
                token,
            )
            .fetch_one(&mut *tx)
            .await?
        }
    };
    if !finished {
        // Our claim went stale and another delivery took the event over: it applies it.
        tx.rollback().await?;
        return Ok(Settled::InProgress);
    }
    tx.commit().await?;
    if let Transition::Keep(why) = step {
        tracing::info!(order = %gateway.order_id, status = %gateway.status_word, why, "gateway report recorded, payment unchanged");
    }
    Ok(Settled::Applied {
        payment_id: payment.id,
        status,
        changed: status != payment.status,
    })
}

/// What a transition writes: the payment's new status, what is merged into its gateway
/// metadata, and its audit entry (`public.settle_payment` writes them, and for PAID grants
/// the month and queues the receipt).
struct Effect {
    gateway_metadata: Value,
    action: AuditAction,
    audit_metadata: Value,
}

/// `None` for a report that changes nothing.
fn effect(
    payment: &PaymentRow,
    report: &Report<'_>,
    step: &Transition,
) -> Option<(PaymentStatus, Effect)> {
    let gateway = report.report;
    let (status, action, extra): (PaymentStatus, AuditAction, Value) = match step {
        Transition::Keep(_) => return None,
        Transition::Pay => (PaymentStatus::Paid, AuditAction::PaymentSuccess, json!({})),
        Transition::Fail(reason) => (
            PaymentStatus::Failed,
            AuditAction::PaymentFailed,
            json!({ "reason": reason, "reported_amount": gateway.amount }),
        ),
        Transition::Expire => (
            PaymentStatus::Expired,
            AuditAction::PaymentExpired,
            json!({}),
        ),
        Transition::Refund => (
            PaymentStatus::Refunded,
            AuditAction::PaymentRefunded,
            json!({ "needs_review": true }),
        ),
    };
    let mut audit_metadata = json!({
        "order_id": gateway.order_id,
        "provider": gateway.provider.as_db(),
        "plan": payment.plan.as_db(),
        "amount": payment.amount,
        "gateway_status": gateway.status_word,
        "source": report.source,
    });
    if let (Some(into), Value::Object(extra)) = (audit_metadata.as_object_mut(), extra) {
        into.extend(extra);
    }
    let mut gateway_metadata = gateway.details.clone();
    if let (Some(into), Transition::Fail(reason)) = (gateway_metadata.as_object_mut(), step) {
        into.insert("failure_reason".into(), reason.clone().into());
    }
    if let (Some(into), Transition::Refund) = (gateway_metadata.as_object_mut(), step) {
        into.insert("needs_review".into(), true.into());
    }
    Some((
        status,
        Effect {
            gateway_metadata,
            action,
            audit_metadata,
        },
    ))
}

/// The ledger key of a report that arrived without a delivery id of its own (a status
/// check): the same for every check that finds the same status, so repeated checks are
/// duplicates.
pub fn checked_event_id(provider: PaymentProvider, report: &GatewayReport) -> String {
    match provider {
        // The same key a notification of this status has, so a check racing the
        // notification is one event.
        PaymentProvider::Midtrans => format!(
            "{}:{}:{}",
            report.order_id,
            report.status_word,
            report.details["status_code"].as_str().unwrap_or("")
        ),
        PaymentProvider::Doku => format!("status:{}:{}", report.order_id, report.status_word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentStatus as S;

    fn report(reported: Reported, amount: Option<i64>) -> GatewayReport {
        GatewayReport {
            provider: PaymentProvider::Midtrans,
            order_id: "KK-1-00000000".into(),
            reported,
            status_word: format!("{reported:?}").to_lowercase(),
            amount,
            payment_type: None,
            details: json!({}),
        }
    }

    #[test]
    fn a_pending_order_takes_the_first_final_word() {
        let paid = report(Reported::Paid, Some(99_000));
        assert_eq!(transition(S::Pending, &paid, 99_000), Transition::Pay);
        assert!(matches!(
            transition(S::Pending, &report(Reported::Failed, Some(99_000)), 99_000),
            Transition::Fail(_)
        ));
        assert_eq!(
            transition(S::Pending, &report(Reported::Expired, None), 99_000),
            Transition::Expire
        );
        assert!(matches!(
            transition(S::Pending, &report(Reported::Pending, None), 99_000),
            Transition::Keep(_)
        ));
    }

    #[test]
    fn paid_is_final_but_for_a_full_refund() {
        for reported in [
            Reported::Pending,
            Reported::Failed,
            Reported::Expired,
            Reported::Paid,
            Reported::PartiallyRefunded,
            Reported::Unknown,
        ] {
            assert!(
                matches!(
                    transition(S::Paid, &report(reported, Some(99_000)), 99_000),
                    Transition::Keep(_)
                ),
                "{reported:?}"
            );
        }
        assert_eq!(
            transition(S::Paid, &report(Reported::Refunded, Some(99_000)), 99_000),
            Transition::Refund
        );
    }

    #[test]
    fn the_wrong_amount_never_grants() {
        for amount in [Some(98_999), Some(990_000), None] {
            assert!(matches!(
                transition(S::Pending, &report(Reported::Paid, amount), 99_000),
                Transition::Fail(_)
            ));
            assert!(matches!(
                transition(S::Expired, &report(Reported::Paid, amount), 99_000),
                Transition::Keep(_)
            ));
        }
    }

    #[test]
    fn money_after_an_expiry_is_still_honoured() {
        let paid = report(Reported::Paid, Some(99_000));
        assert_eq!(transition(S::Expired, &paid, 99_000), Transition::Pay);
        assert_eq!(transition(S::Failed, &paid, 99_000), Transition::Pay);
    }
}
