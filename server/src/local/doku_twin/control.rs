//! The `/_twin/` control endpoints (see the module documentation): the page's buttons without
//! a browser, and notifications resent on demand.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    Acted, NotActed, Twin,
    transaction::{Action, Channel, Status},
};
use crate::local::twin_control::{ControlError, action_options, notify_options, one_of};

const UNKNOWN_INVOICE: ControlError =
    ControlError::UnknownReference("no checkout has this invoice number");

fn channel(text: Option<&str>) -> Result<Option<Channel>, ControlError> {
    one_of(
        "method",
        text,
        Channel::parse,
        "VIRTUAL_ACCOUNT_BCA, QRIS or CREDIT_CARD",
    )
}

/// A status a notification tells (every one but `PENDING`).
fn notified_status(text: Option<&str>) -> Result<Option<Status>, ControlError> {
    one_of(
        "status",
        text,
        |text| Status::parse(text).filter(|s| *s != Status::Pending),
        "SUCCESS, FAILED or EXPIRED",
    )
}

pub(super) async fn pay(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (channel, notify) = action_options(&body, channel)?;
    let channel = channel.unwrap_or(Channel::VirtualAccountBca);
    act(&twin, &invoice_number, Action::Pay { channel }, notify)
}

pub(super) async fn fail(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (channel, notify) = action_options(&body, channel)?;
    act(&twin, &invoice_number, Action::Fail { channel }, notify)
}

pub(super) async fn expire(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (channel, notify) = action_options(&body, channel)?;
    act(&twin, &invoice_number, Action::Expire { channel }, notify)
}

fn act(
    twin: &Twin,
    invoice_number: &str,
    action: Action,
    notify: bool,
) -> Result<Response, ControlError> {
    match twin.act(invoice_number, action, notify) {
        Ok(Acted {
            notified, current, ..
        }) => Ok(Json(json!({
            "invoice_number": invoice_number,
            "transaction_status": current.as_str(),
            "notified": notified.into_iter().map(Status::as_str).collect::<Vec<_>>(),
        }))
        .into_response()),
        Err(NotActed::UnknownInvoice) => Err(UNKNOWN_INVOICE),
        Err(NotActed::Refused(refusal)) => Err(ControlError::Conflict(refusal.message())),
    }
}

pub(super) async fn notify(
    State(twin): State<Twin>,
    Path(invoice_number): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (times, wanted) = notify_options(&body, notified_status)?;
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
        .ok_or(UNKNOWN_INVOICE)??;
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
