//! The `/_twin/` control endpoints (see the module documentation): the page's buttons without
//! a browser, and notifications resent on demand.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    Acted, NotActed, Twin,
    transaction::{Action, Method, Status},
};
use crate::local::{
    payment_notifier::Notification,
    twin_control::{ControlError, action_options, notify_options, one_of, options},
};

const UNKNOWN_ORDER: ControlError =
    ControlError::UnknownReference("no transaction has this order id");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayOptions {
    method: Option<String>,
    notify: Option<bool>,
    settle: Option<bool>,
}

fn method(text: Option<&str>) -> Result<Option<Method>, ControlError> {
    one_of(
        "method",
        text,
        Method::parse,
        "bank_transfer, qris, gopay or credit_card",
    )
}

fn status(text: Option<&str>) -> Result<Option<Status>, ControlError> {
    one_of(
        "status",
        text,
        Status::parse,
        "pending, settlement, capture, deny or expire",
    )
}

pub(super) async fn pay(
    State(twin): State<Twin>,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: PayOptions = options(&body)?;
    let action = Action::Pay {
        method: method(options.method.as_deref())?.unwrap_or(Method::BankTransfer),
        settle: options.settle.unwrap_or(true),
    };
    act(&twin, &order_id, action, options.notify.unwrap_or(true))
}

pub(super) async fn deny(
    State(twin): State<Twin>,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (method, notify) = action_options(&body, method)?;
    act(&twin, &order_id, Action::Deny { method }, notify)
}

pub(super) async fn expire(
    State(twin): State<Twin>,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (method, notify) = action_options(&body, method)?;
    act(&twin, &order_id, Action::Expire { method }, notify)
}

fn act(
    twin: &Twin,
    order_id: &str,
    action: Action,
    notify: bool,
) -> Result<Response, ControlError> {
    match twin.act(order_id, action, notify) {
        Ok(Acted {
            notified, current, ..
        }) => Ok(Json(json!({
            "order_id": order_id,
            "transaction_status": current.map(Status::as_str),
            "status_code": current.map(Status::code),
            "notified": notified.into_iter().map(Status::as_str).collect::<Vec<_>>(),
        }))
        .into_response()),
        Err(NotActed::UnknownOrder) => Err(UNKNOWN_ORDER),
        Err(NotActed::Refused(refusal)) => Err(ControlError::Conflict(refusal.message())),
    }
}

pub(super) async fn notify(
    State(twin): State<Twin>,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (times, wanted) = notify_options(&body, status)?;
    let (status, notifications) = twin
        .book
        .with(&order_id, |t| {
            let Some((status, _)) = t.event(wanted) else {
                return Err(ControlError::Conflict(match wanted {
                    Some(wanted) => format!("this transaction has never been {}", wanted.as_str()),
                    None => "nothing to notify: no payment method has been chosen yet".into(),
                }));
            };
            let body = t
                .notification_bytes(status)
                .ok_or_else(|| ControlError::Conflict("nothing to notify".into()))?;
            let notifications: Vec<Notification> = t
                .notification_urls
                .iter()
                .map(|url| {
                    Notification::new(
                        url.clone(),
                        body.clone(),
                        format!("{order_id} {} (resent)", status.as_str()),
                        axum::http::HeaderMap::new,
                    )
                })
                .collect();
            Ok((status, notifications))
        })
        .ok_or(UNKNOWN_ORDER)??;
    let mut deliveries = Vec::new();
    for notification in &notifications {
        deliveries.extend(twin.notifier.burst(notification, times).await);
    }
    Ok(Json(json!({
        "order_id": order_id,
        "transaction_status": status.as_str(),
        "deliveries": deliveries,
    }))
    .into_response())
}
