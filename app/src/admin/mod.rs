//! The admin area (`/admin/**`): only people whose `user_roles` row says admin ever see it. The
//! server guards every page and every call; to anyone else the area does not exist (404).

pub mod api;
pub mod payments;
pub mod people;
pub mod records;
pub mod records_api;
pub mod system;

use serde::{Deserialize, Serialize};

use crate::domain::Plan;
use crate::refusal::{PlumbingFailure, WireError};

/// How many rows an admin list shows at a time.
pub const PAGE_SIZE: usize = 50;

/// One page of a list paged by keyset: `next` is the opaque cursor of the page after it (rows
/// older than the last shown), `None` on the last page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The overview's numbers: revenue counts PAID payments only, in whole rupiah.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    /// All time.
    pub revenue_idr: i64,
    pub revenue_this_month_idr: i64,
    /// Monthly recurring revenue: each paid subscription in force at its plan's monthly price.
    pub mrr_idr: i64,
    pub paid_payments: i64,
    pub pending_payments: i64,
    /// Subscriptions in force, per plan, in plan order.
    pub active_by_plan: Vec<(Plan, i64)>,
    /// The last twelve calendar months, oldest first.
    pub months: Vec<MonthFigures>,
}

/// One calendar month of the overview's charts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFigures {
    /// The month's first day, `YYYY-MM-01`.
    pub starts: String,
    pub signups: i64,
    /// People with a payment that became PAID in the month.
    pub paying_users: i64,
    pub revenue_idr: i64,
}

impl AdminOverview {
    /// Monthly recurring revenue of `active_by_plan` at `catalogue`'s prices.
    pub fn recurring_revenue(
        active_by_plan: &[(Plan, i64)],
        catalogue: &crate::domain::PlanCatalogue,
    ) -> i64 {
        active_by_plan
            .iter()
            .map(|(plan, count)| catalogue.monthly_price_idr(*plan) * count)
            .sum()
    }
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
    /// An admin asked to drop their own admin role.
    SelfDemotion,
    /// A manual grant came without a reason.
    ReasonMissing,
    /// A manual grant named FREE or no plan.
    PlanNotGrantable,
    /// A list filter the server cannot use (an audit actor that is neither an email nor a user
    /// id, an action not shaped `subject.verb`, a date not `YYYY-MM-DD`, …).
    InvalidFilter,
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
            AdminError::SelfDemotion => crate::t!(locale, errors.admin_self_demotion),
            AdminError::ReasonMissing => crate::t!(locale, errors.admin_reason_missing),
            AdminError::PlanNotGrantable => crate::t!(locale, errors.admin_plan_not_grantable),
            AdminError::InvalidFilter => crate::t!(locale, errors.admin_filter_invalid),
            AdminError::Unreachable => crate::t!(locale, errors.unreachable),
            AdminError::Unavailable => crate::t!(locale, errors.admin_unavailable),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AdminError::NotFound => "not_found",
            AdminError::BadRequest => "bad_request",
            AdminError::SelfDemotion => "self_demotion",
            AdminError::ReasonMissing => "reason_missing",
            AdminError::PlanNotGrantable => "plan_not_grantable",
            AdminError::InvalidFilter => "invalid_filter",
            AdminError::Unreachable => "unreachable",
            AdminError::Unavailable => "unavailable",
        }
    }

    /// The HTTP status a server function answers with this error.
    pub fn status(&self) -> u16 {
        match self {
            AdminError::NotFound => 404,
            AdminError::BadRequest => 400,
            AdminError::SelfDemotion
            | AdminError::ReasonMissing
            | AdminError::PlanNotGrantable
            | AdminError::InvalidFilter => 422,
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
            AdminError::SelfDemotion,
            AdminError::ReasonMissing,
            AdminError::PlanNotGrantable,
            AdminError::InvalidFilter,
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
    /// People whose email or name contains `search`, newest first, after cursor `after`.
    async fn people(
        &self,
        search: String,
        after: Option<String>,
    ) -> Result<Page<people::PersonLine>, AdminError>;
    /// `None`: no such person.
    async fn person(&self, id: String) -> Result<Option<people::Person>, AdminError>;
    async fn set_role(&self, id: String, role: crate::domain::AppRole) -> Result<(), AdminError>;
    /// A month of `plan` by hand, with the reason for the audit trail.
    async fn grant_plan(&self, id: String, plan: Plan, reason: String) -> Result<(), AdminError>;
    /// Payments matching `filter`, newest first, after cursor `after`.
    async fn payments(
        &self,
        filter: payments::PaymentFilter,
        after: Option<String>,
    ) -> Result<Page<payments::PaymentLine>, AdminError>;
    /// `None`: no such payment.
    async fn payment(&self, id: String) -> Result<Option<payments::PaymentDetail>, AdminError>;
    /// Webhook ledger entries matching `filter`, newest first, after cursor `after`.
    async fn webhook_events(
        &self,
        filter: payments::WebhookFilter,
        after: Option<String>,
    ) -> Result<Page<payments::WebhookEventLine>, AdminError>;
    /// Webhook event `id` through ingestion again, audited.
    async fn replay_webhook(&self, id: String) -> Result<payments::ReplayOutcome, AdminError>;
    /// Audit entries matching `filter`, newest first, after cursor `after`.
    async fn audit_trail(
        &self,
        filter: records::AuditFilter,
        after: Option<String>,
    ) -> Result<Page<records::AuditRecord>, AdminError>;
    /// Waitlist signups whose address contains `search`, newest first, and the list's size.
    async fn waitlist(
        &self,
        search: String,
        after: Option<String>,
    ) -> Result<records::WaitlistView, AdminError>;
    /// The outbox's messages with `status` (`None`: any), newest first.
    async fn mail_outbox(
        &self,
        status: Option<records::MailStatus>,
        after: Option<String>,
    ) -> Result<Page<records::OutboxMessage>, AdminError>;
    /// Dead message `id` back in the queue, audited; anything else unchanged.
    async fn retry_mail(&self, id: String) -> Result<records::MailRetry, AdminError>;
    async fn ai_usage(&self) -> Result<records::AiUsageReport, AdminError>;
    /// Migrations, features and background jobs.
    async fn system(&self) -> Result<system::SystemReport, AdminError>;
}
