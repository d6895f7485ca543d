//! A DOKU Checkout order's life: `PENDING`, then `SUCCESS`, `FAILED` (the payer may try
//! again) or `EXPIRED`, and the notification each status reached is (kept as first made, with
//! its `Request-Id`, so a resend is the same notification).

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::TIMESTAMP_FORMAT;

/// A payment method (DOKU's `payment_method_types` / `channel.id`) the page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Channel {
    VirtualAccountBca,
    Qris,
    CreditCard,
}

impl Channel {
    pub(super) const ALL: [Channel; 3] = [
        Channel::VirtualAccountBca,
        Channel::Qris,
        Channel::CreditCard,
    ];

    /// DOKU's name, any case.
    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text))
    }

    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Channel::VirtualAccountBca => "VIRTUAL_ACCOUNT_BCA",
            Channel::Qris => "QRIS",
            Channel::CreditCard => "CREDIT_CARD",
        }
    }

    pub(super) const fn label(self) -> &'static str {
        match self {
            Channel::VirtualAccountBca => "BCA Virtual Account",
            Channel::Qris => "QRIS",
            Channel::CreditCard => "Credit or debit card",
        }
    }

    fn service(self) -> &'static str {
        match self {
            Channel::VirtualAccountBca => "VIRTUAL_ACCOUNT",
            Channel::Qris => "QRIS",
            Channel::CreditCard => "CREDIT_CARD",
        }
    }

    fn acquirer(self) -> &'static str {
        match self {
            Channel::VirtualAccountBca => "BCA",
            Channel::Qris => "NOBU",
            Channel::CreditCard => "BRI",
        }
    }
}

/// A `transaction.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Pending,
    Success,
    Failed,
    Expired,
}

impl Status {
    const ALL: [Status; 4] = [
        Status::Pending,
        Status::Success,
        Status::Failed,
        Status::Expired,
    ];

    /// DOKU's name, any case.
    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
            Status::Expired => "EXPIRED",
        }
    }

    /// Whether nothing can happen to the order any more.
    pub(super) fn is_final(self) -> bool {
        matches!(self, Status::Success | Status::Expired)
    }
}

/// What the payer (or a control endpoint) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Pay { channel: Channel },
    Fail { channel: Option<Channel> },
    Expire { channel: Option<Channel> },
}

/// Why an action is not possible: the order is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refusal(pub(super) Status);

impl Refusal {
    pub(super) fn message(self) -> String {
        format!(
            "this order is already final (transaction.status {})",
            self.0.as_str()
        )
    }
}

/// A notification: the status it tells, its `Request-Id`, and its exact body.
#[derive(Debug, Clone)]
pub(super) struct Event {
    pub(super) status: Status,
    pub(super) request_id: String,
    pub(super) body: Bytes,
}

/// What the create call asked for.
pub(super) struct Order {
    pub(super) invoice_number: String,
    pub(super) amount: i64,
    pub(super) original_request_id: String,
    pub(super) callback_url: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) expires_at: DateTime<Utc>,
    /// The methods the page offers (the request's, where the twin has them).
    pub(super) channels: Vec<Channel>,
}

pub(super) struct Transaction {
    pub(super) order: Order,
    pub(super) token: String,
    pub(super) status: Status,
    pub(super) channel: Option<Channel>,
    events: Vec<Event>,
    /// Stable per order, for the virtual account number and card approval code.
    seed: u128,
}

impl Transaction {
    pub(super) fn new(order: Order) -> Self {
        Self {
            order,
            token: Uuid::new_v4().simple().to_string(),
            status: Status::Pending,
            channel: None,
            events: Vec::new(),
            seed: Uuid::new_v4().as_u128(),
        }
    }

    /// Applies `action` at `now`: the statuses reached, in order.
    pub(super) fn apply(
        &mut self,
        action: Action,
        now: DateTime<Utc>,
    ) -> Result<Vec<Status>, Refusal> {
        if self.status.is_final() {
            return Err(Refusal(self.status));
        }
        let (status, channel) = match action {
            Action::Pay { channel } => (Status::Success, Some(channel)),
            Action::Fail { channel } => (
                Status::Failed,
                Some(channel.or(self.channel).unwrap_or(Channel::CreditCard)),
            ),
            Action::Expire { channel } => (Status::Expired, channel.or(self.channel)),
        };
        self.channel = channel;
        self.status = status;
        let body = self.notification(status, now);
        self.events.push(Event {
            status,
            request_id: Uuid::new_v4().to_string(),
            body,
        });
        Ok(vec![status])
    }

    /// Expires the order if its due date has passed while it could still be paid.
    pub(super) fn expire_if_due(&mut self, now: DateTime<Utc>) -> Vec<Status> {
        if now < self.order.expires_at {
            return Vec::new();
        }
        self.apply(Action::Expire { channel: None }, now)
            .unwrap_or_default()
    }

    /// The latest notification of `status`, or the latest of all when `None`.
    pub(super) fn event(&self, status: Option<Status>) -> Option<&Event> {
        self.events
            .iter()
            .rev()
            .find(|event| status.is_none_or(|wanted| event.status == wanted))
    }

