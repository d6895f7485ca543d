//! DOKU Checkout (non-SNAP): `POST {api}/checkout/v1/payment`, `GET
//! {api}/orders/v1/status/{invoice}` and HTTP notifications. Every call and notification is
//! signed with the four headers `Client-Id`, `Request-Id`, `Request-Timestamp` and `Signature`
//! (see [`signatures`](super::signatures)).

use app::domain::PaymentProvider;
use http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::gateway::{
    Answer, CheckoutOrder, GatewayError, GatewayReport, HostedCheckout, Reported, whole_rupiah,
};
use super::signatures::{doku_digest, doku_signature, doku_signature_matches};

const CHECKOUT_PATH: &str = "/checkout/v1/payment";

#[derive(Clone)]
pub struct DokuClient {
    http: reqwest::Client,
    client_id: String,
    secret_key: String,
    /// DOKU's host, e.g. `https://api-sandbox.doku.com`. Request targets are signed as the
    /// path beneath it.
    api_url: String,
}

/// `2020-08-11T08:45:42Z`: DOKU's `Request-Timestamp`.
pub fn request_timestamp(now: OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

impl DokuClient {
    pub fn new(http: reqwest::Client, client_id: &str, secret_key: &str, api_url: &str) -> Self {
        Self {
            http,
            client_id: client_id.to_string(),
            secret_key: secret_key.to_string(),
            api_url: api_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The four signed headers for a call to `target` (with `body`, or none for a GET).
    fn signed(&self, target: &str, body: Option<&[u8]>) -> [(&'static str, String); 4] {
        let request_id = Uuid::new_v4().to_string();
        let timestamp = request_timestamp(OffsetDateTime::now_utc());
        let digest = body.map(doku_digest);
        let signature = doku_signature(
            &self.client_id,
            &request_id,
            &timestamp,
            target,
            digest.as_deref(),
            &self.secret_key,
        );
        [
            ("Client-Id", self.client_id.clone()),
            ("Request-Id", request_id),
            ("Request-Timestamp", timestamp),
            ("Signature", signature),
        ]
    }

    /// Opens a DOKU Checkout page for `order`.
    pub async fn create_payment(
        &self,
        order: &CheckoutOrder<'_>,
    ) -> Result<HostedCheckout, GatewayError> {
        let minutes = order.expires_in.as_secs().div_ceil(60).max(1);
        let body = json!({
            "order": {
                "amount": order.amount,
                "invoice_number": order.order_id,
                "currency": "IDR",
                "callback_url": order.finish_url,
                "line_items": [{
                    "id": order.plan.as_db(),
                    "name": format!("Kilat {} (1 month)", order.plan.name()),
                    "price": order.amount,
                    "quantity": 1,
                }],
            },
            "payment": { "payment_due_date": minutes },
            "customer": {
                "id": order.customer_id,
                "name": order.customer_name.unwrap_or(""),
                "email": order.customer_email.unwrap_or(""),
            },
        });
        let bytes =
            serde_json::to_vec(&body).map_err(|e| GatewayError::Unreadable(e.to_string()))?;
        let mut request = self
            .http
            .post(format!("{}{CHECKOUT_PATH}", self.api_url))
            .header("Content-Type", "application/json");
        for (name, value) in self.signed(CHECKOUT_PATH, Some(&bytes)) {
            request = request.header(name, value);
        }
        let json = Answer::of(request.body(bytes))
            .await?
            .json("DOKU's answer")?;
        let payment = &json["response"]["payment"];
        match (payment["url"].as_str(), payment["token_id"].as_str()) {
            (Some(url), Some(token)) if url.starts_with("http") => Ok(HostedCheckout {
                url: url.to_string(),
                token: token.to_string(),
            }),
            _ => Err(GatewayError::Unreadable(
                "DOKU answered without payment.url and payment.token_id".into(),
            )),
        }
    }

    /// Where invoice `order_id` stands at DOKU; `None` when DOKU does not know it.
    pub async fn status(&self, order_id: &str) -> Result<Option<GatewayReport>, GatewayError> {
        let target = format!(
            "/orders/v1/status/{}",
            url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect::<String>()
        );
        let mut request = self.http.get(format!("{}{target}", self.api_url));
        for (name, value) in self.signed(&target, None) {
            request = request.header(name, value);
        }
        let answer = Answer::of(request).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let json = answer.json("DOKU's status answer")?;
        report(&json).map(Some).ok_or_else(|| {
            GatewayError::Unreadable(
                "the status answer lacks order.invoice_number or transaction.status".into(),
            )
        })
    }
}

/// A DOKU notification whose signature checked out.
#[derive(Debug)]
pub struct Notification {
    pub report: GatewayReport,
    /// The ledger's key: the notification's `Request-Id` (a retry keeps it).
    pub event_id: String,
    pub payload: Value,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("the notification is not a DOKU notification: {0}")]
    Malformed(&'static str),
    #[error("the notification's signature does not match")]
    BadSignature,
}

/// Verifies a notification delivered to our route at `target` (its path, e.g.
/// `/api/webhooks/doku`) over the exact body bytes, then parses it.
pub fn verify_notification(
    headers: &HeaderMap,
    body: &[u8],
    target: &str,
    client_id: &str,
    secret_key: &str,
) -> Result<Notification, NotificationError> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
            .ok_or(NotificationError::BadSignature)
    };
    let sent_client_id = header("Client-Id")?;
    let request_id = header("Request-Id")?;
    let timestamp = header("Request-Timestamp")?;
    let signature = header("Signature")?;
    if !doku_signature_matches(
        signature,
        sent_client_id,
        request_id,
        timestamp,
        target,
        Some(&doku_digest(body)),
        secret_key,
    ) || !crate::crypto::constant_time_eq(sent_client_id.as_bytes(), client_id.as_bytes())
    {
        return Err(NotificationError::BadSignature);
    }
    if request_id.len() > 128 {
        return Err(NotificationError::Malformed("Request-Id"));
    }
    let payload: Value =
        serde_json::from_slice(body).map_err(|_| NotificationError::Malformed("not JSON"))?;
    let report = report(&payload).ok_or(NotificationError::Malformed(
        "order.invoice_number or transaction.status",
    ))?;
    Ok(Notification {
        report,
        event_id: request_id.to_string(),
        payload,
    })
}

/// A notification's or status answer's meaning.
pub(crate) fn report(json: &Value) -> Option<GatewayReport> {
    let order_id = json["order"]["invoice_number"].as_str()?;
    let status_word = json["transaction"]["status"].as_str()?;
    if order_id.is_empty()
        || order_id.len() > 64
        || status_word.is_empty()
        || status_word.len() > 64
    {
        return None;
    }
    let reported = match status_word.to_ascii_uppercase().as_str() {
        "SUCCESS" => Reported::Paid,
        "PENDING" => Reported::Pending,
        "FAILED" => Reported::Failed,
        "EXPIRED" => Reported::Expired,
        "REFUNDED" => Reported::Refunded,
        _ => Reported::Unknown,
    };
    let channel = json["channel"]["id"]
        .as_str()
        .filter(|c| !c.is_empty() && c.len() <= 64)
        .map(str::to_string);
    let mut details = serde_json::Map::new();
    for (key, value) in [
        ("transaction_date", &json["transaction"]["date"]),
        (
            "original_request_id",
            &json["transaction"]["original_request_id"],
        ),
        ("service", &json["service"]["id"]),
        ("acquirer", &json["acquirer"]["id"]),
    ] {
        if value.is_string() {
            details.insert(key.to_string(), value.clone());
        }
    }
    Some(GatewayReport {
        provider: PaymentProvider::Doku,
        order_id: order_id.to_string(),
        reported,
        status_word: status_word.to_string(),
        amount: whole_rupiah(&json["order"]["amount"]),
        payment_type: channel,
        details: Value::Object(details),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "BRN-0001";
    const SECRET: &str = "SK-test";
    const TARGET: &str = "/api/webhooks/doku";

    fn signed(body: &[u8], target: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let timestamp = "2026-12-03T08:00:00Z";
        let signature = doku_signature(
            CLIENT,
            "req-1",
            timestamp,
            target,
            Some(&doku_digest(body)),
            secret,
        );
        for (name, value) in [
            ("Client-Id", CLIENT),
            ("Request-Id", "req-1"),
            ("Request-Timestamp", timestamp),
            ("Signature", signature.as_str()),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        headers
    }

    fn body(status: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "order": {"invoice_number": "KK-1-abcdef01", "amount": 99000},
            "transaction": {"status": status, "date": "2026-12-03T08:00:00Z", "original_request_id": "r0"},
            "channel": {"id": "VIRTUAL_ACCOUNT_BCA"},
        }))
        .unwrap()
    }

    #[test]
    fn a_signed_success_is_a_payment_keyed_by_its_request_id() {
        let body = body("SUCCESS");
        let n = verify_notification(
            &signed(&body, TARGET, SECRET),
            &body,
            TARGET,
            CLIENT,
            SECRET,
        )
        .unwrap();
        assert_eq!(n.event_id, "req-1");
        assert_eq!(n.report.reported, Reported::Paid);
        assert_eq!(n.report.amount, Some(99_000));
        assert_eq!(
            n.report.payment_type.as_deref(),
            Some("VIRTUAL_ACCOUNT_BCA")
        );
    }

    #[test]
    fn another_key_path_body_or_client_is_refused() {
        let body = body("SUCCESS");
        let headers = signed(&body, TARGET, SECRET);
        let refused = |headers: &HeaderMap, body: &[u8], client: &str| {
            verify_notification(headers, body, TARGET, client, SECRET).unwrap_err()
        };
        assert_eq!(
            refused(&signed(&body, TARGET, "SK-other"), &body, CLIENT),
            NotificationError::BadSignature
        );
        assert_eq!(
            refused(&signed(&body, "/elsewhere", SECRET), &body, CLIENT),
            NotificationError::BadSignature
        );
        let mut tampered = body.clone();
        tampered.push(b' ');
        assert_eq!(
            refused(&headers, &tampered, CLIENT),
            NotificationError::BadSignature
        );
        assert_eq!(
            refused(&headers, &body, "BRN-9999"),
            NotificationError::BadSignature
        );
        assert_eq!(
            refused(&HeaderMap::new(), &body, CLIENT),
            NotificationError::BadSignature
        );
    }

    #[test]
    fn a_signed_body_that_is_not_a_notification_is_malformed() {
        for body in [&b"nope"[..], b"{}", br#"{"order":{"invoice_number":"x"}}"#] {
            assert!(matches!(
                verify_notification(&signed(body, TARGET, SECRET), body, TARGET, CLIENT, SECRET),
                Err(NotificationError::Malformed(_))
            ));
        }
    }

    #[test]
    fn timestamps_are_written_as_doku_expects() {
        let at = OffsetDateTime::from_unix_timestamp(1_597_135_542).unwrap();
        assert_eq!(request_timestamp(at), "2020-08-11T08:45:42Z");
    }
}
