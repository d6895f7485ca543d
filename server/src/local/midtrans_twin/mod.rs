//! A local Midtrans: Snap's `POST /snap/v1/transactions` and hosted payment page, Core API's
//! `GET /v2/{order_id}/status`, and the HTTP notifications Midtrans posts to the merchant —
//! the same paths, Basic auth (`base64(server_key + ":")`), bodies, status codes,
//! `signature_key`s and retries — so the production Midtrans client and webhook route are the
//! code that runs locally too. Served under `/midtrans` on the stand-in port: Snap's base URL
//! is `{stand-ins}/midtrans/snap/v1` and Core's `{stand-ins}/midtrans` (for the official
//! `midtrans-client`, its `SNAP_SANDBOX_BASE_URL` and `CORE_SANDBOX_BASE_URL`). Never in
//! production.
//!
//! A transaction lives as Midtrans keeps it: a Snap token first, unknown to Core (its status
//! is a 404) until a payment method is chosen on the page; then `pending` (bank transfer,
//! QRIS, GoPay) and `settlement`, or `capture` with `fraud_status: accept` (card); or `deny`;
//! or `expire` when its expiry (Snap's `expiry`, by default 24 hours) passes while pending.
//! Each status reached is one notification — all values strings, `gross_amount` with its
//! `.00`, times in Jakarta time — to the merchant's notification URL (or the URLs of Snap's
//! `X-Override-Notification` / `X-Append-Notification` headers), retried after each of
//! [`MidtransTwinConfig::retry_delays`] until a 2xx.
//!
//! # The payment page
//! `GET /snap/v4/redirection/{token}` (the `redirect_url`) shows the order id and amount, a
//! choice of method (`bank_transfer` as a BCA virtual account, `qris`, `gopay`,
//! `credit_card`) and three buttons: Pay, Decline (`deny`) and Let it expire (the payer takes
//! the virtual account or QR code and never pays: `pending`, then `expire`). The form posts
//! to the same path; then the browser goes `303` to `callbacks.finish` with `order_id`,
//! `status_code` and `transaction_status` added, as Snap sends it, or sees a "done" page when
//! there is no finish URL. Test ids: `midtrans-method-{method}`, `midtrans-pay`,
//! `midtrans-deny`, `midtrans-expire`, and `midtrans-state` on a finished transaction's page.
//!
//! # Control endpoints (local development and tests only)
//! JSON bodies (an empty body takes every default); answers are JSON, errors Snap-shaped
//! (`{"error_messages": [...]}`: 404 unknown order, 409 not possible in its state, 400 bad
//! body).
//! - `POST /_twin/transactions/{order_id}/pay` `{"method": "bank_transfer"|"qris"|"gopay"|
//!   "credit_card" (default bank_transfer), "notify": true, "settle": true}` — pays as the
//!   page would. `"settle": false` stops at `pending` (the virtual account was issued, not
//!   paid yet); `"notify": false` changes the state and sends nothing (a lost notification,
//!   for reconciliation tests).
//! - `POST /_twin/transactions/{order_id}/deny` `{"method" (default: the chosen one, else
//!   credit_card), "notify"}`.
//! - `POST /_twin/transactions/{order_id}/expire` `{"method", "notify"}` — with a method (or
//!   one already chosen) `pending` then `expire` are sent; with none the Snap token lapses
//!   silently, as Midtrans does.
//!
//!   These three answer `{"order_id", "transaction_status", "status_code", "notified":
//!   [statuses sent, in order]}` (`transaction_status` and `status_code` are null while Core
//!   does not know the transaction).
//! - `POST /_twin/transactions/{order_id}/notify` `{"times": 1..=100 (default 1), "status":
//!   an earlier status of this transaction (default the latest)}` — sends that notification,
//!   exactly as first sent, `times` times at once to each of its URLs, without retries, and
//!   answers `{"order_id", "transaction_status", "deliveries": [{"url", "status"} | {"url",
//!   "error"}]}`: duplicates, and out-of-order `pending` after `settlement`, on demand.
//!
//! # Deliberate differences from Midtrans
//! - Transactions live in memory (forgotten on restart, at most
//!   [`CAPACITY`](crate::local::hosted_checkout::CAPACITY), the oldest dropped first).
//! - One page with four methods instead of Snap's JavaScript app; no 3-D Secure, no refunds,
//!   cancels, approvals or challenge fraud statuses; a card deny is final (Snap lets the payer
//!   try again).
//! - Paying by bank transfer, QRIS or GoPay sends `pending` and `settlement` one after the
//!   other (the settlement's first attempt starts once the pending's first attempt is
//!   answered) instead of minutes apart.
//! - Only the fields Kilat's flow reads are validated, with Snap's messages where known
//!   (`customer_details`, `item_details` names and ids are not checked beyond their shape);
//!   at most three override/append notification URLs are used, malformed ones are skipped.
//! - The Core API has only `GET /v2/{id}/status` (order id or transaction id).
//! - The notification `User-Agent` is Midtrans' `Veritrans`; the `merchant_id` is a fixed
//!   made-up one.

mod control;
mod create;
mod error;
mod page;
mod status;
mod transaction;

#[cfg(test)]
mod tests;

use std::{fmt, time::Duration};

