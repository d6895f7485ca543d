//! A Midtrans transaction's life: a Snap token, a method chosen, the statuses it reaches, and
//! the notification each status is (kept as first made, so a resend is byte for byte the
//! same).

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{billing::signatures::midtrans_signature_key, local::hosted_checkout::jakarta};

/// A made-up merchant id in Midtrans' shape (`G` and nine digits).
const MERCHANT_ID: &str = "G000000000";

/// A payment method the page offers (Midtrans' `payment_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    BankTransfer,
    Qris,
    Gopay,
    CreditCard,
}

impl Method {
    pub(super) const ALL: [Method; 4] = [
        Method::BankTransfer,
        Method::Qris,
        Method::Gopay,
        Method::CreditCard,
    ];

    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Method::BankTransfer => "bank_transfer",
            Method::Qris => "qris",
            Method::Gopay => "gopay",
            Method::CreditCard => "credit_card",
        }
    }

    pub(super) const fn label(self) -> &'static str {
        match self {
            Method::BankTransfer => "BCA Virtual Account",
            Method::Qris => "QRIS",
            Method::Gopay => "GoPay",
            Method::CreditCard => "Credit or debit card",
        }
    }
}

/// A `transaction_status` the twin produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Pending,
    Settlement,
    Capture,
    Deny,
    Expire,
}

impl Status {
    const ALL: [Status; 5] = [
        Status::Pending,
        Status::Settlement,
        Status::Capture,
        Status::Deny,
        Status::Expire,
    ];

    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Settlement => "settlement",
            Status::Capture => "capture",
            Status::Deny => "deny",
            Status::Expire => "expire",
        }
    }

    /// The `status_code` Midtrans sends with it.
    pub(super) fn code(self) -> &'static str {
        match self {
            Status::Settlement | Status::Capture => "200",
            Status::Pending => "201",
            Status::Deny => "202",
            Status::Expire => "407",
        }
    }

    pub(super) fn is_final(self) -> bool {
        self != Status::Pending
    }
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// A Snap token; no method chosen, so Core does not know it.
    Open,
    /// Known to Core with this status.
    Known(Status),
    /// The Snap token expired before a method was chosen: Core never knew it, and Midtrans
    /// sends nothing.
    Lapsed,
}

/// What the payer (or a control endpoint) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Pays with `method`; a bank transfer, QRIS or GoPay payment stops at `pending` unless
    /// `settle`.
    Pay {
        method: Method,
        settle: bool,
    },
    Deny {
        method: Option<Method>,
    },
    /// Lets it expire; with a method, after taking the payment code (`pending`).
    Expire {
        method: Option<Method>,
    },
}

/// Why an action is not possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Final(Status),
    Lapsed,
}

impl Refusal {
    pub(super) fn message(self) -> String {
        match self {
            Refusal::Final(status) => format!(
                "this transaction is already final (transaction_status {})",
                status.as_str()
            ),
            Refusal::Lapsed => {
                "this transaction's Snap token expired before a payment method was chosen".into()
            }
        }
    }
}

pub(super) struct Transaction {
    pub(super) order_id: String,
    pub(super) token: String,
    pub(super) transaction_id: Uuid,
    pub(super) gross_amount: i64,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) finish_url: Option<String>,
    pub(super) notification_urls: Vec<String>,
    pub(super) stage: Stage,
    pub(super) method: Option<Method>,
    transaction_time: Option<DateTime<Utc>>,
    settlement_time: Option<DateTime<Utc>>,
    /// Every status reached and its notification body, oldest first.
    events: Vec<(Status, Map<String, Value>)>,
}

