//! The admin server functions. A caller who is not an admin gets HTTP 404 and nothing else, like
//! any unknown address.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::AdminConsole;
use super::payments::{
    PaymentDetail, PaymentFilter, PaymentLine, ReplayOutcome, WebhookEventLine, WebhookFilter,
};
use super::people::{Person, PersonLine};
use super::{AdminError, AdminOverview, Page};
use crate::domain::{AppRole, Plan};

/// `None` (with status 404) when the caller is not an admin.
#[cfg(feature = "ssr")]
pub(super) fn answer<T>(result: Result<T, AdminError>) -> Result<Option<T>, AdminError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AdminError::NotFound) => {
            not_found();
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

#[cfg(feature = "ssr")]
fn not_found() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

#[cfg(feature = "ssr")]
pub(super) fn console() -> Result<std::sync::Arc<dyn AdminConsole>, AdminError> {
    use_context::<std::sync::Arc<dyn AdminConsole>>().ok_or(AdminError::Unavailable)
}

#[server]
pub async fn load_admin_overview() -> Result<Option<AdminOverview>, AdminError> {
    answer(console()?.overview().await)
}

/// People whose email or name contains `search`, a page at a time.
#[server]
pub async fn load_people(
    search: String,
    after: Option<String>,
) -> Result<Option<Page<PersonLine>>, AdminError> {
    answer(console()?.people(search, after).await)
}

/// `None` (with status 404) for a caller who is not an admin, or a person who does not exist.
#[server]
pub async fn load_person(id: String) -> Result<Option<Person>, AdminError> {
    let person = answer(console()?.person(id).await)?.flatten();
    if person.is_none() {
        not_found();
    }
    Ok(person)
}

#[server]
pub async fn set_user_role(id: String, role: AppRole) -> Result<Option<()>, AdminError> {
    answer(console()?.set_role(id, role).await)
}

#[server]
pub async fn grant_plan(id: String, plan: Plan, reason: String) -> Result<Option<()>, AdminError> {
    answer(console()?.grant_plan(id, plan, reason).await)
}

#[server]
pub async fn load_payments(
    filter: PaymentFilter,
    after: Option<String>,
) -> Result<Option<Page<PaymentLine>>, AdminError> {
    answer(console()?.payments(filter, after).await)
}

/// `None` (with status 404) for a caller who is not an admin, or a payment that does not exist.
#[server]
pub async fn load_payment(id: String) -> Result<Option<PaymentDetail>, AdminError> {
    let payment = answer(console()?.payment(id).await)?.flatten();
    if payment.is_none() {
        not_found();
    }
    Ok(payment)
}

#[server]
pub async fn load_webhook_events(
    filter: WebhookFilter,
    after: Option<String>,
) -> Result<Option<Page<WebhookEventLine>>, AdminError> {
    answer(console()?.webhook_events(filter, after).await)
}

#[server]
pub async fn replay_webhook(id: String) -> Result<Option<ReplayOutcome>, AdminError> {
    answer(console()?.replay_webhook(id).await)
}