use axum::{
    Router,
    body::Bytes,
    http::HeaderMap,
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::Utc;

use crate::{
    crypto::constant_time_eq,
    local::{
        payment_notifier::{Notification, Notifier},
        payment_twin_state::PaymentTwinState,
    },
};
use transaction::{Action, Refusal, Status, Transaction};

/// The page's title and heading.
pub const PAGE_TITLE: &str = "Midtrans sandbox stand-in (local development)";

/// Midtrans' own retry schedule: 2, 10, 30, 90 and 210 minutes after the first attempt fails.
pub const RETRY_DELAYS: [Duration; 5] = [
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(90 * 60),
    Duration::from_secs(210 * 60),
];

/// The `User-Agent` Midtrans' notifications carry.
const NOTIFICATION_USER_AGENT: &str = "Veritrans";

/// Everything the twin needs.
#[derive(Clone)]
pub struct MidtransTwinConfig {
    /// The merchant's server key (`SB-Mid-server-…`): Basic auth and notification signatures.
    pub server_key: String,
    /// Our webhook, e.g. `http://127.0.0.1:3000/api/webhooks/midtrans` (the dashboard's
    /// "Payment Notification URL"). Empty: no default notification URL.
    pub notification_url: String,
    /// Where this twin is reached, e.g. `http://127.0.0.1:54321/midtrans`; the base of the
    /// `redirect_url`s it hands out.
    pub public_url: String,
    pub http: reqwest::Client,
    /// The waits before each retry of a refused notification ([`RETRY_DELAYS`] for Midtrans'
    /// own; local runs pass a compressed schedule).
    pub retry_delays: Vec<Duration>,
}

impl fmt::Debug for MidtransTwinConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MidtransTwinConfig")
            .field("server_key", &"<redacted>")
            .field("notification_url", &self.notification_url)
            .field("public_url", &self.public_url)
            .field("retry_delays", &self.retry_delays)
            .finish_non_exhaustive()
    }
}

/// The shared state of the handlers.
type Twin = PaymentTwinState<MidtransTwinConfig, Transaction>;

/// Midtrans' Snap, Core status and payment page, with routes relative to `/midtrans` (the
/// caller nests it there), and the `/_twin/` control endpoints.
pub fn router(config: MidtransTwinConfig) -> Router {
    let notifier = Notifier::new(
        "Midtrans",
        NOTIFICATION_USER_AGENT,
        config.http.clone(),
        config.retry_delays.clone(),
    );
    let twin = Twin::new(config, notifier);
    twin.serve_routes(
        Router::new()
            .route("/snap/v1/transactions", post(create::create))
            .route(
                "/snap/v4/redirection/{token}",
                get(page::show).post(page::act),
            )
            .route("/v2/{id}/status", get(status::status))
            .route("/_twin/transactions/{order_id}/pay", post(control::pay))
            .route("/_twin/transactions/{order_id}/deny", post(control::deny))
            .route(
                "/_twin/transactions/{order_id}/expire",
                post(control::expire),
            )
            .route(
                "/_twin/transactions/{order_id}/notify",
                post(control::notify),
            ),
    )
}

/// What an action did.
struct Acted {
    /// The statuses reached and notified, in order (none when told not to notify).
    notified: Vec<Status>,
    /// What Core says now; `None` while it does not know the transaction.
    current: Option<Status>,
    finish_url: Option<String>,
}

/// Why an action was not taken.
enum NotActed {
    UnknownOrder,
    Refused(Refusal),
}

impl Twin {
    /// Whether `headers` carry Basic auth with the server key as the user name (Midtrans
    /// ignores the password; the official clients send an empty one).
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(encoded) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
        else {
            return false;
        };
        let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let user = decoded
            .iter()
            .position(|b| *b == b':')
            .map_or(&decoded[..], |colon| &decoded[..colon]);
        !self.config.server_key.is_empty()
            && constant_time_eq(user, self.config.server_key.as_bytes())
    }

    /// Applies `action` to `order_id` and, when `notify`, sends what it reached.
    fn act(&self, order_id: &str, action: Action, notify: bool) -> Result<Acted, NotActed> {
        let server_key = &self.config.server_key;
        let (acted, notifications) = self
            .book
            .with(order_id, |transaction| {
                let reached = transaction.apply(action, Utc::now(), server_key)?;
                let notified = if notify { reached } else { Vec::new() };
                let notifications = notifications_for(transaction, &notified);
                Ok((
                    Acted {
                        notified,
                        current: transaction.core_status(),
                        finish_url: transaction.finish_url.clone(),
                    },
                    notifications,
                ))
            })
            .ok_or(NotActed::UnknownOrder)?
            .map_err(NotActed::Refused)?;
        for per_url in notifications {
            self.notifier.dispatch(per_url);
        }
        Ok(acted)
    }

    /// Expires `order_id` when its time has come (the timer set at creation).
    fn expire_if_due(&self, order_id: &str) {
        let server_key = &self.config.server_key;
        let notifications = self.book.with(order_id, |transaction| {
            let reached = transaction.expire_if_due(Utc::now(), server_key);
            notifications_for(transaction, &reached)
        });
        for per_url in notifications.unwrap_or_default() {
            self.notifier.dispatch(per_url);
        }
    }
}

/// The notifications of `statuses` reached by `transaction`: per notification URL, one list
/// in the order reached.
fn notifications_for(transaction: &Transaction, statuses: &[Status]) -> Vec<Vec<Notification>> {
    let bodies: Vec<(Status, Bytes)> = statuses
        .iter()
        .filter_map(|status| Some((*status, transaction.notification_bytes(*status)?)))
        .collect();
    if bodies.is_empty() {
        return Vec::new();
    }
    transaction
        .notification_urls
        .iter()
        .map(|url| {
            bodies
                .iter()
                .map(|(status, body)| {
                    Notification::new(
                        url.clone(),
                        body.clone(),
                        format!("{} {}", transaction.order_id, status.as_str()),
                        HeaderMap::new,
                    )
                })
                .collect()
        })
        .collect()
}
