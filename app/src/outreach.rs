//! The waitlist and the contact form: where their forms post, what they accept, and why a
//! submission is refused, in words for the person.
//!
//! Both forms are plain HTML forms answered by the server's routes (`server::outreach`): a
//! browser without JavaScript posts them and comes back to the page with `?notice=` or
//! `?error=<code>`; with JavaScript a short inline script posts the same form for JSON and
//! shows the answer in place, keeping what was typed.

use serde::{Deserialize, Serialize};

use crate::i18n::Locale;
use crate::t;

/// Where the waitlist forms post (`email`, optional `name`, `source`, `page`).
pub const WAITLIST_PATH: &str = "/api/waitlist";
/// Where the contact form posts (`name`, `email`, `message`, `started`, and the honeypot).
pub const CONTACT_PATH: &str = "/api/contact";
pub const WAITLIST_PAGE: &str = "/waitlist";
pub const CONTACT_PAGE: &str = "/contact";

/// The honeypot: a field people never see or fill. A form that comes back with it filled was
/// filled by a program.
pub const HONEYPOT_FIELD: &str = "website";
/// A contact form sent sooner than this after the page was rendered was not typed by a person.
pub const MIN_FILL_SECS: i64 = 3;

pub const NAME_MAX: usize = 120;
pub const MESSAGE_MIN: usize = 10;
pub const MESSAGE_MAX: usize = 5000;
/// The waitlist's `source` column holds at most this many characters.
pub const SOURCE_MAX: usize = 64;

/// Which of the two features run, for their pages' notices (provided as context by the server;
/// absent means both run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutreachSwitches {
    pub waitlist: bool,
    pub contact: bool,
}

impl Default for OutreachSwitches {
    fn default() -> Self {
        Self {
            waitlist: true,
            contact: true,
        }
    }
}

/// Why a waitlist signup or a contact message was refused. Each has a stable
/// [`code`](Self::code) (JSON answers and `?error=` carry it), the [`field`](Self::field) it
/// is about, and a [`status`](Self::status); only `Unavailable` is a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutreachError {
    NameMissing,
    NameTooLong,
    /// Control characters (a line break in a name is a header injection attempt).
    NameInvalid,
    EmailMissing,
    EmailInvalid,
    MessageMissing,
    MessageTooShort,
    MessageTooLong,
    RateLimited {
        retry_after_secs: u64,
    },
    /// Turned off (`ENABLE_WAITLIST` / `ENABLE_CONTACT`), or mail is not configured.
    Off,
    Unavailable,
}

impl OutreachError {
    const ALL: [OutreachError; 11] = [
        OutreachError::NameMissing,
        OutreachError::NameTooLong,
        OutreachError::NameInvalid,
        OutreachError::EmailMissing,
        OutreachError::EmailInvalid,
        OutreachError::MessageMissing,
        OutreachError::MessageTooShort,
        OutreachError::MessageTooLong,
        OutreachError::RateLimited {
            retry_after_secs: 60,
        },
        OutreachError::Off,
        OutreachError::Unavailable,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OutreachError::NameMissing => "name_missing",
            OutreachError::NameTooLong => "name_too_long",
            OutreachError::NameInvalid => "name_invalid",
            OutreachError::EmailMissing => "email_missing",
            OutreachError::EmailInvalid => "email_invalid",
            OutreachError::MessageMissing => "message_missing",
            OutreachError::MessageTooShort => "message_too_short",
            OutreachError::MessageTooLong => "message_too_long",
            OutreachError::RateLimited { .. } => "rate_limited",
            OutreachError::Off => "feature_off",
            OutreachError::Unavailable => "unavailable",
        }
    }

    /// The kind a `code` names (a rate limit with a minute's wait), for `?error=` on a page.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }

    /// The form field the refusal is about, if one.
    pub fn field(self) -> Option<&'static str> {
        match self {
            OutreachError::NameMissing
            | OutreachError::NameTooLong
            | OutreachError::NameInvalid => Some("name"),
            OutreachError::EmailMissing | OutreachError::EmailInvalid => Some("email"),
            OutreachError::MessageMissing
            | OutreachError::MessageTooShort
            | OutreachError::MessageTooLong => Some("message"),
            _ => None,
        }
    }

    pub fn status(self) -> u16 {
        match self {
            OutreachError::RateLimited { .. } => 429,
            OutreachError::Off | OutreachError::Unavailable => 503,
            _ => 400,
        }
    }

    /// What the person reads, in `locale`.
    pub fn message(self, locale: Locale) -> String {
        match self {
            OutreachError::NameMissing => t!(locale, outreach.name_missing).to_string(),
            OutreachError::NameTooLong => t!(locale, fields.name_too_long).to_string(),
            OutreachError::NameInvalid => t!(locale, fields.name_invalid_characters).to_string(),
            OutreachError::EmailMissing => t!(locale, fields.email_missing).to_string(),
            OutreachError::EmailInvalid => t!(locale, fields.email_invalid).to_string(),
            OutreachError::MessageMissing => t!(locale, outreach.message_missing).to_string(),
            OutreachError::MessageTooShort => t!(locale, outreach.message_too_short).to_string(),
            OutreachError::MessageTooLong => t!(locale, outreach.message_too_long).to_string(),
            OutreachError::RateLimited { retry_after_secs } => {
                t!(locale, errors.rate_limited)(retry_after_secs.div_ceil(60).max(1))
            }
            OutreachError::Off => t!(locale, outreach.off).to_string(),
            OutreachError::Unavailable => t!(locale, errors.unavailable).to_string(),
        }
    }
}

