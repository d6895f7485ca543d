//! `POST /snap/v1/transactions` → 201 `{"token", "redirect_url"}`.
//!
//! Snap's checks, with its messages where known, all reported at once: `transaction_details`
//! with an `order_id` (a string or number, at most 50 of `A-Z a-z 0-9 - _ ~ .`) and a
//! `gross_amount` (an integer of at least 1; IDR has no decimals); `item_details` whose
//! `price × quantity` add up to it; an optional `customer_details` object (its `email`, if
//! any, an address); an optional `callbacks.finish` URL; an optional `expiry {start_time
//! ("yyyy-MM-dd HH:mm:ss Z"), unit, duration}` (default 24 hours from now). Then a reused order
//! id is refused. Snap's `X-Override-Notification` / `X-Append-Notification` headers choose
//! where this transaction's notifications go.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::{Twin, error::SnapError, transaction::Transaction};
use crate::local::hosted_checkout::is_web_url;

/// Snap's limit on `order_id`.
const ORDER_ID_MAX: usize = 50;
/// Snap's limit on an item's `name`.
const ITEM_NAME_MAX: usize = 50;
/// How many notification URLs the override and append headers may name.
const NOTIFICATION_URLS_MAX: usize = 3;
/// The longest expiry the twin accepts (Snap's own ceiling is not documented).
const EXPIRY_MAX_DAYS: i64 = 366;

/// A Snap request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SnapRequest {
    pub(super) order_id: String,
    pub(super) gross_amount: i64,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) finish_url: Option<String>,
}

pub(super) async fn create(
    State(twin): State<Twin>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SnapError> {
    if !twin.authorized(&headers) {
        return Err(SnapError::Unauthorized);
    }
    let request = parse(&body, Utc::now()).map_err(SnapError::Invalid)?;
    let transaction = Transaction::new(
        request.order_id,
        request.gross_amount,
        request.expires_at,
        request.finish_url,
        notification_urls(&headers, &twin.config.notification_url),
    );
    let token = transaction.token.clone();
    let order_id = transaction.order_id.clone();
    let expires_at = transaction.expires_at;
    twin.book
        .insert(&order_id, &token, transaction)
        .map_err(|_| {
            SnapError::Invalid(vec!["transaction_details.order_id sudah digunakan".into()])
        })?;
    twin.schedule_expiry(order_id, expires_at, Twin::expire_if_due);
    let redirect_url = format!(
        "{}/snap/v4/redirection/{token}",
        twin.config.public_url.trim_end_matches('/')
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "redirect_url": redirect_url})),
    )
        .into_response())
}

/// Where this transaction's notifications go: the override header's URLs, or the
/// configured URL followed by the append header's.
fn notification_urls(headers: &HeaderMap, configured: &str) -> Vec<String> {
    let listed = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|url| is_web_url(url))
                    .take(NOTIFICATION_URLS_MAX)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|urls| !urls.is_empty())
    };
    if let Some(urls) = listed("x-override-notification") {
        return urls;
    }
    let mut urls: Vec<String> = Some(configured.to_string())
        .filter(|url| !url.is_empty())
        .into_iter()
        .collect();
    urls.extend(listed("x-append-notification").unwrap_or_default());
    urls
}

/// Checks a Snap request body as Snap does; every problem found, in Snap's words.
pub(super) fn parse(body: &[u8], now: DateTime<Utc>) -> Result<SnapRequest, Vec<String>> {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Err(vec!["There was a problem in the JSON you submitted".into()]);
    };
    let mut problems = Vec::new();
    let details = match request.get("transaction_details") {
        Some(Value::Object(details)) => Some(details),
        None | Some(Value::Null) => {
            problems.push("transaction_details is required".into());
            None
        }
        Some(_) => {
            problems.push("transaction_details must be an object".into());
            None
        }
    };
    let order_id = details.and_then(|d| collect(&mut problems, order_id(d)));
    let gross_amount = details.and_then(|d| collect(&mut problems, gross_amount(d)));
    if let (Some(gross_amount), Some(items)) = (gross_amount, request.get("item_details")) {
        collect(&mut problems, items_match(items, gross_amount));
    }
    collect(
        &mut problems,
        customer_details(request.get("customer_details")),
    );
    let finish_url = collect(&mut problems, finish_url(request.get("callbacks"))).flatten();
    let expires_at = collect(&mut problems, expiry(request.get("expiry"), now));
    match (order_id, gross_amount, expires_at) {
        (Some(order_id), Some(gross_amount), Some(expires_at)) if problems.is_empty() => {
            Ok(SnapRequest {
                order_id,
                gross_amount,
                expires_at,
                finish_url,
            })
        }
        _ => Err(problems),
    }
}