    /// The notification of `status` as DOKU makes it.
    fn notification(&self, status: Status, now: DateTime<Utc>) -> Bytes {
        let body = self.describe(status, now);
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The order as a notification or status answer describes it.
    fn describe(&self, status: Status, date: DateTime<Utc>) -> Value {
        let id = |name: Option<&str>| json!({ "id": name });
        let mut body = json!({
            "order": {"invoice_number": self.order.invoice_number, "amount": self.order.amount},
            "transaction": {
                "status": status.as_str(),
                "date": date.format(TIMESTAMP_FORMAT).to_string(),
                "original_request_id": self.order.original_request_id,
            },
            "service": id(self.channel.map(Channel::service)),
            "acquirer": id(self.channel.map(Channel::acquirer)),
            "channel": id(self.channel.map(Channel::as_str)),
        });
        if let Value::Object(fields) = &mut body {
            match self.channel {
                Some(Channel::VirtualAccountBca) => {
                    fields.insert(
                        "virtual_account_info".into(),
                        json!({"virtual_account_number": self.virtual_account_number()}),
                    );
                }
                Some(Channel::CreditCard) => {
                    let (code, message) = if status == Status::Success {
                        ("00", "PAYMENT APPROVED")
                    } else {
                        ("05", "DO NOT HONOR")
                    };
                    fields.insert(
                        "card_payment".into(),
                        json!({
                            "masked_card_number": "411111******1111",
                            "approval_code": format!("{:06}", self.seed % 1_000_000),
                            "response_code": code,
                            "response_message": message,
                            "issuer": "BANK CENTRAL ASIA",
                        }),
                    );
                }
                Some(Channel::Qris) | None => {}
            }
        }
        body
    }

    /// The status API's answer: the latest notification, or the pending order before any.
    pub(super) fn status_answer(&self) -> Value {
        let mut answer = match self.event(None) {
            Some(event) => serde_json::from_slice(&event.body).unwrap_or(Value::Null),
            None => self.describe(Status::Pending, self.order.created_at),
        };
        // DOKU's `order.status` for checkout orders (since July 2025).
        let order_status = match self.status {
            Status::Pending | Status::Failed => Some("ORDER_GENERATED"),
            Status::Expired => Some("ORDER_EXPIRED"),
            Status::Success => None,
        };
        if let (Some(order_status), Some(Value::Object(order))) =
            (order_status, answer.get_mut("order"))
        {
            order.insert("status".into(), order_status.into());
        }
        answer
    }

    /// A 16-digit BCA virtual account number, stable for the order.
    fn virtual_account_number(&self) -> String {
        format!("19008{:011}", (self.seed >> 64) % 100_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transaction() -> Transaction {
        let now = Utc::now();
        Transaction::new(Order {
            invoice_number: "INV-1".into(),
            amount: 99_000,
            original_request_id: "create-req-1".into(),
            callback_url: None,
            created_at: now,
            expires_at: now + chrono::Duration::minutes(60),
            channels: Channel::ALL.to_vec(),
        })
    }

    #[test]
    fn a_failed_attempt_can_be_followed_by_a_payment_but_a_payment_is_final() {
        let mut t = transaction();
        let now = Utc::now();
        assert_eq!(
            t.apply(Action::Fail { channel: None }, now),
            Ok(vec![Status::Failed])
        );
        assert_eq!(
            t.apply(
                Action::Pay {
                    channel: Channel::VirtualAccountBca
                },
                now
            ),
            Ok(vec![Status::Success])
        );
        assert_eq!(
            t.apply(Action::Expire { channel: None }, now),
            Err(Refusal(Status::Success))
        );
        let failed = t.event(Some(Status::Failed)).unwrap();
        let success = t.event(None).unwrap();
        assert_ne!(
            failed.request_id, success.request_id,
            "one Request-Id per notification"
        );
    }

    #[test]
    fn notifications_carry_the_create_calls_request_id_and_the_channel_block() {
        let mut t = transaction();
        t.apply(
            Action::Pay {
                channel: Channel::VirtualAccountBca,
            },
            Utc::now(),
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&t.event(None).unwrap().body).unwrap();
        assert_eq!(body["transaction"]["status"], "SUCCESS");
        assert_eq!(body["transaction"]["original_request_id"], "create-req-1");
        assert_eq!(body["order"]["amount"], 99_000);
        assert_eq!(body["service"]["id"], "VIRTUAL_ACCOUNT");
        assert_eq!(body["acquirer"]["id"], "BCA");
        assert_eq!(body["channel"]["id"], "VIRTUAL_ACCOUNT_BCA");
        assert_eq!(
            body["virtual_account_info"]["virtual_account_number"]
                .as_str()
                .unwrap()
                .len(),
            16
        );
    }

    #[test]
    fn a_pending_order_answers_with_no_channel_and_expires_when_due() {
        let mut t = transaction();
        let answer = t.status_answer();
        assert_eq!(answer["transaction"]["status"], "PENDING");
        assert_eq!(answer["order"]["status"], "ORDER_GENERATED");
        assert_eq!(answer["channel"]["id"], Value::Null);
        assert!(t.expire_if_due(Utc::now()).is_empty());
        let later = Utc::now() + chrono::Duration::minutes(61);
        assert_eq!(t.expire_if_due(later), [Status::Expired]);
        assert_eq!(t.status_answer()["order"]["status"], "ORDER_EXPIRED");
        assert!(t.expire_if_due(later).is_empty(), "expires once");
    }
}
