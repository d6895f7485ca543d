//! The hosted payment page, `GET` and `POST /snap/v4/redirection/{token}`.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};

use super::{
    Acted, NotActed, PAGE_TITLE, Twin,
    transaction::{Action, Method, Stage, Status},
};
use crate::local::hosted_checkout::{
    Button, Gateway, MethodChoice, OpenPage, see_other, with_query,
};

const GATEWAY: Gateway = Gateway {
    title: PAGE_TITLE,
    testid: "midtrans",
    reference_label: "Order ID",
    fail_button: ("deny", "Decline"),
};

const METHODS: [MethodChoice; 4] = [
    choice(Method::BankTransfer),
    choice(Method::Qris),
    choice(Method::Gopay),
    choice(Method::CreditCard),
];

const fn choice(method: Method) -> MethodChoice {
    MethodChoice {
        value: method.as_str(),
        label: method.label(),
    }
}

/// What the page shows of a transaction.
struct View {
    order_id: String,
    gross_amount: i64,
    expires_at: DateTime<Utc>,
    stage: Stage,
    method: Option<Method>,
    finish_url: Option<String>,
}

impl Twin {
    fn view(&self, token: &str) -> Option<View> {
        let order_id = self.book.reference_of_token(token)?;
        self.book.with(&order_id, |t| View {
            order_id: t.order_id.clone(),
            gross_amount: t.gross_amount,
            expires_at: t.expires_at,
            stage: t.stage,
            method: t.method,
            finish_url: t.finish_url.clone(),
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
    let Some(order_id) = twin.book.reference_of_token(&token) else {
        return GATEWAY.not_found_page();
    };
    let chosen = |text: Option<&str>| text.map_or(Some(Method::BankTransfer), Method::parse);
    let (button, method) = match GATEWAY.read_form(&body, chosen) {
        Ok(form) => form,
        Err(why) => return GATEWAY.bad_request_page(why),
    };
    let action = match button {
        Button::Pay => Action::Pay {
            method,
            settle: true,
        },
        Button::Fail => Action::Deny {
            method: Some(method),
        },
        Button::Expire => Action::Expire {
            method: Some(method),
        },
    };
    let status = match twin.act(&order_id, action, true) {
        Ok(Acted {
            finish_url: Some(finish),
            current: Some(status),
            ..
        }) => return see_other(&finish_redirect(&finish, &order_id, status)),
        Ok(_) => StatusCode::OK,
        Err(NotActed::UnknownOrder) => return GATEWAY.not_found_page(),
        Err(NotActed::Refused(_)) => StatusCode::CONFLICT,
    };
    page(&twin, &token, status)
}

/// The page of the transaction with `token`, answered with `status_code`.
fn page(twin: &Twin, token: &str, status_code: StatusCode) -> Response {
    twin.view(token).map_or_else(
        || GATEWAY.not_found_page(),
        |view| render(&view, status_code),
    )
}

/// Snap's return to the merchant: `callbacks.finish` with the outcome in the query.
fn finish_redirect(finish: &str, order_id: &str, status: Status) -> String {
    with_query(
        finish,
        &[
            ("order_id", order_id),
            ("status_code", status.code()),
            ("transaction_status", status.as_str()),
        ],
    )
}

fn render(view: &View, status_code: StatusCode) -> Response {
    let closed = |state: &str, explanation: &str, status: Option<Status>| {
        let back = match (&view.finish_url, status) {
            (Some(finish), Some(status)) => Some(finish_redirect(finish, &view.order_id, status)),
            (Some(finish), None) => Some(finish.clone()),
            (None, _) => None,
        };
        GATEWAY.closed_page(
            status_code,
            &view.order_id,
            view.gross_amount,
            state,
            explanation,
            back.as_deref(),
        )
    };
    match view.stage {
        Stage::Open | Stage::Known(Status::Pending) => {
            let notice = match (view.stage, view.method) {
                (Stage::Known(Status::Pending), Some(method)) => Some(format!(
                    "Waiting for your {} payment. Press Pay to complete it.",
                    method.label()
                )),
                _ => None,
            };
            GATEWAY.open_page(&OpenPage {
                reference: &view.order_id,
                amount: view.gross_amount,
                pay_before: view.expires_at,
                methods: &METHODS,
                selected: view.method.map(Method::as_str),
                notice: notice.as_deref(),
            })
        }
        Stage::Known(status @ (Status::Settlement | Status::Capture)) => closed(
            "Paid",
            "The payment succeeded and the merchant has been notified.",
            Some(status),
        ),
        Stage::Known(status @ Status::Deny) => closed(
            "Declined",
            "The payment was declined. Start a new payment from the merchant's site.",
            Some(status),
        ),
        Stage::Known(status @ Status::Expire) => closed(
            "Expired",
            "The payment was not made in time. Start a new payment from the merchant's site.",
            Some(status),
        ),
        Stage::Lapsed => closed(
            "Expired",
            "This payment page expired before a payment method was chosen.",
            None,
        ),
    }
}