/// `result`'s value, or `None` with its problems added to `problems`.
fn collect<T>(problems: &mut Vec<String>, result: Result<T, Vec<String>>) -> Option<T> {
    result.map_err(|found| problems.extend(found)).ok()
}

fn order_id(details: &Map<String, Value>) -> Result<String, Vec<String>> {
    let order_id = match details.get("order_id") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(_) => {
            return Err(vec!["transaction_details.order_id must be a string".into()]);
        }
    };
    if order_id.is_empty() {
        return Err(vec!["transaction_details.order_id is required".into()]);
    }
    let mut problems = Vec::new();
    if order_id.chars().count() > ORDER_ID_MAX {
        problems.push(format!(
            "transaction_details.order_id is too long (maximum is {ORDER_ID_MAX} characters)"
        ));
    }
    if !order_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~' | '.'))
    {
        problems.push(
            "transaction_details.order_id may only contain letters, digits, '-', '_', '~' and '.'"
                .into(),
        );
    }
    if problems.is_empty() {
        Ok(order_id)
    } else {
        Err(problems)
    }
}

/// A JSON integer (or a string of one, or a number with no fraction), as Snap reads amounts.
fn integer(value: &Value) -> Option<Result<i64, ()>> {
    let number = match value {
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                return Some(Ok(integer));
            }
            number.as_f64()?
        }
        Value::String(text) => {
            let text = text.trim();
            if let Ok(integer) = text.parse::<i64>() {
                return Some(Ok(integer));
            }
            text.parse::<f64>().ok()?
        }
        _ => return None,
    };
    // Beyond 2^53 a float no longer holds every integer; no rupiah amount gets there.
    if number.is_finite() && number.fract() == 0.0 && number.abs() < 9.0e15 {
        Some(Ok(number as i64))
    } else {
        Some(Err(()))
    }
}

fn gross_amount(details: &Map<String, Value>) -> Result<i64, Vec<String>> {
    let field = "transaction_details.gross_amount";
    match details.get("gross_amount") {
        None | Some(Value::Null) => Err(vec![
            format!("{field} is required"),
            format!("{field} is not a number"),
        ]),
        Some(value) => match integer(value) {
            None => Err(vec![format!("{field} is not a number")]),
            Some(Err(())) => Err(vec![format!(
                "{field} must be a whole number of rupiah (IDR has no decimals)"
            )]),
            Some(Ok(amount)) if amount < 1 => Err(vec![format!(
                "{field} must be greater than or equal to 0.01"
            )]),
            Some(Ok(amount)) => Ok(amount),
        },
    }
}

/// `item_details`: each with an integer `price` and a positive integer `quantity`, adding up
/// to `gross_amount`.
fn items_match(items: &Value, gross_amount: i64) -> Result<(), Vec<String>> {
    let items = match items {
        Value::Null => return Ok(()),
        Value::Array(items) => items,
        _ => return Err(vec!["item_details must be an array".into()]),
    };
    let mut problems = Vec::new();
    let mut total: Option<i64> = Some(0);
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            problems.push(format!("item_details[{i}] must be an object"));
            continue;
        };
        let price = match item.get("price").and_then(integer) {
            Some(Ok(price)) => Some(price),
            _ => {
                problems.push(format!("item_details[{i}].price is not a number"));
                None
            }
        };
        let quantity = match item.get("quantity").and_then(integer) {
            Some(Ok(quantity)) if quantity >= 1 => Some(quantity),
            _ => {
                problems.push(format!(
                    "item_details[{i}].quantity must be greater than or equal to 1"
                ));
                None
            }
        };
        match item.get("name") {
            Some(Value::String(name)) if name.chars().count() > ITEM_NAME_MAX => {
                problems.push(format!(
                    "item_details[{i}].name is too long (maximum is {ITEM_NAME_MAX} characters)"
                ))
            }
            Some(Value::String(name)) if !name.is_empty() => {}
            _ => problems.push(format!("item_details[{i}].name is required")),
        }
        total = match (total, price, quantity) {
            (Some(total), Some(price), Some(quantity)) => price
                .checked_mul(quantity)
                .and_then(|line| total.checked_add(line)),
            _ => None,
        };
    }
    if problems.is_empty() && total != Some(gross_amount) {
        problems.push(
            "transaction_details.gross_amount is not equal to the sum of item_details".into(),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn customer_details(details: Option<&Value>) -> Result<(), Vec<String>> {
    match details {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(details)) => match details.get("email") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(email))
                if email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && domain.contains('.')
                        && !email.contains(char::is_whitespace)
                }) =>
            {
                Ok(())
            }
            Some(_) => Err(vec!["customer_details.email format is invalid".into()]),
        },
        Some(_) => Err(vec!["customer_details must be an object".into()]),
    }
}

