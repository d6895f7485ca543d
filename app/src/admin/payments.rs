//! Payments and the gateways' notifications as an admin investigates them: `/admin/payments`
//! (filtered, paged), a payment's page with its raw gateway data and the webhook events for its
//! order, and `/admin/webhooks` with the replay of a failed event.

use serde::{Deserialize, Serialize};

use crate::domain::{PaymentProvider, PaymentStatus, Plan, WebhookEventStatus};

/// Which payments to list; `None` (or absent) is any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentFilter {
    pub status: Option<PaymentStatus>,
    pub provider: Option<PaymentProvider>,
    pub plan: Option<Plan>,
    /// Made on or after this day: `YYYY-MM-DD`, days in WIB (Asia/Jakarta). Anything else is
    /// refused with [`super::AdminError::InvalidFilter`].
    pub from: Option<String>,
    /// Made on or before this day, as `from`.
    pub to: Option<String>,
}

/// One line of the payments list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub id: String,
    pub order_id: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub provider: PaymentProvider,
    pub plan: Plan,
    pub amount: i64,
    pub status: PaymentStatus,
    pub created_at: i64,
    pub paid_at: Option<i64>,
}

/// A payment's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDetail {
    pub payment: PaymentLine,
    pub payment_type: Option<String>,
    pub expires_at: Option<i64>,
    /// What the gateways said about it, as indented JSON.
    pub gateway_metadata: String,
    /// Every notification and status check for its order, newest first.
    pub events: Vec<WebhookEventLine>,
}

/// Which webhook events to list; `None` (or absent) is any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookFilter {
    pub provider: Option<PaymentProvider>,
    pub status: Option<WebhookEventStatus>,
}

/// One entry of the webhook ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventLine {
    pub id: String,
    pub provider: PaymentProvider,
    pub event_id: String,
    pub event_type: String,
    pub order_id: Option<String>,
    /// The payment of `order_id`, when Kilat made one.
    pub payment_id: Option<String>,
    pub status: WebhookEventStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    /// The notification as it arrived (body and headers), as indented JSON.
    pub payload: String,
    /// A delivery whose effects did not happen: it can be run again.
    pub replayable: bool,
}

/// What a replay did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplayOutcome {
    /// Run through ingestion again; the payment now stands as the event says.
    Applied,
    /// The event had been processed: nothing changed.
    AlreadyProcessed,
    /// A delivery of it is being processed right now: try again in a moment.
    InProgress,
    /// Not a delivery Kilat can run again (a status check, which reconciliation repeats by
    /// itself, or a notification for an order Kilat never made).
    NotReplayable,
}
