//! Billing: plans, payments, subscriptions and the gateways' notifications.
//!
//! - [`checkout`] opens a payment at the catalogue's price on the configured gateway;
//! - [`webhooks`] take the gateways' notifications, [`reconcile`] asks about the ones that never
//!   came, and both settle through [`settle`], the one path that moves a payment;
//! - [`subscriptions`] holds the plan rules (extend, switch, cancel, resume, lapse);
//! - [`midtrans`] and [`doku`] speak the gateways' protocols, [`signatures`] their signatures.

pub mod checkout;
pub mod desk;
pub mod doku;
pub mod gateway;
pub mod midtrans;
pub mod orders;
pub mod reconcile;
pub mod replay;
pub mod routes;
pub mod settings;
pub mod settle;
pub mod signatures;
pub mod subscriptions;
pub mod webhook_ledger;
pub mod webhooks;

use std::time::Duration;

use app::domain::{Plan, PlanCatalogue};
use sqlx::PgPool;

use checkout::{Buyer, CheckoutError, CheckoutSettings, OpenCheckout};
use gateway::GatewayClient;
use orders::OrderWatch;

/// How long a webhook claim may be held before another delivery takes it over (its holder
/// crashed or hung). Far above any honest processing time, far below the gateways' retry gaps.
pub const CLAIM_STALE_AFTER: Duration = Duration::from_secs(5 * 60);

/// Where the gateways post notifications.
pub const MIDTRANS_WEBHOOK_PATH: &str = "/api/webhooks/midtrans";
pub const DOKU_WEBHOOK_PATH: &str = "/api/webhooks/doku";

/// The billing capability.
pub struct Billing {
    pub pool: PgPool,
    pub gateway: GatewayClient,
    pub catalogue: PlanCatalogue,
    /// How long a checkout may be paid.
    pub checkout_ttl: Duration,
    /// `SITE_URL`: where gateways send people back.
    pub site_url: String,
    /// Payment changes, from every instance, for the order pages' live status.
    pub orders: OrderWatch,
}

impl Billing {
    /// Opens (or hands back) `buyer`'s checkout for `plan`.
    pub async fn checkout(
        &self,
        buyer: Buyer<'_>,
        plan: Plan,
    ) -> Result<OpenCheckout, CheckoutError> {
        let return_base = format!("{}/order/", self.site_url);
        checkout::open(
            &self.pool,
            &CheckoutSettings {
                gateway: &self.gateway,
                price_idr: self.catalogue.monthly_price_idr(plan),
                expires_in: self.checkout_ttl,
                return_base: &return_base,
            },
            buyer,
            plan,
        )
        .await
    }
}
