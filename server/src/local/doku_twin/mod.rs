//! A local DOKU Checkout (non-SNAP): `POST /checkout/v1/payment`, the hosted payment page
//! (`/checkout-link-v2/{token}`), `GET /orders/v1/status/{invoice_number}`, and the HTTP
//! notifications DOKU posts to the merchant — the same paths, `Client-Id` / `Request-Id` /
//! `Request-Timestamp` / `Signature` headers (HMAC-SHA256 over DOKU's component, with the
//! `Digest` of the exact body bytes), bodies, status codes and retries — so the production
//! DOKU client and webhook route are the code that runs locally too. Served under `/doku` on
//! the stand-in port. Never in production.
//!
//! Every call is checked as DOKU checks it: the `Client-Id` is the merchant's, the
//! `Request-Id` is there (at most 128 characters), the `Request-Timestamp` is
//! `yyyy-MM-ddTHH:mm:ssZ` within [`TIMESTAMP_TOLERANCE`] of now, and the `Signature` is
//! right (compared in constant time) for `Request-Target` = the path beneath `/doku`, e.g.
//! `/checkout/v1/payment` — the path on DOKU's own host, which is what a client signs.
//!
//! A checkout is `PENDING` until it is paid (`SUCCESS`), a payment attempt fails (`FAILED`,
//! after which the payer may try again, as on DOKU's page) or its `payment_due_date` (minutes,
//! default 60) passes (`EXPIRED`). Each of these but `PENDING` is one notification to
//! [`DokuTwinConfig::notification_url`], signed with `Request-Target` =
//! [`DokuTwinConfig::notification_target_path`], with a `Request-Id` of its own that every
//! retry and resend of it keeps (the receiver's idempotency key); each attempt is signed
//! anew with a fresh `Request-Timestamp`. Refused notifications are retried after each of
//! [`DokuTwinConfig::retry_delays`].
//!
//! # The payment page
//! `GET /checkout-link-v2/{token}` (the `payment.url`) shows the invoice number and amount, a
//! choice of `VIRTUAL_ACCOUNT_BCA`, `QRIS` and `CREDIT_CARD` (those of the request's
//! `payment_method_types`, if it named any of them) and three buttons: Pay, Fail and Let it
//! expire. The form posts to the same path; then the browser goes `303` to the order's
//! `callback_url`, or sees a "done" page without one. Test ids: `doku-method-{METHOD}`,
//! `doku-pay`, `doku-fail`, `doku-expire`, and `doku-state` on a finished checkout's page.
//!
//! # Control endpoints (local development and tests only)
//! Unsigned JSON bodies (an empty body takes every default); answers are JSON, errors
//! DOKU-shaped (`{"error_messages": [...]}`: 404 unknown invoice, 409 not possible in its
//! state, 400 bad body).
//! - `POST /_twin/transactions/{invoice_number}/pay` `{"method": "VIRTUAL_ACCOUNT_BCA"|"QRIS"|
//!   "CREDIT_CARD" (default VIRTUAL_ACCOUNT_BCA), "notify": true}` — `"notify": false`
//!   changes the state and sends nothing (a lost notification, for reconciliation tests).
//! - `POST /_twin/transactions/{invoice_number}/fail` `{"method" (default: the chosen one,
//!   else CREDIT_CARD), "notify"}`.
//! - `POST /_twin/transactions/{invoice_number}/expire` `{"method", "notify"}`.
//!
//!   These three answer `{"invoice_number", "transaction_status", "notified": [statuses
//!   sent]}`.
//! - `POST /_twin/transactions/{invoice_number}/notify` `{"times": 1..=100 (default 1),
//!   "status": an earlier status of this checkout (default the latest)}` — sends that
//!   notification again (same bytes, same `Request-Id`, fresh timestamp and signature)
//!   `times` times at once, without retries, and answers `{"invoice_number",
//!   "transaction_status", "request_id", "deliveries": [{"url", "status"} | {"url",
//!   "error"}]}`: duplicates, and a late `FAILED` after `SUCCESS`, on demand.
//!
//! # Deliberate differences from DOKU
//! - Checkouts live in memory (forgotten on restart, at most
//!   [`CAPACITY`](crate::local::hosted_checkout::CAPACITY), the oldest dropped first).
//! - One page with three methods instead of DOKU's checkout app; `FAILED` is reachable only
//!   through the page's Fail button or the control endpoint; no refunds, no `TIMEOUT` or
//!   `REDIRECT` statuses; no SNAP API.
//! - Only the fields Kilat's flow uses are validated (DOKU's exact messages are not all
//!   documented; these say what is wrong in the same shape); `Request-Id` reuse across create
//!   calls is not checked (a reused `invoice_number` is).
//! - Answers carry no response `Signature` header; the `acquirer` of QRIS and card payments
//!   and the card block are plausible stand-ins, not DOKU's exact values.
//! - The notification `User-Agent` is made up (DOKU does not document its own).

