//! `POST /checkout/v1/payment` → 200 `{"message": ["SUCCESS"], "response": {...}}`.
//!
//! After the signed headers ([`signed`](super::signed)): `order {amount (integer ≥ 1),
//! invoice_number (at most 64 of A-Z a-z 0-9 - _ .), callback_url?, line_items[]? (their
//! price × quantity adding up to amount)}`, `payment {payment_due_date (minutes ≥ 1, default
//! 60), payment_method_types[]?}`, `customer {id?, name?, email?}?`; every problem reported at
//! once. Then a reused `invoice_number` is refused.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    Twin,
    error::DokuError,
    signed::{self, SignedCall},
    transaction::{Channel, Order, Transaction},
};
use crate::local::hosted_checkout::{is_web_url, jakarta};

/// The path a client signs as `Request-Target`.
pub(super) const CHECKOUT_PATH: &str = "/checkout/v1/payment";
/// DOKU's limit on `invoice_number`.
const INVOICE_NUMBER_MAX: usize = 64;
/// The payment window when the request names none, in minutes.
const DEFAULT_DUE_MINUTES: i64 = 60;
/// The longest payment window the twin accepts (DOKU's own ceiling is not documented).
const DUE_MINUTES_MAX: i64 = 366 * 24 * 60;

/// A checkout request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CheckoutRequest {
    pub(super) invoice_number: String,
    pub(super) amount: i64,
    pub(super) callback_url: Option<String>,
    pub(super) due_minutes: i64,
    /// The request's `payment_method_types`, as sent.
    pub(super) method_types: Option<Vec<String>>,
    pub(super) line_items: Option<Value>,
    pub(super) customer: Option<Value>,
    pub(super) session_id: Option<String>,
}

