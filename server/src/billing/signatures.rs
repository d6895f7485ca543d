//! The payment gateways' signatures: what Midtrans puts in a notification's `signature_key`
//! and what DOKU puts in a request's or notification's `Signature` header. Pure functions,
//! shared by our webhook routes (which check them), our DOKU client (which signs its calls)
//! and the local gateway twins (which sign what they send, exactly as the gateways do).
//!
//! Every check of a signature someone else sent goes through
//! [`constant_time_eq`](crate::crypto::constant_time_eq).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use ring::{digest, hmac};

use crate::crypto::constant_time_eq;

/// Midtrans' `signature_key`: lowercase hex of SHA-512 over `order_id + status_code +
/// gross_amount + server_key`, the raw strings exactly as they appear in the notification
/// (`gross_amount` with its decimals, e.g. `"99000.00"`).
pub fn midtrans_signature_key(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let mut context = digest::Context::new(&digest::SHA512);
    for part in [order_id, status_code, gross_amount, server_key] {
        context.update(part.as_bytes());
    }
    lowercase_hex(context.finish().as_ref())
}

/// Whether `received` is the `signature_key` Midtrans would send for these fields. Midtrans
/// sends lowercase hex, so that is the only spelling accepted.
pub fn midtrans_signature_matches(
    received: &str,
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> bool {
    let expected = midtrans_signature_key(order_id, status_code, gross_amount, server_key);
    constant_time_eq(received.as_bytes(), expected.as_bytes())
}

/// DOKU's `Digest` component: base64 of SHA-256 over the exact body bytes.
pub fn doku_digest(body: &[u8]) -> String {
    STANDARD.encode(digest::digest(&digest::SHA256, body))
}

/// DOKU's `Signature` header value, `HMACSHA256=` + base64(HMAC-SHA256(secret_key,
/// component)), where the component is
/// `Client-Id:{client_id}\nRequest-Id:{request_id}\nRequest-Timestamp:{timestamp}\nRequest-Target:{request_target}\nDigest:{digest}`
/// with no trailing newline. `digest` is `None` for bodiless (GET) requests, whose component
/// has no `Digest` line.
///
/// `request_target` is the path of the endpoint called: DOKU's (`/checkout/v1/payment`) when
/// we call DOKU, ours (the notification route's path) when DOKU notifies us.
pub fn doku_signature(
    client_id: &str,
    request_id: &str,
    timestamp: &str,
    request_target: &str,
    digest: Option<&str>,
    secret_key: &str,
) -> String {
    let mut component = format!(
        "Client-Id:{client_id}\nRequest-Id:{request_id}\nRequest-Timestamp:{timestamp}\n\
         Request-Target:{request_target}"
    );
    if let Some(digest) = digest {
        component.push_str("\nDigest:");
        component.push_str(digest);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret_key.as_bytes());
    let tag = hmac::sign(&key, component.as_bytes());
    format!("HMACSHA256={}", STANDARD.encode(tag.as_ref()))
}

/// Whether `received` (a whole `Signature` header value, `HMACSHA256=…`) is what
/// [`doku_signature`] gives for these components.
pub fn doku_signature_matches(
    received: &str,
    client_id: &str,
    request_id: &str,
    timestamp: &str,
    request_target: &str,
    digest: Option<&str>,
    secret_key: &str,
) -> bool {
    let expected = doku_signature(
        client_id,
        request_id,
        timestamp,
        request_target,
        digest,
        secret_key,
    );
    constant_time_eq(received.as_bytes(), expected.as_bytes())
}

fn lowercase_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_KEY: &str = "SB-Mid-server-TEST-KEY-123";

    /// `printf '%s' 'KK-20260317-0001200' '99000.00' 'SB-Mid-server-TEST-KEY-123' | sha512sum`
    const SETTLEMENT_SIGNATURE: &str = "df467f1e241f3e5f2967ecefd298602f28721c96d980e540295a9cc35931ac84f57f691dfec187c67484bcd899d7b9e922f62356337d3a6d291ad7deb0294869";

    #[test]
    fn midtrans_signature_is_sha512_hex_of_the_raw_fields_and_key() {
        assert_eq!(
            midtrans_signature_key("KK-20260317-0001", "200", "99000.00", SERVER_KEY),
            SETTLEMENT_SIGNATURE
        );
        // The same fields as a pending notification (status 201) sign differently
        // (`printf '%s' 'KK-20260317-0001201' '99000.00' '…' | sha512sum`).
        assert_eq!(
            midtrans_signature_key("KK-20260317-0001", "201", "99000.00", SERVER_KEY),
            "0a70340b736b30cbad4717d9ca0afaf55a7cae85adaccb8cc2c7c44bdfa05ad18568163f3afd0d0f50278c3721281e61ad775276cb14b1dc302141426bcca4ac"
        );
    }

    #[test]
    fn midtrans_signature_check_refuses_any_changed_field_key_or_spelling() {
        let matches = |signature: &str, order: &str, code: &str, amount: &str, key: &str| {
            midtrans_signature_matches(signature, order, code, amount, key)
        };
        assert!(matches(
            SETTLEMENT_SIGNATURE,
            "KK-20260317-0001",
            "200",
            "99000.00",
            SERVER_KEY
        ));
        assert!(!matches(
            SETTLEMENT_SIGNATURE,
            "KK-20260317-0002",
            "200",
            "99000.00",
            SERVER_KEY
        ));
        assert!(!matches(
            SETTLEMENT_SIGNATURE,
            "KK-20260317-0001",
            "201",
            "99000.00",
            SERVER_KEY
        ));
        // The amount is signed as sent: "99000" is not "99000.00".
        assert!(!matches(
            SETTLEMENT_SIGNATURE,
            "KK-20260317-0001",
            "200",
            "99000",
            SERVER_KEY
        ));
        assert!(!matches(
            SETTLEMENT_SIGNATURE,
            "KK-20260317-0001",
            "200",
            "99000.00",
            "SB-Mid-server-other"
        ));
        let uppercase = SETTLEMENT_SIGNATURE.to_uppercase();
        assert!(!matches(
            &uppercase,
            "KK-20260317-0001",
            "200",
            "99000.00",
            SERVER_KEY
        ));
        assert!(!matches(
            "",
            "KK-20260317-0001",
            "200",
            "99000.00",
            SERVER_KEY
        ));
    }

    const CLIENT_ID: &str = "MCH-0001-10791114622547";
    /// A made-up secret in DOKU's key format (DOKU's documentation publishes components and
    /// headers, but no secret key with the signature it gives).
    const SECRET_KEY: &str = "SK-hCJ42G28TA0MKG9LE2E8";

    #[test]
    fn doku_digest_is_base64_sha256_of_the_body_bytes() {
        // printf '%s' '{"order":{"invoice_number":"INV-20210124-0001","amount":150000}}' \
        //   | openssl dgst -sha256 -binary | base64
        assert_eq!(
            doku_digest(br#"{"order":{"invoice_number":"INV-20210124-0001","amount":150000}}"#),
            "seFaeAITBKFUYwpMONoHD0ZvT4YocI4tad6gBSMaqVE="
        );
    }

    #[test]
    fn doku_signature_of_a_post_signs_the_five_line_component() {
        // printf 'Client-Id:…\nRequest-Id:…\nRequest-Timestamp:…\nRequest-Target:…\nDigest:%s' \
        //   "$digest" | openssl dgst -sha256 -hmac "$secret" -binary | base64
        let digest =
            doku_digest(br#"{"order":{"invoice_number":"INV-20210124-0001","amount":150000}}"#);
        let signature = doku_signature(
            CLIENT_ID,
            "15022aab-444f-4b04-afa8-ddfce89432ec",
            "2020-08-11T08:45:42Z",
            "/checkout/v1/payment",
            Some(&digest),
            SECRET_KEY,
        );
        assert_eq!(
            signature,
            "HMACSHA256=k14w9hr4eCvclfkoM+FOv1LiH673XsuVbxTbSAfWeOA="
        );
    }

    #[test]
    fn doku_signature_of_a_get_has_no_digest_line() {
        // DOKU's documented status-check components (`Signature from API Get Method`), with
        // the made-up secret: the same four lines piped through `openssl dgst -hmac`.
        let signature = doku_signature(
            CLIENT_ID,
            "d895fb53-479c-4f77-a76a-ab81b40d77cb",
            "2020-08-11T08:45:42Z",
            "/orders/v1/status/INV-123123-12313",
            None,
            SECRET_KEY,
        );
        assert_eq!(
            signature,
            "HMACSHA256=hZS+fmD+WtHF42h/kKPBwi3tDVv3AIe6B+aBhWZCJQI="
        );
    }

    #[test]
    fn doku_signature_check_refuses_a_tampered_body_target_or_key() {
        let body = br#"{"order":{"invoice_number":"INV-1","amount":99000}}"#;
        let digest = doku_digest(body);
        let signed = doku_signature(
            CLIENT_ID,
            "req-1",
            "2026-03-17T01:02:03Z",
            "/api/webhooks/doku",
            Some(&digest),
            SECRET_KEY,
        );
        let check = |digest: &str, target: &str, key: &str| {
            doku_signature_matches(
                &signed,
                CLIENT_ID,
                "req-1",
                "2026-03-17T01:02:03Z",
                target,
                Some(digest),
                key,
            )
        };
        assert!(check(&digest, "/api/webhooks/doku", SECRET_KEY));
        let tampered = doku_digest(br#"{"order":{"invoice_number":"INV-1","amount":1}}"#);
        assert!(!check(&tampered, "/api/webhooks/doku", SECRET_KEY));
        assert!(!check(&digest, "/api/webhooks/midtrans", SECRET_KEY));
        assert!(!check(&digest, "/api/webhooks/doku", "SK-another-secret"));
        // Without the Digest line it is another component altogether.
        assert!(!doku_signature_matches(
            &signed,
            CLIENT_ID,
            "req-1",
            "2026-03-17T01:02:03Z",
            "/api/webhooks/doku",
            None,
            SECRET_KEY,
        ));
    }
}
