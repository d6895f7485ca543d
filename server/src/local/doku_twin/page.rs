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
use crate::local::hosted_checkout::{Button, Gateway, MethodChoice, OpenPage, see_other};

const GATEWAY: Gateway = Gateway {
    title: PAGE_TITLE,
    testid: "doku",
    reference_label: "Invoice number",
    fail_button: ("fail", "Fail"),
};

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
            invoice_number: t.order.invoice_number.clone(),
            amount: t.order.amount,
            expires_at: t.order.expires_at,
            status: t.status,
            channel: t.channel,
            channels: t.order.channels.clone(),
            callback_url: t.order.callback_url.clone(),
        })
    }
}

pub(super) async fn show(State(twin): State<Twin>, Path(token): Path<String>) -> Response {
    page(&twin, &token, StatusCode::OK)
}

pub(super) async fn act(
    State(twin): State<Twin>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Some(view) = twin.view(&token) else {
        return GATEWAY.not_found_page();
    };
    let offered = |text: Option<&str>| match text {
        None => Some(
            view.channels
                .first()
                .copied()
                .unwrap_or(Channel::VirtualAccountBca),
        ),
        Some(text) => Channel::parse(text).filter(|c| view.channels.contains(c)),
    };
    let (button, channel) = match GATEWAY.read_form(&body, offered) {
        Ok(form) => form,
        Err(why) => return GATEWAY.bad_request_page(why),
    };
    let action = match button {
        Button::Pay => Action::Pay { channel },
        Button::Fail => Action::Fail {
            channel: Some(channel),
        },
        Button::Expire => Action::Expire {
            channel: Some(channel),
        },
    };
    let status = match twin.act(&view.invoice_number, action, true) {
        Ok(acted) => match acted.callback_url {
            Some(callback_url) => return see_other(&callback_url),
            None => StatusCode::OK,
        },
        Err(NotActed::UnknownInvoice) => return GATEWAY.not_found_page(),
        Err(NotActed::Refused(_)) => StatusCode::CONFLICT,
    };
    page(&twin, &token, status)
}

/// The page of the order with `token`, answered with `status_code`.
fn page(twin: &Twin, token: &str, status_code: StatusCode) -> Response {
    twin.view(token).map_or_else(
        || GATEWAY.not_found_page(),
        |view| render(&view, status_code),
    )
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
