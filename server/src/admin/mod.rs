//! Admin capabilities: who may enter the admin area, and what each admin page reads and does
//! (roles themselves belong to identity: `auth::roles`).

pub mod access;
pub mod ai_usage;
pub mod audit_trail;
pub mod console;
pub mod csv;
pub mod cursor;
pub mod demo;
pub mod exports;
pub mod metrics;
pub mod outbox;
pub mod payments;
pub mod people;
pub mod system;
pub mod waitlist;

use app::admin::AdminError;

/// A query that failed: logged with its cause; the admin is told the service is unavailable.
fn failed(error: sqlx::Error) -> AdminError {
    tracing::error!(%error, "an admin query failed");
    AdminError::Unavailable
}

/// A value read from the database that the app must know (a status, a plan, …).
fn parse<T: std::str::FromStr>(text: &str) -> Result<T, AdminError> {
    text.parse().map_err(|_| {
        tracing::error!(text, "the database holds a value the app does not know");
        AdminError::Unavailable
    })
}

/// A list filter that cannot be used; which one is in the log, the admin reads one message for
/// all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("admin filter refused: {0}")]
pub struct FilterRefused(&'static str);

impl From<FilterRefused> for AdminError {
    fn from(refused: FilterRefused) -> Self {
        tracing::info!(%refused, "refused an admin list filter");
        AdminError::InvalidFilter
    }
}

/// Trimmed, and `None` when nothing is left.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A list filter's first and last day (both included) as typed: each `YYYY-MM-DD`, a real
/// calendar day, or empty for no bound; the first not after the last.
fn day_range(
    from: &Option<String>,
    to: &Option<String>,
) -> Result<(Option<time::Date>, Option<time::Date>), FilterRefused> {
    let day = |value: &Option<String>| match given(value) {
        None => Ok(None),
        Some(text) => parse_day(text)
            .map(Some)
            .ok_or(FilterRefused("a date is not YYYY-MM-DD")),
    };
    let (from, to) = (day(from)?, day(to)?);
    if from.zip(to).is_some_and(|(from, to)| from > to) {
        return Err(FilterRefused("the first day is after the last"));
    }
    Ok((from, to))
}

/// `YYYY-MM-DD`, a real calendar day.
fn parse_day(text: &str) -> Option<time::Date> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year, month, day.parse().ok()?).ok()
}