fn finish_url(callbacks: Option<&Value>) -> Result<Option<String>, Vec<String>> {
    match callbacks {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(callbacks)) => match callbacks.get("finish") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(url)) if is_web_url(url) => Ok(Some(url.clone())),
            Some(_) => Err(vec!["callbacks.finish is not a valid URL".into()]),
        },
        Some(_) => Err(vec!["callbacks must be an object".into()]),
    }
}

/// When the transaction expires: `expiry`'s `start_time` (default now) plus `duration`
/// `unit`s, or 24 hours from now without `expiry`.
fn expiry(expiry: Option<&Value>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Vec<String>> {
    let expiry = match expiry {
        None | Some(Value::Null) => return Ok(now + Duration::hours(24)),
        Some(Value::Object(expiry)) => expiry,
        Some(_) => return Err(vec!["expiry must be an object".into()]),
    };
    let mut problems = Vec::new();
    let start = match expiry.get("start_time") {
        None | Some(Value::Null) => Some(now),
        Some(Value::String(text)) => {
            match DateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S %z") {
                Ok(start) => Some(start.with_timezone(&Utc)),
                Err(_) => {
                    problems.push(
                        "expiry.start_time format is invalid, use yyyy-MM-dd HH:mm:ss Z".into(),
                    );
                    None
                }
            }
        }
        Some(_) => {
            problems.push("expiry.start_time format is invalid, use yyyy-MM-dd HH:mm:ss Z".into());
            None
        }
    };
    let unit_minutes = match expiry
        .get("unit")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    {
        Some(unit) if matches!(unit.as_str(), "minute" | "minutes") => Some(1),
        Some(unit) if matches!(unit.as_str(), "hour" | "hours") => Some(60),
        Some(unit) if matches!(unit.as_str(), "day" | "days") => Some(24 * 60),
        _ => {
            problems.push("expiry.unit must be one of minute, hour or day".into());
            None
        }
    };
    let duration = match expiry.get("duration").and_then(integer) {
        Some(Ok(duration)) if duration >= 1 => Some(duration),
        _ => {
            problems.push("expiry.duration must be greater than or equal to 1".into());
            None
        }
    };
    let (Some(start), Some(unit_minutes), Some(duration)) = (start, unit_minutes, duration) else {
        return Err(problems);
    };
    let minutes = duration
        .checked_mul(unit_minutes)
        .filter(|minutes| *minutes <= EXPIRY_MAX_DAYS * 24 * 60);
    match minutes.and_then(Duration::try_minutes) {
        Some(length) => Ok(start + length),
        None => Err(vec![format!(
            "expiry is too long (at most {EXPIRY_MAX_DAYS} days)"
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-17T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn problems(body: Value) -> Vec<String> {
        parse(body.to_string().as_bytes(), now()).unwrap_err()
    }

    #[test]
    fn a_minimal_request_expires_in_a_day() {
        let request = parse(
            br#"{"transaction_details":{"order_id":"KK-1","gross_amount":99000}}"#,
            now(),
        )
        .unwrap();
        assert_eq!(request.order_id, "KK-1");
        assert_eq!(request.gross_amount, 99_000);
        assert_eq!(request.expires_at, now() + Duration::hours(24));
        assert_eq!(request.finish_url, None);
    }

    #[test]
    fn numbers_as_snap_reads_them() {
        let request = parse(
            br#"{"transaction_details":{"order_id":1710000000,"gross_amount":"99000.0"}}"#,
            now(),
        )
        .unwrap();
        assert_eq!(request.order_id, "1710000000");
        assert_eq!(request.gross_amount, 99_000);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        assert_eq!(
            problems(json!({"transaction_details": {}})),
            [
                "transaction_details.order_id is required",
                "transaction_details.gross_amount is required",
                "transaction_details.gross_amount is not a number",
            ]
        );
        let found = problems(json!({
            "transaction_details": {"order_id": "a b/c", "gross_amount": 0},
            "callbacks": {"finish": "javascript:alert(1)"},
            "customer_details": {"email": "nope"},
        }));
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("order_id may only contain"));
        assert!(found[1].contains("greater than or equal to 0.01"));
    }

    #[test]
    fn order_ids_are_at_most_50_characters() {
        let long = "K".repeat(51);
        assert!(
            problems(json!({"transaction_details": {"order_id": long, "gross_amount": 1}}))[0]
                .contains("too long")
        );
        let fifty = "K".repeat(50);
        assert!(
            parse(
                json!({"transaction_details": {"order_id": fifty, "gross_amount": 1}})
                    .to_string()
                    .as_bytes(),
                now()
            )
            .is_ok()
        );
    }

    #[test]
    fn items_must_add_up_to_the_gross_amount() {
        let body = |price: i64| {
            json!({
                "transaction_details": {"order_id": "KK-1", "gross_amount": 99000},
                "item_details": [
                    {"id": "PRO", "price": price, "quantity": 1, "name": "Kilat Pro"},
                    {"id": "TAX", "price": 9000, "quantity": 1, "name": "Tax"},
                ],
            })
        };
        assert!(parse(body(90000).to_string().as_bytes(), now()).is_ok());
        assert_eq!(
            problems(body(90001)),
            ["transaction_details.gross_amount is not equal to the sum of item_details"]
        );
        let overflow = json!({
            "transaction_details": {"order_id": "KK-1", "gross_amount": 99000},
            "item_details": [{"price": i64::MAX, "quantity": 2, "name": "x"}],
        });
        assert_eq!(problems(overflow).len(), 1);
    }

    #[test]
    fn expiry_counts_from_its_start_time_in_its_own_zone() {
        let request = parse(
            json!({
                "transaction_details": {"order_id": "KK-1", "gross_amount": 1},
                "expiry": {"start_time": "2026-03-17 08:00:00 +0700", "unit": "minutes", "duration": 30},
            })
            .to_string()
            .as_bytes(),
            now(),
        )
        .unwrap();
        assert_eq!(request.expires_at, now() + Duration::minutes(30));
        let found = problems(json!({
            "transaction_details": {"order_id": "KK-1", "gross_amount": 1},
            "expiry": {"start_time": "tomorrow", "unit": "week", "duration": 0},
        }));
        assert_eq!(found.len(), 3, "{found:?}");
        let found = problems(json!({
            "transaction_details": {"order_id": "KK-1", "gross_amount": 1},
            "expiry": {"unit": "day", "duration": i64::MAX},
        }));
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn hostile_bodies_are_refused_not_panicked_on() {
        for body in [
            &b""[..],
            b"[]",
            b"null",
            b"{\"transaction_details\":[]}",
            b"{\"transaction_details\":{\"order_id\":{},\"gross_amount\":1e309}}",
            b"{\"transaction_details\":{\"order_id\":\"x\",\"gross_amount\":-9223372036854775808}}",
            b"\xff\xfe",
        ] {
            assert!(parse(body, now()).is_err(), "{body:?}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(deep.as_bytes(), now()).is_err());
    }

    #[test]
    fn override_replaces_and_append_adds_notification_urls() {
        let configured = "http://127.0.0.1:3000/api/webhooks/midtrans";
        let mut headers = HeaderMap::new();
        assert_eq!(notification_urls(&headers, configured), [configured]);
        headers.insert(
            "x-append-notification",
            "https://a.example/hook, not a url ,https://b.example/hook"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            notification_urls(&headers, configured),
            [
                configured,
                "https://a.example/hook",
                "https://b.example/hook"
            ]
        );
        headers.insert(
            "x-override-notification",
            "https://1.example/h,https://2.example/h,https://3.example/h,https://4.example/h"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            notification_urls(&headers, configured),
            [
                "https://1.example/h",
                "https://2.example/h",
                "https://3.example/h"
            ]
        );
    }
}
