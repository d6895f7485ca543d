//! The billing contract between the pages and the server: where forms post, and why a billing
//! request is refused, in words for the person.

pub mod api;

use serde::{Deserialize, Serialize};

use crate::domain::{PaymentStatus, Plan};
use crate::i18n::Locale;
use crate::refusal::{PlumbingFailure, WireError};
use crate::t;

/// One order (one payment) as its owner sees it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// The payment's id (the order page's address).
    pub id: String,
    /// The order number the gateway shows (`KK-…`).
    pub order_id: String,
    pub plan: Plan,
    pub amount: i64,
    pub status: PaymentStatus,
    /// The gateway's page while the order can still be paid there.
    pub checkout_url: Option<String>,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// The billing page: the plan in force and every payment, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOverview {
    pub plan: Plan,
    /// When the paid period ends (`None` on FREE).
    pub period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub orders: Vec<OrderView>,
    /// The gateway people pay on ("Midtrans", "DOKU").
    pub gateway: String,
}

/// The backend behind the billing server functions (provided as `Arc<dyn BillingDesk>`
/// context); every method acts for the signed-in person of the request.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait BillingDesk: Send + Sync {
    async fn overview(&self) -> Result<BillingOverview, BillingError>;
    /// `None` when the person has no order `id`.
    async fn order(&self, id: String) -> Result<Option<OrderView>, BillingError>;
}

/// Where the checkout page's form posts the chosen `plan` (answered with a redirect to the
/// gateway's page, or JSON `{url}` for `Accept: application/json`).
pub const CHECKOUT_PATH: &str = "/api/billing/checkout";
/// Where the billing page's forms cancel and resume the plan.
pub const CANCEL_PATH: &str = "/api/billing/cancel";
pub const RESUME_PATH: &str = "/api/billing/resume";
/// The billing page.
pub const BILLING_PAGE: &str = "/dashboard/billing";

/// An order's page, where the gateway sends the person back.
pub fn order_page(payment_id: &str) -> String {
    format!("/order/{payment_id}")
}

/// An order's status as JSON (the page's polling fallback) and as server-sent events.
pub fn order_status_path(payment_id: &str) -> String {
    format!("/api/billing/orders/{payment_id}")
}

pub fn order_events_path(payment_id: &str) -> String {
    format!("/api/billing/orders/{payment_id}/events")
}

/// Why a billing request was refused. Each has a stable [`code`](Self::code) (JSON answers and
/// `?error=` carry it) and a [`status`](Self::status); only `Unavailable` is a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireError", from = "WireError")]
pub enum BillingError {
    /// Not a plan that is sold (FREE, or a name that is no plan).
    NotForSale,
    /// The payment gateway did not open a checkout.
    GatewayUnavailable,
    /// Cancel or resume without a paid plan in force.
    NoPaidPlan,
    /// No such order on the person's account.
    OrderMissing,
    /// Payments are switched off (`ENABLE_PAYMENTS=false`).
    PaymentsOff,
    NotSignedIn,
    RateLimited {
        retry_after_secs: u64,
    },
    Unavailable,
}

impl BillingError {
    const ALL: [BillingError; 8] = [
        BillingError::NotForSale,
        BillingError::GatewayUnavailable,
        BillingError::NoPaidPlan,
        BillingError::OrderMissing,
        BillingError::PaymentsOff,
        BillingError::NotSignedIn,
        BillingError::RateLimited {
            retry_after_secs: 60,
        },
        BillingError::Unavailable,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BillingError::NotForSale => "plan_not_for_sale",
            BillingError::GatewayUnavailable => "gateway_unavailable",
            BillingError::NoPaidPlan => "no_paid_plan",
            BillingError::OrderMissing => "order_missing",
            BillingError::PaymentsOff => "payments_off",
            BillingError::NotSignedIn => "not_signed_in",
            BillingError::RateLimited { .. } => "rate_limited",
            BillingError::Unavailable => "unavailable",
        }
    }

    /// The kind a `code` names (a rate limit with a minute's wait), for `?error=` on a page.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }

    pub fn status(self) -> u16 {
        match self {
            BillingError::NotForSale => 400,
            BillingError::NoPaidPlan => 409,
            BillingError::OrderMissing => 404,
            BillingError::NotSignedIn => 401,
            BillingError::PaymentsOff => 404,
            BillingError::RateLimited { .. } => 429,
            BillingError::GatewayUnavailable => 502,
            BillingError::Unavailable => 503,
        }
    }

    /// What the person reads, in `locale`.
    pub fn message(self, locale: Locale) -> String {
        match self {
            BillingError::NotForSale => t!(locale, billing.not_for_sale).to_string(),
            BillingError::GatewayUnavailable => t!(locale, billing.gateway_unavailable).to_string(),
            BillingError::NoPaidPlan => t!(locale, billing.no_paid_plan).to_string(),
            BillingError::OrderMissing => t!(locale, billing.order_missing).to_string(),
            BillingError::PaymentsOff => t!(locale, billing.payments_off).to_string(),
            BillingError::NotSignedIn => t!(locale, errors.not_signed_in).to_string(),
            BillingError::RateLimited { retry_after_secs } => {
                t!(locale, errors.rate_limited)(retry_after_secs.div_ceil(60).max(1))
            }
            BillingError::Unavailable => t!(locale, errors.unavailable).to_string(),
        }
    }
}

/// In English: logs and API readers.
impl std::fmt::Display for BillingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for BillingError {}

impl BillingError {
    fn from_plumbing(failure: PlumbingFailure) -> Self {
        match failure {
            PlumbingFailure::Fault | PlumbingFailure::Unreachable => BillingError::Unavailable,
            PlumbingFailure::BadRequest | PlumbingFailure::TooLarge => BillingError::NotForSale,
        }
    }
}

impl From<BillingError> for WireError {
    fn from(error: BillingError) -> Self {
        WireError {
            code: error.code().to_string(),
            message: error.to_string(),
            field: None,
            retry_after_secs: match error {
                BillingError::RateLimited { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            },
        }
    }
}

impl From<WireError> for BillingError {
    fn from(wire: WireError) -> Self {
        match BillingError::from_code(&wire.code) {
            Some(BillingError::RateLimited { .. }) => BillingError::RateLimited {
                retry_after_secs: wire.retry_after_secs.unwrap_or(60),
            },
            Some(error) => error,
            None => BillingError::Unavailable,
        }
    }
}

crate::refusal_over_the_wire!(BillingError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_round_trips_its_code_and_reads_in_both_languages() {
        for error in BillingError::ALL {
            assert_eq!(BillingError::from_code(error.code()), Some(error));
            assert_ne!(error.message(Locale::Id), error.message(Locale::En));
            assert!((400..600).contains(&error.status()));
        }
        assert_eq!(BillingError::from_code("nonsense"), None);
    }
}
