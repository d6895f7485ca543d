//! The twin's small cryptographic pieces, each as GoTrue does it: one-time codes and their
//! SHA-224 hashes, refresh-token strings, PKCE checks and bcrypt password hashes.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha224, Sha256};

use super::error::{ApiError, ApiResult};
use crate::{auth::pkce::challenge_for, crypto::constant_time_eq};

/// GoTrue's bcrypt cost.
const BCRYPT_COST: u32 = 10;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random number generator works");
    bytes
}

/// A uniformly random number below `bound` (which must be positive).
fn random_below(bound: u64) -> u64 {
    // Rejection sampling: drop the top values that would bias the remainder.
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let value = u64::from_le_bytes(random_bytes::<8>());
        if value < zone {
            return value % bound;
        }
    }
}

/// A six-digit one-time code (`crypto.GenerateOtp(6)`).
pub(super) fn otp() -> String {
    format!("{:06}", random_below(1_000_000))
}

/// `crypto.GenerateTokenHash`: lowercase hex of SHA-224 over the address followed by the code.
/// This is what links carry (`token=`) and what `auth.users` / `auth.one_time_tokens` store.
pub(super) fn token_hash(email: &str, otp: &str) -> String {
    let digest = Sha224::digest(format!("{email}{otp}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A refresh token as GoTrue mints them (`crypto.SecureAlphanumeric(12)`): 12 characters of
/// lowercase base32 over random bytes.
pub(super) fn refresh_token() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes = random_bytes::<8>();
    let bits = u64::from_be_bytes(bytes);
    // 12 characters × 5 bits = 60 bits, taken from the top.
    (0..12)
        .map(|i| ALPHABET[((bits >> (59 - i * 5)) & 31) as usize] as char)
        .collect()
}

/// A random opaque string (url-safe base64 of `N` bytes).
pub(super) fn opaque<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// A throwaway password for accounts created by a magic link (GoTrue gives them one too).
pub(super) fn throwaway_password() -> String {
    opaque::<24>()
}

pub(super) const PKCE_MISMATCH: &str =
    "code challenge does not match previously saved code verifier";

/// `security.VerifyPKCEChallenge`.
pub(super) fn verify_pkce(
    challenge: &str,
    method: &str,
    verifier: &str,
) -> Result<(), &'static str> {
    let matches = match method.to_ascii_lowercase().as_str() {
        // The production client's own challenge: the twin checks exactly what the app sends.
        "s256" => constant_time_eq(challenge.as_bytes(), challenge_for(verifier).as_bytes()),
        "plain" => constant_time_eq(challenge.as_bytes(), verifier.as_bytes()),
        _ => return Err("code challenge method not supported"),
    };
    if matches { Ok(()) } else { Err(PKCE_MISMATCH) }
}

/// bcrypt at GoTrue's cost, off the async threads (it takes tens of milliseconds).
pub(super) async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, BCRYPT_COST))
        .await
        .map_err(|e| ApiError::internal("Error hashing password", e))?
        .map_err(|e| ApiError::internal("Error hashing password", e))
}

/// Whether `password` matches the bcrypt `hash` (a malformed hash matches nothing).
pub(super) async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

/// The stand-in Google account id (`sub`) for an email: stable, digits only, 21 long — the
/// shape of a real Google subject — so the same address is the same "Google account" every time.
pub(super) fn google_subject(email: &str) -> String {
    let digest = Sha256::digest(format!("kilat-local-google:{email}").as_bytes());
    let mut high = [0u8; 8];
    high.copy_from_slice(&digest[..8]);
    let mut low = [0u8; 8];
    low.copy_from_slice(&digest[8..16]);
    format!(
        "1{:010}{:010}",
        u64::from_be_bytes(high) % 10_000_000_000,
        u64::from_be_bytes(low) % 10_000_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_sha224_hex_of_email_and_code() {
        assert_eq!(
            token_hash("a@b.c", "123456"),
            "19fc8045654795b943ae7db4b637d9ee44d1dc98644c90a3fb01fa3f"
        );
        assert_ne!(token_hash("a@b.c", "123456"), token_hash("a@b.c", "123457"));
    }

    #[test]
    fn otp_has_six_digits_and_refresh_tokens_twelve_characters() {
        for _ in 0..50 {
            let code = otp();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
            let token = refresh_token();
            assert_eq!(token.len(), 12);
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
            );
        }
    }

    #[test]
    fn pkce_s256_and_plain() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(verify_pkce(challenge, "s256", verifier), Ok(()));
        assert_eq!(verify_pkce(challenge, "S256", "wrong"), Err(PKCE_MISMATCH));
        assert_eq!(verify_pkce(verifier, "plain", verifier), Ok(()));
        assert!(verify_pkce(challenge, "md5", verifier).is_err());
    }

    #[test]
    fn google_subject_is_stable_digits() {
        let sub = google_subject("ana@example.com");
        assert_eq!(sub.len(), 21);
        assert!(sub.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(sub, google_subject("ana@example.com"));
        assert_ne!(sub, google_subject("bo@example.com"));
    }
}
