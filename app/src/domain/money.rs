/// Formats whole Indonesian rupiah the way Indonesians write them: `Rp 99.000`.
pub fn format_idr(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}Rp {}", group_thousands(amount.unsigned_abs()))
}

/// Writes a count with Indonesian thousands separators: `100.000`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::{format_idr, group_thousands};

    #[test]
    fn groups_thousands_with_dots() {
        assert_eq!(format_idr(0), "Rp 0");
        assert_eq!(format_idr(999), "Rp 999");
        assert_eq!(format_idr(99_000), "Rp 99.000");
        assert_eq!(format_idr(1_250_000), "Rp 1.250.000");
        assert_eq!(format_idr(-5_000), "-Rp 5.000");
        assert_eq!(group_thousands(100_000), "100.000");
    }
}