mod control;
mod create;
mod error;
mod page;
mod signed;
mod status;
mod transaction;

#[cfg(test)]
mod tests;

use std::{fmt, time::Duration};

use axum::{
    Router,
    http::{HeaderMap, HeaderValue},
    routing::{get, post},
};
use chrono::Utc;

use crate::{
    billing::signatures::{doku_digest, doku_signature},
    local::{
        payment_notifier::{Notification, Notifier},
        payment_twin_state::PaymentTwinState,
    },
};
use transaction::{Action, Event, Refusal, Status, Transaction};

/// The page's title and heading.
pub const PAGE_TITLE: &str = "DOKU Checkout sandbox stand-in (local development)";

/// DOKU's own retry schedule: 30 minutes, 6 hours and 12 hours after the first attempt fails.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(30 * 60),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(12 * 3600),
];

/// How far a call's `Request-Timestamp` may be from the twin's clock.
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// DOKU's timestamp format (UTC).
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

const NOTIFICATION_USER_AGENT: &str = "DOKU-Notification/1.0 (local stand-in)";

/// Everything the twin needs.
#[derive(Clone)]
pub struct DokuTwinConfig {
    /// The merchant's `Client-Id` (`BRN-…` / `MCH-…`).
    pub client_id: String,
    /// The merchant's secret key (`SK-…`): checks calls and signs notifications.
    pub secret_key: String,
    /// Our webhook, e.g. `http://127.0.0.1:3000/api/webhooks/doku` (the back office's
    /// notification URL). Empty: notifications are not sent.
    pub notification_url: String,
    /// The `Request-Target` notifications are signed with: our route's path, e.g.
    /// `/api/webhooks/doku`.
    pub notification_target_path: String,
    /// Where this twin is reached, e.g. `http://127.0.0.1:54321/doku`; the base of the
    /// `payment.url`s it hands out.
    pub public_url: String,
    pub http: reqwest::Client,
    /// The waits before each retry of a refused notification ([`RETRY_DELAYS`] for DOKU's
    /// own; local runs pass a compressed schedule).
    pub retry_delays: Vec<Duration>,
}

impl fmt::Debug for DokuTwinConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DokuTwinConfig")
            .field("client_id", &self.client_id)
            .field("secret_key", &"<redacted>")
            .field("notification_url", &self.notification_url)
            .field("notification_target_path", &self.notification_target_path)
            .field("public_url", &self.public_url)
            .field("retry_delays", &self.retry_delays)
            .finish_non_exhaustive()
    }
}

/// The shared state of the handlers.
type Twin = PaymentTwinState<DokuTwinConfig, Transaction>;

/// DOKU Checkout, its status API and payment page, with routes relative to `/doku` (the
/// caller nests it there), and the `/_twin/` control endpoints.
pub fn router(config: DokuTwinConfig) -> Router {
    serve(config).1
}

