//! Comparing secrets. Every check of a key, token, code hash or signature that someone else
//! sent goes through [`constant_time_eq`], so how long a refusal takes says nothing about how
//! much of the guess was right.

use std::hint::black_box;

/// Whether `a` and `b` are the same bytes, taking the same time wherever they differ. Only
/// the length can show through timing (an early `false`), and the length of a secret is not
/// secret here (keys, hashes and signatures have fixed, public lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // `black_box` keeps the optimiser from turning the fold into an early-exit comparison.
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| black_box(acc | (x ^ y)));
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_match_and_any_difference_does_not() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"sk_live_123", b"sk_live_123"));
        assert!(!constant_time_eq(b"sk_live_123", b"sk_live_124"));
        assert!(!constant_time_eq(b"sk_live_123", b"Sk_live_123"));
        assert!(!constant_time_eq(b"sk_live_123", b"sk_live_12"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
