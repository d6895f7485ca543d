//! The admin server functions. A caller who is not an admin gets HTTP 404 and nothing else, like
//! any unknown address.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::AdminConsole;
use super::{AdminError, AdminOverview};

/// `None` (with status 404) when the caller is not an admin.
#[cfg(feature = "ssr")]
fn answer<T>(result: Result<T, AdminError>) -> Result<Option<T>, AdminError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AdminError::NotFound) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::NOT_FOUND);
            }
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

#[cfg(feature = "ssr")]
fn console() -> Result<std::sync::Arc<dyn AdminConsole>, AdminError> {
    use_context::<std::sync::Arc<dyn AdminConsole>>().ok_or(AdminError::Unavailable)
}

#[server]
pub async fn load_admin_overview() -> Result<Option<AdminOverview>, AdminError> {
    answer(console()?.overview().await)
}