/// The twin's state and its routes.
fn serve(config: DokuTwinConfig) -> (Twin, Router) {
    let notifier = Notifier::new(
        "DOKU",
        NOTIFICATION_USER_AGENT,
        config.http.clone(),
        config.retry_delays.clone(),
    );
    let twin = Twin::new(config, notifier);
    let routes = twin.serve_routes(
        Router::new()
            .route("/checkout/v1/payment", post(create::create))
            .route("/checkout-link-v2/{token}", get(page::show).post(page::act))
            .route("/orders/v1/status/{invoice_number}", get(status::status))
            .route(
                "/_twin/transactions/{invoice_number}/pay",
                post(control::pay),
            )
            .route(
                "/_twin/transactions/{invoice_number}/fail",
                post(control::fail),
            )
            .route(
                "/_twin/transactions/{invoice_number}/expire",
                post(control::expire),
            )
            .route(
                "/_twin/transactions/{invoice_number}/notify",
                post(control::notify),
            ),
    );
    (twin, routes)
}

/// What an action did.
struct Acted {
    /// The statuses reached and notified, in order (none when told not to notify).
    notified: Vec<Status>,
    current: Status,
    callback_url: Option<String>,
}

/// Why an action was not taken.
enum NotActed {
    UnknownInvoice,
    Refused(Refusal),
}

impl Twin {
    /// Applies `action` to `invoice_number` and, when `notify`, sends what it reached.
    fn act(&self, invoice_number: &str, action: Action, notify: bool) -> Result<Acted, NotActed> {
        let (acted, notifications) = self
            .book
            .with(invoice_number, |transaction| {
                let reached = transaction.apply(action, Utc::now())?;
                let notified = if notify { reached } else { Vec::new() };
                let notifications = self.notifications_for(transaction, &notified);
                Ok((
                    Acted {
                        notified,
                        current: transaction.status,
                        callback_url: transaction.order.callback_url.clone(),
                    },
                    notifications,
                ))
            })
            .ok_or(NotActed::UnknownInvoice)?
            .map_err(NotActed::Refused)?;
        self.notifier.dispatch(notifications);
        Ok(acted)
    }

    /// Expires `invoice_number` when its time has come (the timer set at creation).
    fn expire_if_due(&self, invoice_number: &str) {
        let notifications = self.book.with(invoice_number, |transaction| {
            let reached = transaction.expire_if_due(Utc::now());
            self.notifications_for(transaction, &reached)
        });
        self.notifier.dispatch(notifications.unwrap_or_default());
    }

    /// The notifications of the `statuses` `transaction` just reached, in order.
    fn notifications_for(
        &self,
        transaction: &Transaction,
        statuses: &[Status],
    ) -> Vec<Notification> {
        statuses
            .iter()
            .filter_map(|status| transaction.event(Some(*status)))
            .filter_map(|event| self.notification(transaction, event))
            .collect()
    }

    /// `event`'s notification, signed anew at each attempt; `None` without a notification URL.
    fn notification(&self, transaction: &Transaction, event: &Event) -> Option<Notification> {
        let config = &self.config;
        if config.notification_url.is_empty() {
            return None;
        }
        let client_id = config.client_id.clone();
        let secret_key = config.secret_key.clone();
        let target = config.notification_target_path.clone();
        let request_id = event.request_id.clone();
        let digest = doku_digest(&event.body);
        Some(Notification::new(
            config.notification_url.clone(),
            event.body.clone(),
            format!(
                "{} {}",
                transaction.order.invoice_number,
                event.status.as_str()
            ),
            move || {
                let timestamp = Utc::now().format(TIMESTAMP_FORMAT).to_string();
                let signature = doku_signature(
                    &client_id,
                    &request_id,
                    &timestamp,
                    &target,
                    Some(&digest),
                    &secret_key,
                );
                let mut headers = HeaderMap::new();
                for (name, value) in [
                    ("client-id", client_id.as_str()),
                    ("request-id", request_id.as_str()),
                    ("request-timestamp", timestamp.as_str()),
                    ("signature", signature.as_str()),
                ] {
                    // The values are the merchant's own configuration and ASCII the twin made;
                    // one that is no header value is left out rather than panicked on.
                    if let Ok(value) = HeaderValue::from_str(value) {
                        headers.insert(name, value);
                    }
                }
                headers
            },
        ))
    }
}
