//! The billing server functions: read for the signed-in person through the
//! [`BillingDesk`](super::BillingDesk) port.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::BillingDesk;
use super::{BillingError, BillingOverview, OrderView};

#[cfg(feature = "ssr")]
fn desk() -> Result<std::sync::Arc<dyn BillingDesk>, BillingError> {
    use_context::<std::sync::Arc<dyn BillingDesk>>().ok_or(BillingError::PaymentsOff)
}

#[server]
pub async fn load_billing() -> Result<BillingOverview, BillingError> {
    desk()?.overview().await
}

/// `None` (with status 404) when the person has no such order.
#[server]
pub async fn load_order(id: String) -> Result<Option<OrderView>, BillingError> {
    let order = desk()?.order(id).await?;
    if order.is_none()
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    Ok(order)
}
