//! The [`BillingDesk`] port for the billing pages: the signed-in person's plan and orders.

use std::sync::Arc;

use app::billing::{BillingDesk, BillingError, BillingOverview, OrderView};
use app::domain::{PaymentProvider, Plan};
use uuid::Uuid;

use super::{Billing, orders::Order, subscriptions};
use crate::auth::identity::{IdentityService, request_session};

/// How many payments the billing page lists.
const HISTORY: i64 = 50;

pub struct RequestBilling {
    identity: Arc<IdentityService>,
    billing: Arc<Billing>,
}

impl RequestBilling {
    pub fn new(identity: Arc<IdentityService>, billing: Arc<Billing>) -> Self {
        Self { identity, billing }
    }

    async fn person(&self) -> Result<Uuid, BillingError> {
        let session = request_session()
            .await
            .map_err(|_| BillingError::Unavailable)?;
        let (signed_in, _) = self
            .identity
            .access(&session)
            .await
            .map_err(|error| match error {
                app::identity::IdentityError::NotSignedIn => BillingError::NotSignedIn,
                _ => BillingError::Unavailable,
            })?;
        Ok(signed_in.user_id)
    }
}

fn failed(error: sqlx::Error) -> BillingError {
    tracing::error!(%error, "reading billing failed");
    BillingError::Unavailable
}

fn view(order: Order) -> OrderView {
    OrderView {
        id: order.id.to_string(),
        order_id: order.order_id,
        plan: order.plan,
        amount: order.amount,
        status: order.status,
        checkout_url: order.checkout_url,
        created_at: order.created_at.unix_timestamp(),
        paid_at: order.paid_at.map(|at| at.unix_timestamp()),
        expires_at: order.expires_at.map(|at| at.unix_timestamp()),
    }
}

/// The name people know the gateway by.
pub fn gateway_name(provider: PaymentProvider) -> &'static str {
    match provider {
        PaymentProvider::Midtrans => "Midtrans",
        PaymentProvider::Doku => "DOKU",
    }
}

#[async_trait::async_trait]
impl BillingDesk for RequestBilling {
    async fn overview(&self) -> Result<BillingOverview, BillingError> {
        let person = self.person().await?;
        let pool = &self.billing.pool;
        let subscription = subscriptions::of_user(pool, person).await.map_err(failed)?;
        let orders = super::orders::history(pool, person, HISTORY)
            .await
            .map_err(failed)?;
        Ok(BillingOverview {
            plan: subscription.as_ref().map_or(Plan::Free, |s| s.plan),
            period_end: subscription
                .as_ref()
                .and_then(|s| s.current_period_end)
                .map(|end| end.unix_timestamp()),
            cancel_at_period_end: subscription.is_some_and(|s| s.cancel_at_period_end),
            orders: orders.into_iter().map(view).collect(),
            gateway: gateway_name(self.billing.gateway.provider()).to_string(),
        })
    }

    async fn order(&self, id: String) -> Result<Option<OrderView>, BillingError> {
        let person = self.person().await?;
        let Ok(id) = id.parse::<Uuid>() else {
            return Ok(None);
        };
        Ok(super::orders::order_of(&self.billing.pool, person, id)
            .await
            .map_err(failed)?
            .map(view))
    }
}
