//! The hosted payment page, `GET` and `POST /checkout-link-v2/{token}`.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};

use super::{
    NotActed, PAGE_TITLE, Twin,
    transaction::{Action, Channel, Status},
};
use crate::local::hosted_checkout::{
    EXPIRE, Gateway, MethodChoice, OpenPage, PAY, PageAction, see_other,
};

const GATEWAY: Gateway = Gateway {
    title: PAGE_TITLE,
    testid: "doku",
    reference_label: "Invoice number",
};

/// The failing action.
const FAIL: &str = "fail";

const fn choice(channel: Channel) -> MethodChoice {
    MethodChoice {
        value: channel.as_str(),
        label: channel.label(),
    }
}

/// What the page shows of an order.
struct View {
    invoice_number: String,
    amount: i64,
    expires_at: DateTime<Utc>,
    status: Status,
    channel: Option<Channel>,
    channels: Vec<Channel>,
    callback_url: Option<String>,
}

impl Twin {
    fn view(&self, token: &str) -> Option<View> {
        let invoice_number = self.book.reference_of_token(token)?;
        self.book.with(&invoice_number, |t| View {
            invoice_number: t.invoice_number.clone(),
            amount: t.amount,
            expires_at: t.expires_at,
            status: t.status,
            channel: t.channel,
            channels: t.channels.clone(),
            callback_url: t.callback_url.clone(),
        })
    }
}

pub(super) async fn show(State(twin): State<Twin>, Path(token): Path<String>) -> Response {
    match twin.view(&token) {
        Some(view) => render(&view, StatusCode::OK),
        None => GATEWAY.not_found_page(),
    }
}

pub(super) async fn act(
    State(twin): State<Twin>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Some(view) = twin.view(&token) else {
        return GATEWAY.not_found_page();
    };
    let Some(form) = PageAction::parse(&body) else {
        return GATEWAY.bad_request_page("The form sent no action.");
    };
    let channel = match form.method.as_deref() {
        None => view
            .channels
            .first()
            .copied()
            .unwrap_or(Channel::VirtualAccountBca),
        Some(text) => match Channel::parse(text).filter(|c| view.channels.contains(c)) {
            Some(channel) => channel,
            None => return GATEWAY.bad_request_page("That payment method is not offered."),
        },
    };
    let action = match form.action.as_str() {
        PAY => Action::Pay { channel },
        FAIL => Action::Fail {
            channel: Some(channel),
        },
        EXPIRE => Action::Expire {
            channel: Some(channel),
        },
        _ => return GATEWAY.bad_request_page("The form sent an unknown action."),
    };
    let outcome = twin.act(&view.invoice_number, action, true);
    let status = match outcome {
        Ok(acted) => match acted.callback_url {
            Some(callback_url) => return see_other(&callback_url),
            None => StatusCode::OK,
        },
        Err(NotActed::UnknownInvoice) => return GATEWAY.not_found_page(),
        Err(NotActed::Refused(_)) => StatusCode::CONFLICT,
    };
    match twin.view(&token) {
        Some(view) => render(&view, status),
        None => GATEWAY.not_found_page(),
    }
}

fn render(view: &View, status_code: StatusCode) -> Response {
    let closed = |state: &str, explanation: &str| {
        GATEWAY.closed_page(
            status_code,
            &view.invoice_number,
            view.amount,
            state,
            explanation,
            view.callback_url.as_deref(),
        )
    };
    match view.status {
        Status::Pending | Status::Failed => {
            let methods: Vec<MethodChoice> = view.channels.iter().map(|c| choice(*c)).collect();
            let notice = (view.status == Status::Failed)
                .then_some("The last payment attempt failed. Choose a method to try again.");
            GATEWAY.open_page(&OpenPage {
                reference: &view.invoice_number,
                amount: view.amount,
                pay_before: view.expires_at,
                methods: &methods,
                selected: view.channel.map(Channel::as_str),
                fail_action: (FAIL, "Fail"),
                notice,
            })
        }
        Status::Success => closed(
            "Paid",
            "The payment succeeded and the merchant has been notified.",
        ),
        Status::Expired => closed(
            "Expired",
            "The payment was not made in time. Start a new payment from the merchant's site.",
        ),
    }
}