/// In English: logs and API readers.
impl std::fmt::Display for OutreachError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for OutreachError {}

/// A name as typed: trimmed, at most [`NAME_MAX`] characters, no control characters (a name
/// ends up in a mail's headers and in HTML).
pub fn parse_name(raw: &str) -> Result<Option<String>, OutreachError> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().any(char::is_control) {
        return Err(OutreachError::NameInvalid);
    }
    if name.chars().count() > NAME_MAX {
        return Err(OutreachError::NameTooLong);
    }
    Ok(Some(name.to_string()))
}

/// A contact message: trimmed, [`MESSAGE_MIN`]..=[`MESSAGE_MAX`] characters; line breaks and
/// tabs are kept, other control characters are dropped.
pub fn parse_message(raw: &str) -> Result<String, OutreachError> {
    let message: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    match message.chars().count() {
        0 => Err(OutreachError::MessageMissing),
        n if n < MESSAGE_MIN => Err(OutreachError::MessageTooShort),
        n if n > MESSAGE_MAX => Err(OutreachError::MessageTooLong),
        _ => Ok(message),
    }
}

/// Where a signup came from, as kept: a campaign tag or the page's name, only letters, digits
/// and `-_.:/`, at most [`SOURCE_MAX`] characters; anything else is not kept at all.
pub fn parse_source(raw: &str) -> Option<String> {
    let source = raw.trim();
    let clean = !source.is_empty()
        && source.chars().count() <= SOURCE_MAX
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'));
    clean.then(|| source.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_round_trips_its_code_and_reads_in_both_languages() {
        for error in OutreachError::ALL {
            assert_eq!(OutreachError::from_code(error.code()), Some(error));
            assert_ne!(error.message(Locale::Id), error.message(Locale::En));
            assert!((400..600).contains(&error.status()));
        }
        assert_eq!(OutreachError::from_code("<script>"), None);
    }

    #[test]
    fn names_are_trimmed_optional_and_free_of_control_characters() {
        assert_eq!(parse_name("  Budi  "), Ok(Some("Budi".into())));
        assert_eq!(parse_name("   "), Ok(None));
        assert_eq!(
            parse_name("Budi\r\nBcc: x@y.z"),
            Err(OutreachError::NameInvalid)
        );
        assert_eq!(
            parse_name(&"a".repeat(NAME_MAX + 1)),
            Err(OutreachError::NameTooLong)
        );
    }

    #[test]
    fn messages_keep_their_lines_and_have_bounds() {
        assert_eq!(
            parse_message("Halo,\r\nsaya mau tanya\u{0}.\n"),
            Ok("Halo,\nsaya mau tanya.".into())
        );
        assert_eq!(parse_message(" \n "), Err(OutreachError::MessageMissing));
        assert_eq!(parse_message("hai"), Err(OutreachError::MessageTooShort));
        assert_eq!(
            parse_message(&"x".repeat(MESSAGE_MAX + 1)),
            Err(OutreachError::MessageTooLong)
        );
    }

    #[test]
    fn a_source_is_a_tag_or_nothing() {
        assert_eq!(
            parse_source("newsletter:2026-12"),
            Some("newsletter:2026-12".into())
        );
        assert_eq!(parse_source("landing"), Some("landing".into()));
        assert_eq!(parse_source("<img src=x>"), None);
        assert_eq!(parse_source(&"a".repeat(SOURCE_MAX + 1)), None);
        assert_eq!(parse_source(""), None);
    }
}
