//! The `/_twin/` control endpoints (see the module documentation): the page's buttons without
//! a browser, and notifications resent on demand.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::json;

use super::{
    Acted, NotActed, Twin,
    error::ControlError,
    transaction::{Action, Method, Status},
};
use crate::local::{
    hosted_checkout::{burst_size, control_options},
    payment_notifier::Notification,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayOptions {
    method: Option<String>,
    notify: Option<bool>,
    settle: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndOptions {
    method: Option<String>,
    notify: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyOptions {
    times: Option<u64>,
    status: Option<String>,
}

fn options<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ControlError> {
    control_options(body).map_err(ControlError::Invalid)
}

fn method(text: Option<&str>) -> Result<Option<Method>, ControlError> {
    text.map(|text| {
        Method::parse(text).ok_or_else(|| {
            ControlError::Invalid(format!(
                "unknown method {text:?}: use bank_transfer, qris, gopay or credit_card"
            ))
        })
    })
    .transpose()
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
    let options: EndOptions = options(&body)?;
    let action = Action::Deny {
        method: method(options.method.as_deref())?,
    };
    act(&twin, &order_id, action, options.notify.unwrap_or(true))
}

pub(super) async fn expire(
    State(twin): State<Twin>,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: EndOptions = options(&body)?;
    let action = Action::Expire {
        method: method(options.method.as_deref())?,
    };
    act(&twin, &order_id, action, options.notify.unwrap_or(true))
}

fn act(
    twin: &Twin,
    order_id: &str,
    action: Action,
    notify: bool,
) -> Result<Response, ControlError> {
    match twin.act(order_id, action, notify) {
        Ok(Acted {
            reached, current, ..
        }) => {
            let notified: Vec<&str> = if notify {
                reached.iter().map(|s| s.as_str()).collect()
            } else {
                Vec::new()
            };
            Ok(Json(json!({
                "order_id": order_id,
                "transaction_status": current.map(Status::as_str),
                "status_code": current.map(Status::code),
                "notified": notified,
            }))
            .into_response())
        }
        Err(NotActed::UnknownOrder) => Err(ControlError::UnknownOrder),
        Err(NotActed::Refused(refusal)) => Err(ControlError::Conflict(refusal.message())),
    }
}

pub(super) async fn notify(
    State(twin): State<Twin>,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: NotifyOptions = options(&body)?;
    let times = burst_size(options.times).map_err(ControlError::Invalid)?;
    let wanted = options
        .status
        .as_deref()
        .map(|text| {
            Status::parse(text).ok_or_else(|| {
                ControlError::Invalid(format!(
                    "unknown status {text:?}: use pending, settlement, capture, deny or expire"
                ))
            })
        })
        .transpose()?;
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
        .ok_or(ControlError::UnknownOrder)??;
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
