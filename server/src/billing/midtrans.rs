//! Midtrans: Snap checkouts (`POST {snap}/snap/v1/transactions`), the Core API's status check
//! (`GET {api}/v2/{order_id}/status`) and its HTTP notifications, all authenticated with the
//! server key (`Authorization: Basic base64(server_key + ":")`; notifications carry
//! `signature_key`, see [`signatures`](super::signatures)).

use app::domain::PaymentProvider;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::gateway::{
    Answer, CheckoutOrder, GatewayError, GatewayReport, HostedCheckout, Reported, whole_rupiah,
};
use super::signatures::midtrans_signature_matches;

#[derive(Clone)]
pub struct MidtransClient {
    http: reqwest::Client,
    server_key: String,
    /// Snap's host, e.g. `https://app.sandbox.midtrans.com`.
    snap_url: String,
    /// The Core API's host, e.g. `https://api.sandbox.midtrans.com`.
    api_url: String,
}

impl MidtransClient {
    pub fn new(http: reqwest::Client, server_key: &str, snap_url: &str, api_url: &str) -> Self {
        Self {
            http,
            server_key: server_key.to_string(),
            snap_url: snap_url.trim_end_matches('/').to_string(),
            api_url: api_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn server_key(&self) -> &str {
        &self.server_key
    }

    fn authorization(&self) -> String {
        format!("Basic {}", STANDARD.encode(format!("{}:", self.server_key)))
    }

    /// Opens a Snap checkout for `order`.
    pub async fn create_transaction(
        &self,
        order: &CheckoutOrder<'_>,
    ) -> Result<HostedCheckout, GatewayError> {
        let minutes = order.expires_in.as_secs().div_ceil(60).max(1);
        let mut customer = json!({ "first_name": order.customer_name.unwrap_or("") });
        if let Some(email) = order.customer_email {
            customer["email"] = email.into();
        }
        let body = json!({
            "transaction_details": { "order_id": order.order_id, "gross_amount": order.amount },
            "item_details": [{
                "id": order.plan.as_db(),
                "price": order.amount,
                "quantity": 1,
                "name": format!("Kilat {} (1 month)", order.plan.name()),
            }],
            "customer_details": customer,
            "callbacks": { "finish": order.finish_url },
            "expiry": { "unit": "minutes", "duration": minutes },
        });
        let json = Answer::of(
            self.http
                .post(format!("{}/snap/v1/transactions", self.snap_url))
                .header("Authorization", self.authorization())
                .header("Accept", "application/json")
                .json(&body),
        )
        .await?
        .json("Snap's answer")?;
        match (json["token"].as_str(), json["redirect_url"].as_str()) {
            (Some(token), Some(url)) if url.starts_with("http") => Ok(HostedCheckout {
                url: url.to_string(),
                token: token.to_string(),
            }),
            _ => Err(GatewayError::Unreadable(
                "Snap answered without token and redirect_url".into(),
            )),
        }
    }

    /// Where `order_id` stands at Midtrans; `None` when Midtrans does not know it (a Snap
    /// checkout is unknown to the Core API until the person picks a payment method).
    pub async fn status(&self, order_id: &str) -> Result<Option<GatewayReport>, GatewayError> {
        let answer = Answer::of(
            self.http
                .get(format!(
                    "{}/v2/{}/status",
                    self.api_url,
                    url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect::<String>()
                ))
                .header("Authorization", self.authorization())
                .header("Accept", "application/json"),
        )
        .await?;
        let status = answer.status;
        let json: Option<Value> = serde_json::from_str(&answer.body).ok();
        let body_status = json
            .as_ref()
            .and_then(|json| json["status_code"].as_str())
            .unwrap_or_default()
            .to_string();
        if status == StatusCode::NOT_FOUND || body_status == "404" {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(answer.refused());
        }
        let json = json
            .ok_or_else(|| GatewayError::Unreadable("the status answer is not JSON".to_string()))?;
        // Only 2xx and 407 (expired) in the body are answers about the order.
        if !(body_status.starts_with('2') || body_status == "407") {
            return Err(GatewayError::Refused {
                status: body_status.parse().unwrap_or(status.as_u16()),
                messages: json["status_message"]
                    .as_str()
                    .unwrap_or("no status_message")
                    .to_string(),
            });
        }
        report(&json)
            .ok_or_else(|| {
                GatewayError::Unreadable(
                    "the status answer lacks order_id or transaction_status".into(),
                )
            })
            .map(Some)
    }
}

/// A Midtrans notification whose `signature_key` checked out.
#[derive(Debug)]
pub struct Notification {
    pub report: GatewayReport,
    /// The ledger's key: Midtrans sends no delivery id, so order + status + status code (a
    /// retried `settlement` is the same event; `pending` then `settlement` are two).
    pub event_id: String,
    pub payload: Value,
}

/// Why a notification was not taken.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("the notification is not a Midtrans notification: {0}")]
    Malformed(&'static str),
    #[error("the notification's signature_key does not match")]
    BadSignature,
}

/// Parses and verifies a notification body with `server_key`. The signature is checked over
/// the strings exactly as sent (never over re-serialised values).
pub fn verify_notification(
    body: &[u8],
    server_key: &str,
) -> Result<Notification, NotificationError> {
    let payload: Value =
        serde_json::from_slice(body).map_err(|_| NotificationError::Malformed("not JSON"))?;
    let field = |name: &'static str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .ok_or(NotificationError::Malformed(name))
    };
    let order_id = field("order_id")?;
    let status_code = field("status_code")?;
    let gross_amount = field("gross_amount")?;
    let signature_key = field("signature_key")?;
    field("transaction_status")?;
    if !midtrans_signature_matches(
        signature_key,
        order_id,
        status_code,
        gross_amount,
        server_key,
    ) {
        return Err(NotificationError::BadSignature);
    }
    if order_id.is_empty() || order_id.len() > 64 || status_code.len() > 8 {
        return Err(NotificationError::Malformed("order_id or status_code"));
    }
    let report = report(&payload).ok_or(NotificationError::Malformed("transaction_status"))?;
    let event_id = format!("{order_id}:{}:{status_code}", report.status_word);
    Ok(Notification {
        report,
        event_id,
        payload,
    })
}

/// A notification's or status answer's meaning.
pub(crate) fn report(json: &Value) -> Option<GatewayReport> {
    let order_id = json["order_id"].as_str()?.to_string();
    let status_word = json["transaction_status"].as_str()?.to_string();
    if status_word.is_empty() || status_word.len() > 64 {
        return None;
    }
    let fraud = json["fraud_status"].as_str();
    let reported = match status_word.as_str() {
        "settlement" => Reported::Paid,
        "capture" => match fraud {
            None | Some("accept") => Reported::Paid,
            Some("challenge") => Reported::Pending,
            Some(_) => Reported::Failed,
        },
        "pending" | "authorize" => Reported::Pending,
        "deny" | "cancel" | "failure" => Reported::Failed,
        "expire" => Reported::Expired,
        "refund" => Reported::Refunded,
        "partial_refund" => Reported::PartiallyRefunded,
        _ => Reported::Unknown,
    };
    let mut details = serde_json::Map::new();
    for key in [
        "transaction_id",
        "transaction_time",
        "settlement_time",
        "fraud_status",
        "status_code",
        "status_message",
    ] {
        if let Some(value) = json.get(key).filter(|v| v.is_string()) {
            details.insert(key.to_string(), value.clone());
        }
    }
    Some(GatewayReport {
        provider: PaymentProvider::Midtrans,
        order_id,
        reported,
        status_word,
        amount: whole_rupiah(&json["gross_amount"]),
        payment_type: json["payment_type"]
            .as_str()
            .filter(|t| !t.is_empty() && t.len() <= 64)
            .map(str::to_string),
        details: Value::Object(details),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::signatures::midtrans_signature_key;

    const KEY: &str = "SB-Mid-server-test";

    fn notification(status: &str, code: &str, fraud: Option<&str>) -> Vec<u8> {
        let mut body = json!({
            "order_id": "KK-1-abcdef01",
            "status_code": code,
            "gross_amount": "99000.00",
            "transaction_status": status,
            "payment_type": "qris",
            "transaction_id": "t-1",
            "signature_key": midtrans_signature_key("KK-1-abcdef01", code, "99000.00", KEY),
        });
        if let Some(fraud) = fraud {
            body["fraud_status"] = fraud.into();
        }
        serde_json::to_vec(&body).unwrap()
    }

    #[test]
    fn a_signed_settlement_is_a_payment_of_its_amount() {
        let n =
            verify_notification(&notification("settlement", "200", Some("accept")), KEY).unwrap();
        assert_eq!(n.report.reported, Reported::Paid);
        assert_eq!(n.report.amount, Some(99_000));
        assert_eq!(n.report.payment_type.as_deref(), Some("qris"));
        assert_eq!(n.event_id, "KK-1-abcdef01:settlement:200");
        assert_eq!(n.report.details["transaction_id"], "t-1");
    }

    #[test]
    fn statuses_mean_what_midtrans_documents() {
        let cases = [
            ("capture", "200", None, Reported::Paid),
            ("capture", "201", Some("challenge"), Reported::Pending),
            ("capture", "202", Some("deny"), Reported::Failed),
            ("pending", "201", None, Reported::Pending),
            ("deny", "202", None, Reported::Failed),
            ("cancel", "202", None, Reported::Failed),
            ("expire", "407", None, Reported::Expired),
            ("refund", "200", None, Reported::Refunded),
            ("partial_refund", "200", None, Reported::PartiallyRefunded),
            ("something_new", "200", None, Reported::Unknown),
        ];
        for (status, code, fraud, expected) in cases {
            let n = verify_notification(&notification(status, code, fraud), KEY).unwrap();
            assert_eq!(n.report.reported, expected, "{status} {fraud:?}");
        }
    }

    #[test]
    fn a_tampered_body_or_another_key_is_refused() {
        let body = notification("settlement", "200", None);
        assert_eq!(
            verify_notification(&body, "SB-Mid-server-other").unwrap_err(),
            NotificationError::BadSignature
        );
        let tampered = String::from_utf8(body)
            .unwrap()
            .replace("99000.00", "99.00");
        assert_eq!(
            verify_notification(tampered.as_bytes(), KEY).unwrap_err(),
            NotificationError::BadSignature
        );
    }

    #[test]
    fn malformed_bodies_are_named() {
        for body in [&b"not json"[..], b"{}", b"[]", br#"{"order_id":1}"#] {
            assert!(matches!(
                verify_notification(body, KEY),
                Err(NotificationError::Malformed(_))
            ));
        }
    }
}
