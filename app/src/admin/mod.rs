//! The admin area (`/admin/**`): only people whose `user_roles` row says admin ever see it. The
//! server guards every page and every call; to anyone else the area does not exist (404).

pub mod api;

use serde::{Deserialize, Serialize};

use crate::domain::Plan;

/// The overview's numbers: revenue counts PAID payments only, in whole rupiah.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub revenue_idr: i64,
    pub paid_payments: i64,
    pub pending_payments: i64,
    /// Subscriptions in force, per plan, in plan order.
    pub active_by_plan: Vec<(Plan, i64)>,
}

/// Why an admin call failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AdminError {
    /// Not signed in, or not an admin: answered as if the page did not exist.
    #[error("This page does not exist.")]
    NotFound,
    #[error("The admin area is unavailable right now. Please try again in a moment.")]
    Unavailable,
}

/// The backend behind the admin server functions (provided as `Arc<dyn AdminConsole>` context).
/// Every method checks the caller's role itself.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AdminConsole: Send + Sync {
    async fn overview(&self) -> Result<AdminOverview, AdminError>;
}
