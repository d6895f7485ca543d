//! The admin area (`/admin/**`): only people whose `user_roles` row says admin ever see it. The
//! server guards every page and every call; to anyone else the area does not exist (404).

pub mod api;

use serde::{Deserialize, Serialize};

use crate::domain::Plan;
use crate::refusal::{PlumbingFailure, WireError};

/// The overview's numbers: revenue counts PAID payments only, in whole rupiah.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub revenue_idr: i64,
    pub paid_payments: i64,
    pub pending_payments: i64,
    /// Subscriptions in force, per plan, in plan order.
    pub active_by_plan: Vec<(Plan, i64)>,
}

/// Why an admin call failed. Travels as a code (see [`crate::refusal`]); only `Unavailable` is
/// a fault (5xx).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireError", from = "WireError")]
pub enum AdminError {
    /// Not signed in, or not an admin: answered as if the page did not exist.
    NotFound,
    /// The request could not be read.
    BadRequest,
    /// The browser could not reach the server (only ever made in the browser).
    Unreachable,
    Unavailable,
}

/// In English: logs and API readers.
impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message(crate::i18n::Locale::En))
    }
}

impl std::error::Error for AdminError {}

impl AdminError {
    /// What the person reads, in `locale`.
    pub fn message(&self, locale: crate::i18n::Locale) -> &'static str {
        match self {
            AdminError::NotFound => crate::t!(locale, errors.page_missing),
            AdminError::BadRequest => crate::t!(locale, errors.request_bad),
            AdminError::Unreachable => crate::t!(locale, errors.unreachable),
            AdminError::Unavailable => crate::t!(locale, errors.admin_unavailable),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AdminError::NotFound => "not_found",
            AdminError::BadRequest => "bad_request",
            AdminError::Unreachable => "unreachable",
            AdminError::Unavailable => "unavailable",
        }
    }

    /// The HTTP status a server function answers with this error.
    pub fn status(&self) -> u16 {
        match self {
            AdminError::NotFound => 404,
            AdminError::BadRequest => 400,
            AdminError::Unreachable | AdminError::Unavailable => 503,
        }
    }

    fn from_plumbing(failure: PlumbingFailure) -> Self {
        match failure {
            PlumbingFailure::BadRequest | PlumbingFailure::TooLarge => AdminError::BadRequest,
            PlumbingFailure::Unreachable => AdminError::Unreachable,
            PlumbingFailure::Fault => AdminError::Unavailable,
        }
    }
}

impl From<AdminError> for WireError {
    fn from(error: AdminError) -> Self {
        WireError {
            code: error.code().to_string(),
            message: error.to_string(),
            field: None,
            retry_after_secs: None,
        }
    }
}

impl From<WireError> for AdminError {
    fn from(wire: WireError) -> Self {
        [
            AdminError::NotFound,
            AdminError::BadRequest,
            AdminError::Unreachable,
        ]
        .into_iter()
        .find(|error| error.code() == wire.code)
        .unwrap_or(AdminError::Unavailable)
    }
}

crate::refusal_over_the_wire!(AdminError);

/// The backend behind the admin server functions (provided as `Arc<dyn AdminConsole>` context).
/// Every method checks the caller's role itself.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AdminConsole: Send + Sync {
    async fn overview(&self) -> Result<AdminOverview, AdminError>;
}
