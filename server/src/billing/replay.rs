//! An admin's replay: a notification kept in the webhook ledger run through ingestion again,
//! under its own ledger key. Its signature was checked when it arrived (nothing unsigned is
//! ever kept); its body is read as the gateway sent it and settled by the one path
//! ([`settle`](super::settle)), so a replay of a processed event is a duplicate and a replay
//! racing a delivery applies once.

use app::domain::PaymentProvider;
use serde_json::Value;
use sqlx::PgPool;

use super::{
    CLAIM_STALE_AFTER, doku, midtrans,
    settle::{self, Report, Settled},
};

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    Settled(Settled),
    /// The entry holds no notification body (a reconciliation's status check, which the job
    /// repeats by itself) or one the gateway's rules cannot read.
    NotADelivery,
}

/// Runs the event `event_id` of `provider`, whose ledger payload is `payload`, through
/// ingestion again.
pub async fn replay(
    pool: &PgPool,
    provider: PaymentProvider,
    event_id: &str,
    payload: &Value,
) -> Result<Replayed, sqlx::Error> {
    let report = payload.get("body").and_then(|body| match provider {
        PaymentProvider::Midtrans => midtrans::report(body),
        PaymentProvider::Doku => doku::report(body),
    });
    let Some(report) = report else {
        return Ok(Replayed::NotADelivery);
    };
    settle::settle(
        pool,
        CLAIM_STALE_AFTER,
        Report {
            report: &report,
            event_id,
            payload,
            source: "replay",
        },
    )
    .await
    .map(Replayed::Settled)
}
