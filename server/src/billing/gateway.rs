//! What Kilat asks of a payment gateway and what a gateway tells it, whichever gateway it is:
//! open a hosted checkout for an order, and report where an order stands. The gateways' own
//! protocols live in [`midtrans`](super::midtrans) and [`doku`](super::doku).

use std::time::Duration;

use app::domain::{PaymentProvider, Plan};
use serde_json::Value;

use super::{doku::DokuClient, midtrans::MidtransClient};

/// One order to be paid on the gateway's hosted page.
#[derive(Debug, Clone)]
pub struct CheckoutOrder<'a> {
    /// Our order id (`KK-<epoch ms>-<8 hex>`): Midtrans' `order_id`, DOKU's `invoice_number`.
    pub order_id: &'a str,
    pub plan: Plan,
    /// Whole rupiah, from the plan catalogue.
    pub amount: i64,
    pub customer_id: &'a str,
    pub customer_email: Option<&'a str>,
    pub customer_name: Option<&'a str>,
    /// Where the gateway sends the person back: our order page.
    pub finish_url: &'a str,
    /// How long the person may pay.
    pub expires_in: Duration,
}

/// The hosted checkout the gateway opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedCheckout {
    /// Where to send the person (Snap's `redirect_url`, DOKU's `payment.url`).
    pub url: String,
    /// The gateway's handle for it (Snap token, DOKU `token_id`), kept for support.
    pub token: String,
}

/// Where the gateway says an order stands, in Kilat's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// Waiting for the money (or for a fraud review).
    Pending,
    /// Money received.
    Paid,
    /// Declined, cancelled or failed.
    Failed,
    /// Not paid in time.
    Expired,
    /// All money returned.
    Refunded,
    /// Some money returned: recorded for an admin, nothing changes by itself.
    PartiallyRefunded,
    /// A status word Kilat does not know: recorded, nothing changes.
    Unknown,
}

/// One report about one order: a verified notification, or a status check's answer.
#[derive(Debug, Clone)]
pub struct GatewayReport {
    pub provider: PaymentProvider,
    pub order_id: String,
    pub reported: Reported,
    /// The gateway's own status word (`settlement`, `SUCCESS`, …), for the ledger and admins.
    pub status_word: String,
    /// The amount the gateway says was paid, in whole rupiah; `None` when it is not a whole
    /// number of rupiah (which can never match a payment).
    pub amount: Option<i64>,
    /// How the person paid (`bank_transfer`, `qris`, `VIRTUAL_ACCOUNT_BCA`, …).
    pub payment_type: Option<String>,
    /// What is worth keeping on the payment (transaction id, fraud status, channel, …).
    pub details: Value,
}

/// Why a gateway call did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the gateway could not be reached: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("the gateway refused the call with HTTP {status}: {messages}")]
    Refused { status: u16, messages: String },
    #[error("the gateway's answer could not be read: {0}")]
    Unreadable(String),
}

/// How long Kilat waits for a gateway.
const TIMEOUT: Duration = Duration::from_secs(15);

/// A gateway's answer to one call.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub body: String,
}

impl Answer {
    /// Sends `request` (with the gateways' timeout) and reads the answer.
    pub async fn of(request: reqwest::RequestBuilder) -> Result<Self, GatewayError> {
        let response = request
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(GatewayError::Unreachable)?;
        let status = response.status();
        let body = response.text().await.map_err(GatewayError::Unreachable)?;
        Ok(Self { status, body })
    }

    /// The answer as a refusal, with the gateway's own messages.
    pub fn refused(&self) -> GatewayError {
        GatewayError::Refused {
            status: self.status.as_u16(),
            messages: error_messages(&self.body),
        }
    }

    /// The body of a 2xx answer as JSON (`what` names it in errors); else the refusal.
    pub fn json(&self, what: &str) -> Result<Value, GatewayError> {
        if !self.status.is_success() {
            return Err(self.refused());
        }
        serde_json::from_str(&self.body)
            .map_err(|error| GatewayError::Unreadable(format!("{what}: {error}")))
    }
}

/// The configured gateway's client.
#[derive(Clone)]
pub enum GatewayClient {
    Midtrans(MidtransClient),
    Doku(DokuClient),
}

impl GatewayClient {
    pub fn provider(&self) -> PaymentProvider {
        match self {
            GatewayClient::Midtrans(_) => PaymentProvider::Midtrans,
            GatewayClient::Doku(_) => PaymentProvider::Doku,
        }
    }

    /// Opens the hosted checkout for `order`.
    pub async fn open_checkout(
        &self,
        order: &CheckoutOrder<'_>,
    ) -> Result<HostedCheckout, GatewayError> {
        match self {
            GatewayClient::Midtrans(client) => client.create_transaction(order).await,
            GatewayClient::Doku(client) => client.create_payment(order).await,
        }
    }

    /// Where `order_id` stands; `None` when the gateway does not know it (Midtrans until a
    /// payment method is chosen).
    pub async fn status(&self, order_id: &str) -> Result<Option<GatewayReport>, GatewayError> {
        match self {
            GatewayClient::Midtrans(client) => client.status(order_id).await,
            GatewayClient::Doku(client) => client.status(order_id).await,
        }
    }
}

/// An amount as the gateways write it (`"99000.00"`, `"99000"`, `99000`) in whole rupiah;
/// `None` for anything else, including fractions of a rupiah.
pub fn whole_rupiah(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(text) => {
            let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
            if whole.is_empty()
                || !whole.bytes().all(|b| b.is_ascii_digit())
                || !fraction.bytes().all(|b| b == b'0')
                || whole.len() > 15
            {
                return None;
            }
            whole.parse().ok()
        }
        _ => None,
    }
}

/// A gateway's error body as one line: `error_messages` joined, or the body itself cut short.
pub fn error_messages(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|json| {
            json.get("error_messages")?.as_array().map(|messages| {
                messages
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_else(|| body.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_whole_rupiah_or_nothing() {
        assert_eq!(whole_rupiah(&json!("99000.00")), Some(99_000));
        assert_eq!(whole_rupiah(&json!("99000")), Some(99_000));
        assert_eq!(whole_rupiah(&json!(99000)), Some(99_000));
        assert_eq!(whole_rupiah(&json!(99000.0)), Some(99_000));
        assert_eq!(whole_rupiah(&json!("99000.50")), None);
        assert_eq!(whole_rupiah(&json!(99000.5)), None);
        assert_eq!(whole_rupiah(&json!("-99000")), None);
        assert_eq!(whole_rupiah(&json!("9e4")), None);
        assert_eq!(whole_rupiah(&json!("")), None);
        assert_eq!(whole_rupiah(&json!(".00")), None);
        assert_eq!(whole_rupiah(&json!("99999999999999999999")), None);
        assert_eq!(whole_rupiah(&json!(null)), None);
    }

    #[test]
    fn error_bodies_read_as_one_line() {
        assert_eq!(
            error_messages(r#"{"error_messages":["a","b"]}"#),
            "a; b".to_string()
        );
        assert_eq!(error_messages("<html>"), "<html>");
    }
}