/// Midtrans' local time format, in Jakarta time.
fn midtrans_time(at: DateTime<Utc>) -> String {
    jakarta(at).format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Transaction {
    pub(super) fn new(
        order_id: String,
        gross_amount: i64,
        expires_at: DateTime<Utc>,
        finish_url: Option<String>,
        notification_urls: Vec<String>,
    ) -> Self {
        Self {
            order_id,
            token: Uuid::new_v4().to_string(),
            transaction_id: Uuid::new_v4(),
            gross_amount,
            expires_at,
            finish_url,
            notification_urls,
            stage: Stage::Open,
            method: None,
            transaction_time: None,
            settlement_time: None,
            events: Vec::new(),
        }
    }

    /// `gross_amount` as Midtrans writes it.
    fn gross_amount_text(&self) -> String {
        format!("{}.00", self.gross_amount)
    }

    /// The status Core reports, if Core knows the transaction.
    pub(super) fn core_status(&self) -> Option<Status> {
        match self.stage {
            Stage::Known(status) => Some(status),
            Stage::Open | Stage::Lapsed => None,
        }
    }

    /// Applies `action` at `now`: the statuses reached, in order.
    pub(super) fn apply(
        &mut self,
        action: Action,
        now: DateTime<Utc>,
        server_key: &str,
    ) -> Result<Vec<Status>, Refusal> {
        match self.stage {
            Stage::Known(status) if status.is_final() => return Err(Refusal::Final(status)),
            Stage::Lapsed => return Err(Refusal::Lapsed),
            Stage::Open | Stage::Known(_) => {}
        }
        let pending = self.stage == Stage::Known(Status::Pending);
        let reached = match action {
            Action::Pay { method, settle } => {
                let already_pending_with_it = pending && self.method == Some(method);
                self.choose(method, now);
                match method {
                    Method::CreditCard => vec![Status::Capture],
                    _ if already_pending_with_it && settle => vec![Status::Settlement],
                    _ if already_pending_with_it => Vec::new(),
                    _ if settle => vec![Status::Pending, Status::Settlement],
                    _ => vec![Status::Pending],
                }
            }
            Action::Deny { method } => {
                let method = method.or(self.method).unwrap_or(Method::CreditCard);
                self.choose(method, now);
                vec![Status::Deny]
            }
            Action::Expire { method } => match (pending, method) {
                (true, _) => vec![Status::Expire],
                (false, Some(method)) => {
                    self.choose(method, now);
                    vec![Status::Pending, Status::Expire]
                }
                (false, None) => {
                    self.stage = Stage::Lapsed;
                    Vec::new()
                }
            },
        };
        for status in &reached {
            self.reach(*status, now, server_key);
        }
        Ok(reached)
    }

    /// Expires the transaction if its expiry has passed while it could still be paid.
    pub(super) fn expire_if_due(&mut self, now: DateTime<Utc>, server_key: &str) -> Vec<Status> {
        if now < self.expires_at {
            return Vec::new();
        }
        self.apply(Action::Expire { method: None }, now, server_key)
            .unwrap_or_default()
    }

    fn choose(&mut self, method: Method, now: DateTime<Utc>) {
        self.method = Some(method);
        self.transaction_time.get_or_insert(now);
    }

    fn reach(&mut self, status: Status, now: DateTime<Utc>, server_key: &str) {
        if status == Status::Settlement {
            self.settlement_time = Some(now);
        }
        self.stage = Stage::Known(status);
        let body = self.notification(status, server_key);
        self.events.push((status, body));
    }

    /// The latest notification body of `status`, or of the latest status when `None`.
    pub(super) fn event(&self, status: Option<Status>) -> Option<(Status, &Map<String, Value>)> {
        self.events
            .iter()
            .rev()
            .find(|(s, _)| status.is_none_or(|wanted| *s == wanted))
            .map(|(s, body)| (*s, body))
    }

    /// The exact bytes of `status`'s notification.
    pub(super) fn notification_bytes(&self, status: Status) -> Option<Bytes> {
        let (_, body) = self.event(Some(status))?;
        serde_json::to_vec(body).ok().map(Bytes::from)
    }

    /// Core's status answer: the latest notification with Core's `status_message`.
    pub(super) fn status_answer(&self) -> Option<Map<String, Value>> {
        let (_, body) = self.event(None)?;
        let mut answer = body.clone();
        answer.insert(
            "status_message".into(),
            "Success, transaction is found".into(),
        );
        Some(answer)
    }

    /// The notification of `status` as Midtrans makes it.
    fn notification(&self, status: Status, server_key: &str) -> Map<String, Value> {
        let method = self.method.unwrap_or(Method::CreditCard);
        let gross_amount = self.gross_amount_text();
        let signature_key =
            midtrans_signature_key(&self.order_id, status.code(), &gross_amount, server_key);
        let transaction_time = self.transaction_time.unwrap_or(self.expires_at);
        let mut body = Map::new();
        body.insert(
            "transaction_time".into(),
            midtrans_time(transaction_time).into(),
        );
        body.insert("transaction_status".into(), status.as_str().into());
        body.insert(
            "transaction_id".into(),
            self.transaction_id.to_string().into(),
        );
        body.insert(
            "status_message".into(),
            "midtrans payment notification".into(),
        );
        body.insert("status_code".into(), status.code().into());
        body.insert("signature_key".into(), signature_key.into());
        body.insert("payment_type".into(), method.as_str().into());
        body.insert("order_id".into(), self.order_id.clone().into());
        body.insert("merchant_id".into(), MERCHANT_ID.into());
        body.insert("gross_amount".into(), gross_amount.into());
        body.insert("currency".into(), "IDR".into());
        let fraud_status = if status == Status::Deny {
            "deny"
        } else {
            "accept"
        };
        body.insert("fraud_status".into(), fraud_status.into());
        body.insert("expiry_time".into(), midtrans_time(self.expires_at).into());
        if let (Status::Settlement, Some(settled)) = (status, self.settlement_time) {
            body.insert("settlement_time".into(), midtrans_time(settled).into());
        }
        match method {
            Method::BankTransfer => {
                body.insert(
                    "va_numbers".into(),
                    json!([{"bank": "bca", "va_number": self.va_number()}]),
                );
                body.insert("payment_amounts".into(), json!([]));
            }
            Method::Qris => {
                body.insert("acquirer".into(), "gopay".into());
            }
            Method::Gopay => {}
            Method::CreditCard => {
                body.insert("masked_card".into(), "48111111-1114".into());
                body.insert("bank".into(), "bni".into());
                body.insert("card_type".into(), "credit".into());
                body.insert("eci".into(), "05".into());
                let (code, message) = if status == Status::Deny {
                    ("05", "Do not honor")
                } else {
                    ("00", "Approved")
                };
                body.insert("channel_response_code".into(), code.into());
                body.insert("channel_response_message".into(), message.into());
                if status == Status::Capture {
                    body.insert("approval_code".into(), self.approval_code().into());
                }
            }
        }
        body
    }

    /// An 11-digit BCA virtual account number, stable for the transaction.
    fn va_number(&self) -> String {
        let id = self.transaction_id.as_u128();
        format!("{:011}", id % 100_000_000_000)
    }

    fn approval_code(&self) -> String {
        let id = self.transaction_id.as_u128();
        format!("{:06}", (id >> 64) % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::signatures::midtrans_signature_matches;

    const KEY: &str = "SB-Mid-server-unit";

    fn transaction() -> Transaction {
        Transaction::new(
            "KK-1".into(),
            99_000,
            Utc::now() + chrono::Duration::hours(24),
            None,
            vec!["http://127.0.0.1:1/hook".into()],
        )
    }

    fn statuses(reached: Result<Vec<Status>, Refusal>) -> Vec<&'static str> {
        reached.unwrap().into_iter().map(Status::as_str).collect()
    }

    #[test]
    fn bank_transfer_goes_pending_then_settlement_and_card_is_captured() {
        let now = Utc::now();
        let mut bank = transaction();
        assert_eq!(bank.core_status(), None);
        let reached = bank.apply(
            Action::Pay {
                method: Method::BankTransfer,
                settle: true,
            },
            now,
            KEY,
        );
        assert_eq!(statuses(reached), ["pending", "settlement"]);
        let mut card = transaction();
        let reached = card.apply(
            Action::Pay {
                method: Method::CreditCard,
                settle: true,
            },
            now,
            KEY,
        );
        assert_eq!(statuses(reached), ["capture"]);
        let (_, body) = card.event(None).unwrap();
        assert_eq!(body["fraud_status"], "accept");
        assert_eq!(body["status_code"], "200");
    }

    #[test]
    fn a_final_transaction_refuses_every_action() {
        let mut t = transaction();
        t.apply(Action::Deny { method: None }, Utc::now(), KEY)
            .unwrap();
        assert_eq!(
            t.apply(Action::Expire { method: None }, Utc::now(), KEY),
            Err(Refusal::Final(Status::Deny))
        );
    }

    #[test]
    fn an_unchosen_token_lapses_silently_and_a_pending_one_expires_with_407() {
        let later = Utc::now() + chrono::Duration::hours(25);
        let mut open = transaction();
        assert!(open.expire_if_due(later, KEY).is_empty());
        assert_eq!(open.stage, Stage::Lapsed);
        assert_eq!(open.status_answer(), None);

        let mut pending = transaction();
        pending
            .apply(
                Action::Pay {
                    method: Method::Qris,
                    settle: false,
                },
                Utc::now(),
                KEY,
            )
            .unwrap();
        assert!(
            pending.expire_if_due(Utc::now(), KEY).is_empty(),
            "not yet due"
        );
        assert_eq!(
            pending
                .expire_if_due(later, KEY)
                .into_iter()
                .map(Status::as_str)
                .collect::<Vec<_>>(),
            ["expire"]
        );
        let answer = pending.status_answer().unwrap();
        assert_eq!(answer["status_code"], "407");
        assert_eq!(answer["status_message"], "Success, transaction is found");
    }

    #[test]
    fn every_notification_is_signed_over_its_own_status_code() {
        let mut t = transaction();
        t.apply(
            Action::Pay {
                method: Method::BankTransfer,
                settle: true,
            },
            Utc::now(),
            KEY,
        )
        .unwrap();
        for status in [Status::Pending, Status::Settlement] {
            let (_, body) = t.event(Some(status)).unwrap();
            let field = |name: &str| body[name].as_str().unwrap().to_string();
            assert!(midtrans_signature_matches(
                &field("signature_key"),
                &field("order_id"),
                &field("status_code"),
                &field("gross_amount"),
                KEY
            ));
            assert_eq!(field("gross_amount"), "99000.00");
            assert_eq!(body["va_numbers"][0]["bank"], "bca");
            assert_eq!(
                body["va_numbers"][0]["va_number"].as_str().unwrap().len(),
                11
            );
        }
    }
}
