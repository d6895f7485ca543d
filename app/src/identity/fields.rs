//! Form fields parsed at the edge: once a value has one of these types it is valid. The same
//! parsing runs in the browser (inline errors) and on the server (the one that counts).

use serde::{Deserialize, Serialize};

use crate::i18n::Locale;
use crate::t;

/// A form field that did not parse, and what to do about it. Each problem names its field (so
/// the form marks the right input) and has a fixed message and a stable code: a message never
/// travels as free text, so a crafted link cannot put its own words on a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldError {
    EmailMissing,
    EmailInvalid,
    /// Supabase Auth refused the address itself (`email_address_invalid`).
    EmailRefused,
    PasswordMissing,
    PasswordTooShort,
    PasswordTooLong,
    /// Supabase Auth found the password too easy to guess (`weak_password`).
    PasswordWeak,
    /// The new password is the one already in use (`same_password`).
    PasswordUnchanged,
    CurrentPasswordMissing,
    CurrentPasswordWrong,
    EmailUnchanged,
    EmailInUse,
    NameTooLong,
    NameInvalidCharacters,
}

impl FieldError {
    /// Every field error, for code round trips.
    pub const ALL: [FieldError; 14] = [
        FieldError::EmailMissing,
        FieldError::EmailInvalid,
        FieldError::EmailRefused,
        FieldError::PasswordMissing,
        FieldError::PasswordTooShort,
        FieldError::PasswordTooLong,
        FieldError::PasswordWeak,
        FieldError::PasswordUnchanged,
        FieldError::CurrentPasswordMissing,
        FieldError::CurrentPasswordWrong,
        FieldError::EmailUnchanged,
        FieldError::EmailInUse,
        FieldError::NameTooLong,
        FieldError::NameInvalidCharacters,
    ];

    /// The form field's name, e.g. `email`.
    pub fn field(self) -> &'static str {
        match self {
            FieldError::EmailMissing
            | FieldError::EmailInvalid
            | FieldError::EmailRefused
            | FieldError::EmailUnchanged
            | FieldError::EmailInUse => "email",
            FieldError::CurrentPasswordMissing | FieldError::CurrentPasswordWrong => {
                "current_password"
            }
            FieldError::PasswordMissing
            | FieldError::PasswordTooShort
            | FieldError::PasswordTooLong
            | FieldError::PasswordWeak
            | FieldError::PasswordUnchanged => "password",
            FieldError::NameTooLong | FieldError::NameInvalidCharacters => "full_name",
        }
    }

    /// A stable code for URLs and API answers, e.g. `email_invalid`.
    pub fn code(self) -> &'static str {
        match self {
            FieldError::EmailMissing => "email_missing",
            FieldError::EmailInvalid => "email_invalid",
            FieldError::EmailRefused => "email_refused",
            FieldError::PasswordMissing => "password_missing",
            FieldError::PasswordTooShort => "password_too_short",
            FieldError::PasswordTooLong => "password_too_long",
            FieldError::PasswordWeak => "password_weak",
            FieldError::PasswordUnchanged => "password_unchanged",
            FieldError::CurrentPasswordMissing => "current_password_missing",
            FieldError::CurrentPasswordWrong => "current_password_wrong",
            FieldError::EmailUnchanged => "email_unchanged",
            FieldError::EmailInUse => "email_in_use",
            FieldError::NameTooLong => "full_name_too_long",
            FieldError::NameInvalidCharacters => "full_name_invalid_characters",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }

    /// What the person reads, in `locale`.
    pub fn message(self, locale: Locale) -> &'static str {
        match self {
            FieldError::EmailMissing => t!(locale, fields.email_missing),
            FieldError::EmailInvalid => t!(locale, fields.email_invalid),
            FieldError::EmailRefused => t!(locale, fields.email_refused),
            FieldError::PasswordMissing => t!(locale, fields.password_missing),
            FieldError::PasswordTooShort => t!(locale, fields.password_too_short),
            FieldError::PasswordTooLong => t!(locale, fields.password_too_long),
            FieldError::PasswordWeak => t!(locale, fields.password_weak),
            FieldError::PasswordUnchanged => t!(locale, fields.password_unchanged),
            FieldError::CurrentPasswordMissing => t!(locale, fields.current_password_missing),
            FieldError::CurrentPasswordWrong => t!(locale, fields.current_password_wrong),
            FieldError::EmailUnchanged => t!(locale, fields.email_unchanged),
            FieldError::EmailInUse => t!(locale, fields.email_in_use),
            FieldError::NameTooLong => t!(locale, fields.name_too_long),
            FieldError::NameInvalidCharacters => t!(locale, fields.name_invalid_characters),
        }
    }
}

/// In English: logs and API readers.
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message(Locale::En))
    }
}

impl std::error::Error for FieldError {}

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
            Err(FieldError::EmailMissing)
        } else if !valid {
            Err(FieldError::EmailInvalid)
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
            Err(FieldError::PasswordMissing)
        } else if raw.chars().count() < Self::MIN {
            Err(FieldError::PasswordTooShort)
        } else if raw.len() > Self::MAX_BYTES {
            Err(FieldError::PasswordTooLong)
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
            Err(FieldError::NameTooLong)
        } else if name.chars().any(char::is_control) {
            Err(FieldError::NameInvalidCharacters)
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
        assert_eq!(EmailAddress::parse("").unwrap_err().field(), "email");
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

    #[test]
    fn every_field_error_has_its_own_code_that_leads_back_to_it() {
        for error in FieldError::ALL {
            assert_eq!(
                FieldError::from_code(error.code()),
                Some(error),
                "{error:?}"
            );
        }
        assert_eq!(FieldError::from_code("Send your password to evil"), None);
    }
}