pub(super) async fn create(
    State(twin): State<Twin>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DokuError> {
    let now = Utc::now();
    let call = signed::verify(&headers, &twin.config, CHECKOUT_PATH, Some(&body), now)?;
    let request = parse(&body).map_err(DokuError::Invalid)?;
    let offered: Vec<Channel> = request
        .method_types
        .iter()
        .flatten()
        .filter_map(|name| Channel::parse(name))
        .collect();
    let expires_at = now + Duration::minutes(request.due_minutes);
    let transaction = Transaction::new(Order {
        invoice_number: request.invoice_number.clone(),
        amount: request.amount,
        original_request_id: call.request_id.clone(),
        callback_url: request.callback_url.clone(),
        created_at: now,
        expires_at,
        channels: if offered.is_empty() {
            Channel::ALL.to_vec()
        } else {
            offered
        },
    });
    let token = transaction.token.clone();
    twin.book
        .insert(&request.invoice_number, &token, transaction)
        .map_err(|_| DokuError::Invalid(vec!["order.invoice_number is already used".into()]))?;
    twin.schedule_expiry(
        request.invoice_number.clone(),
        expires_at,
        Twin::expire_if_due,
    );
    let url = format!(
        "{}/checkout-link-v2/{token}",
        twin.config.public_url.trim_end_matches('/')
    );
    Ok(Json(answer(&request, &call, &token, &url, expires_at)).into_response())
}

/// DOKU's success answer.
fn answer(
    request: &CheckoutRequest,
    call: &SignedCall,
    token: &str,
    url: &str,
    expires_at: DateTime<Utc>,
) -> Value {
    let method_types = request.method_types.clone().unwrap_or_else(|| {
        Channel::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect()
    });
    let mut order = json!({
        "amount": request.amount.to_string(),
        "invoice_number": request.invoice_number,
        "currency": "IDR",
        "session_id": request
            .session_id
            .clone()
            .unwrap_or_else(|| Uuid::new_v4().simple().to_string()),
    });
    if let Value::Object(order) = &mut order {
        if let Some(callback_url) = &request.callback_url {
            order.insert("callback_url".into(), callback_url.clone().into());
        }
        if let Some(line_items) = &request.line_items {
            order.insert("line_items".into(), line_items.clone());
        }
    }
    let mut response = json!({
        "order": order,
        "payment": {
            "payment_method_types": method_types,
            "payment_due_date": request.due_minutes,
            "token_id": token,
            "url": url,
            "expired_date": jakarta(expires_at).format("%Y%m%d%H%M%S").to_string(),
        },
        // DOKU's numeric id of the order; a positive 63-bit number.
        "uuid": (Uuid::new_v4().as_u128() >> 65) as u64,
        "headers": {
            "request_id": call.request_id,
            "signature": call.signature,
            "date": call.timestamp,
            "client_id": call.client_id,
        },
    });
    if let (Some(customer), Value::Object(response)) = (&request.customer, &mut response) {
        response.insert("customer".into(), customer.clone());
    }
    json!({"message": ["SUCCESS"], "response": response})
}

/// An integer as DOKU reads amounts: a JSON integer, or a number or string of one.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|n| n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15)
                .map(|n| n as i64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn object<'a>(
    request: &'a Map<String, Value>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<&'a Map<String, Value>> {
    match request.get(name) {
        Some(Value::Object(object)) => Some(object),
        None | Some(Value::Null) => None,
        Some(_) => {
            problems.push(format!("{name} must be an object"));
            None
        }
    }
}

/// Checks a checkout request body; every problem found.
pub(super) fn parse(body: &[u8]) -> Result<CheckoutRequest, Vec<String>> {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Err(vec!["Invalid JSON request body".into()]);
    };
    let mut problems = Vec::new();
    let order = object(&request, "order", &mut problems);
    if order.is_none() && problems.is_empty() {
        problems.push("order is required".into());
    }
    let payment = object(&request, "payment", &mut problems);
    let customer = object(&request, "customer", &mut problems);

    let amount = order.and_then(|order| match order.get("amount") {
        None | Some(Value::Null) => {
            problems.push("order.amount is required".into());
            None
        }
        Some(value) => match integer(value) {
            Some(amount) if amount >= 1 => Some(amount),
            Some(_) => {
                problems.push("order.amount must be greater than 0".into());
                None
            }
            None => {
                problems.push("order.amount must be an integer".into());
                None
            }
        },
    });
    let invoice_number = order.and_then(|order| match order.get("invoice_number") {
        Some(Value::String(invoice)) if !invoice.is_empty() => {
            let before = problems.len();
            if invoice.chars().count() > INVOICE_NUMBER_MAX {
                problems.push(format!(
                    "order.invoice_number must be at most {INVOICE_NUMBER_MAX} characters"
                ));
            }
            if !invoice
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                problems.push(
                    "order.invoice_number may only contain letters, digits, '-', '_' and '.'"
                        .into(),
                );
            }
            (problems.len() == before).then(|| invoice.clone())
        }
        _ => {
            problems.push("order.invoice_number is required".into());
            None
        }
    });
    let callback_url = order.and_then(|order| match order.get("callback_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) if is_web_url(url) => Some(url.clone()),
        Some(_) => {
            problems.push("order.callback_url is not a valid URL".into());
            None
        }
    });
    let line_items = order.and_then(|order| order.get("line_items")).cloned();
    if let (Some(items), Some(amount)) = (&line_items, amount) {
        check_line_items(items, amount, &mut problems);
    }
    let session_id = order
        .and_then(|order| order.get("session_id"))
        .and_then(Value::as_str)
        .map(str::to_string);

    let due_minutes = match payment.and_then(|p| p.get("payment_due_date")) {
        None | Some(Value::Null) => Some(DEFAULT_DUE_MINUTES),
        Some(value) => match integer(value) {
            Some(minutes) if (1..=DUE_MINUTES_MAX).contains(&minutes) => Some(minutes),
            _ => {
                problems.push(format!(
                    "payment.payment_due_date must be a number of minutes from 1 to {DUE_MINUTES_MAX}"
                ));
                None
            }
        },
    };
    let method_types = match payment.and_then(|p| p.get("payment_method_types")) {
        None | Some(Value::Null) => None,
        Some(Value::Array(types)) if types.iter().all(Value::is_string) => Some(
            types
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        Some(_) => {
            problems.push("payment.payment_method_types must be an array of strings".into());
            None
        }
    };
    if let Some(email) = customer.and_then(|c| c.get("email")) {
        let valid = email.as_str().is_some_and(|email| {
            email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        });
        if !valid && !email.is_null() {
            problems.push("customer.email is not a valid email address".into());
        }
    }

    match (invoice_number, amount, due_minutes) {
        (Some(invoice_number), Some(amount), Some(due_minutes)) if problems.is_empty() => {
            Ok(CheckoutRequest {
                invoice_number,
                amount,
                callback_url,
                due_minutes,
                method_types,
                line_items,
                customer: customer.map(|c| Value::Object(c.clone())),
                session_id,
            })
        }
        _ => Err(problems),
    }
}

/// `line_items`: each with an integer `price` and a positive integer `quantity`, adding up to
/// `amount`.
fn check_line_items(items: &Value, amount: i64, problems: &mut Vec<String>) {
    let Value::Array(items) = items else {
        problems.push("order.line_items must be an array".into());
        return;
    };
    let before = problems.len();
    let mut total = Some(0i64);
    for (i, item) in items.iter().enumerate() {
        let price = item.get("price").and_then(integer);
        let quantity = item.get("quantity").and_then(integer).filter(|q| *q >= 1);
        if price.is_none() {
            problems.push(format!("order.line_items[{i}].price must be an integer"));
        }
        if quantity.is_none() {
            problems.push(format!(
                "order.line_items[{i}].quantity must be an integer of at least 1"
            ));
        }
        if item
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!("order.line_items[{i}].name is required"));
        }
        total = match (total, price, quantity) {
            (Some(total), Some(price), Some(quantity)) => price
                .checked_mul(quantity)
                .and_then(|line| total.checked_add(line)),
            _ => None,
        };
    }
    if problems.len() == before && total != Some(amount) {
        problems.push("order.amount must equal the total of order.line_items".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(body: Value) -> Vec<String> {
        parse(body.to_string().as_bytes()).unwrap_err()
    }

    #[test]
    fn a_minimal_request_is_due_in_an_hour() {
        let request = parse(br#"{"order":{"amount":99000,"invoice_number":"INV-1"}}"#).unwrap();
        assert_eq!(request.invoice_number, "INV-1");
        assert_eq!(request.amount, 99_000);
        assert_eq!(request.due_minutes, 60);
        assert_eq!(request.method_types, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        assert_eq!(problems(json!({})), ["order is required"]);
        let found = problems(json!({
            "order": {"amount": 0, "invoice_number": "INV 1/2", "callback_url": "ftp://x"},
            "payment": {"payment_due_date": 0, "payment_method_types": "QRIS"},
            "customer": {"email": "nope"},
        }));
        assert_eq!(found.len(), 6, "{found:?}");
        let long = "I".repeat(65);
        assert!(
            problems(json!({"order": {"amount": 1, "invoice_number": long}}))[0]
                .contains("at most 64")
        );
    }

    #[test]
    fn line_items_must_add_up_to_the_amount() {
        let body = |price: i64| {
            json!({"order": {"amount": 99000, "invoice_number": "INV-1", "line_items": [
                {"name": "Kilat Pro", "price": price, "quantity": 1},
                {"name": "Tax", "price": 9000, "quantity": 1},
            ]}})
        };
        assert!(parse(body(90000).to_string().as_bytes()).is_ok());
        assert_eq!(
            problems(body(1)),
            ["order.amount must equal the total of order.line_items"]
        );
    }

    #[test]
    fn hostile_bodies_are_refused_not_panicked_on() {
        for body in [
            &b""[..],
            b"[]",
            b"{\"order\":[]}",
            b"{\"order\":{\"amount\":1e400,\"invoice_number\":{}}}",
            b"{\"order\":{\"amount\":1,\"invoice_number\":\"x\",\"line_items\":[{\"price\":9223372036854775807,\"quantity\":2,\"name\":\"x\"}]}}",
            b"\xff",
        ] {
            assert!(parse(body).is_err(), "{body:?}");
        }
    }
}
