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
    transaction::{Action, Channel, Status},
};
use crate::local::hosted_checkout::{burst_size, control_options};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionOptions {
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

fn channel(text: Option<&str>) -> Result<Option<Channel>, ControlError> {
    text.map(|text| {
        Channel::parse(text).ok_or_else(|| {
            ControlError::Invalid(format!(
                "unknown method {text:?}: use VIRTUAL_ACCOUNT_BCA, QRIS or CREDIT_CARD"
            ))
        })
    })
    .transpose()
}

pub(super) async fn pay(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: ActionOptions = options(&body)?;
    let channel = channel(options.method.as_deref())?.unwrap_or(Channel::VirtualAccountBca);
    act(
        &twin,
        &invoice_number,
        Action::Pay { channel },
        options.notify,
    )
}

pub(super) async fn fail(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: ActionOptions = options(&body)?;
    let channel = channel(options.method.as_deref())?;
    act(
        &twin,
        &invoice_number,
        Action::Fail { channel },
        options.notify,
    )
}

pub(super) async fn expire(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: ActionOptions = options(&body)?;
    let channel = channel(options.method.as_deref())?;
    act(
        &twin,
        &invoice_number,
        Action::Expire { channel },
        options.notify,
    )
}

fn act(
    twin: &Twin,
    invoice_number: &str,
    action: Action,
    notify: Option<bool>,
) -> Result<Response, ControlError> {
    let notify = notify.unwrap_or(true);
    match twin.act(invoice_number, action, notify) {
        Ok(Acted {
            reached, current, ..
        }) => {
            let notified: Vec<&str> = if notify {
                reached.iter().map(|s| s.as_str()).collect()
            } else {
                Vec::new()
            };
            Ok(Json(json!({
                "invoice_number": invoice_number,
                "transaction_status": current.as_str(),
                "notified": notified,
            }))
            .into_response())
        }
        Err(NotActed::UnknownInvoice) => Err(ControlError::UnknownInvoice),
        Err(NotActed::Refused(refusal)) => Err(ControlError::Conflict(refusal.message())),
    }
}

pub(super) async fn notify(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let options: NotifyOptions = options(&body)?;
    let times = burst_size(options.times).map_err(ControlError::Invalid)?;
    let wanted = options
        .status
        .as_deref()
        .map(|text| {
            Status::parse(text)
                .filter(|s| *s != Status::Pending)
                .ok_or_else(|| {
                    ControlError::Invalid(format!(
                        "unknown status {text:?}: use SUCCESS, FAILED or EXPIRED"
                    ))
                })
        })
        .transpose()?;
    let (status, request_id, notification) = twin
        .book
        .with(&invoice_number, |t| {
            let Some(event) = t.event(wanted) else {
                return Err(ControlError::Conflict(match wanted {
                    Some(wanted) => format!("this order has never been {}", wanted.as_str()),
                    None => "nothing to notify: the order is still PENDING".into(),
                }));
            };
            Ok((
                event.status,
                event.request_id.clone(),
                twin.notification(t, event),
            ))
        })
        .ok_or(ControlError::UnknownInvoice)??;
    let notification = notification
        .ok_or_else(|| ControlError::Conflict("no notification URL is configured".into()))?;
    let deliveries = twin.notifier.burst(&notification, times).await;
    Ok(Json(json!({
        "invoice_number": invoice_number,
        "transaction_status": status.as_str(),
        "request_id": request_id,
        "deliveries": deliveries,
    }))
    .into_response())
}
