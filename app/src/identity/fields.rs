//! Form fields parsed at the edge: once a value has one of these types it is valid. The same
//! parsing runs in the browser (inline errors) and on the server (the one that counts).

use serde::{Deserialize, Serialize};

/// A form field that did not parse, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The form field's name, e.g. `email`.
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// An email address, trimmed and lowercased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c == ',')
                    && email.matches('@').count() == 1
            });
        if email.is_empty() {
            Err(invalid("email", "Enter your email address."))
        } else if !valid {
            Err(invalid(
                "email",
                "That does not look like an email address, e.g. nama@contoh.id.",
            ))
        } else {
            Ok(Self(email))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed (never trimmed): 8 to 72 characters (bcrypt's limit).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

impl Password {
    pub const MIN: usize = 8;
    pub const MAX_BYTES: usize = 72;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() {
            Err(invalid("password", "Enter a password."))
        } else if raw.chars().count() < Self::MIN {
            Err(invalid("password", "Use at least 8 characters."))
        } else if raw.len() > Self::MAX_BYTES {
            Err(invalid("password", "Use at most 72 characters."))
        } else {
            Ok(Self(raw.to_string()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's name: trimmed, 1 to 120 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullName(String);

impl FullName {
    /// `Ok(None)` for an empty field: the name is optional.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            Ok(None)
        } else if name.chars().count() > 120 {
            Err(invalid("full_name", "Use at most 120 characters."))
        } else if name.chars().any(char::is_control) {
            Err(invalid(
                "full_name",
                "Use letters, spaces and punctuation only.",
            ))
        } else {
            Ok(Some(Self(name.to_string())))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_nonsense_is_refused() {
        assert_eq!(
            EmailAddress::parse("  Ana@Kilat.ID ").unwrap().as_str(),
            "ana@kilat.id"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@kilat.id",
            "ana@kilat",
            "a b@kilat.id",
            "a@b@kilat.id",
            "ana@.id",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(EmailAddress::parse("").unwrap_err().field, "email");
    }

    #[test]
    fn passwords_keep_spaces_and_respect_bcrypt_limits() {
        assert_eq!(
            Password::parse(" secret  1 ").unwrap().expose(),
            " secret  1 "
        );
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(73)).is_err());
        assert!(!format!("{:?}", Password::parse("hunter22!").unwrap()).contains("hunter"));
    }

    #[test]
    fn names_are_optional_trimmed_and_bounded() {
        assert_eq!(FullName::parse("   ").unwrap(), None);
        assert_eq!(
            FullName::parse(" Ana Lestari ").unwrap().unwrap().as_str(),
            "Ana Lestari"
        );
        assert!(FullName::parse(&"a".repeat(121)).is_err());
        assert!(FullName::parse("Ana\u{0007}").is_err());
    }
}
