//! The avatar contract between the settings page and the server: what an upload may be, and
//! why one is refused, in words for the person.

use crate::i18n::Locale;
use crate::t;

/// The most an avatar file may weigh: 2 MiB, the `avatars` bucket's `file_size_limit`.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// The picture types an avatar may be (the bucket's `allowed_mime_types`). The server decides
/// by the bytes; the page uses this for the file picker and a first check.
pub const ACCEPTED_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// Where the settings page sends a file (raw body or a form's `multipart/form-data`), and
/// where a form post removes the avatar.
pub const UPLOAD_PATH: &str = "/api/profile/avatar";
pub const REMOVE_PATH: &str = "/api/profile/avatar/remove";

/// Why an avatar change was refused. Each has a stable [`code`](Self::code) (the JSON answer and
/// `?error=` carry it) and a [`status`](Self::status); only `Unavailable` is a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvatarError {
    /// Over [`MAX_BYTES`].
    TooLarge,
    /// Not a JPEG, PNG, WebP or GIF by its bytes (SVG, HTML, a program, anything else).
    NotAPicture,
    /// A picture that also carries markup or script (a polyglot).
    HiddenContent,
    /// Truncated or otherwise undecodable.
    Damaged,
    /// More pixels than an avatar needs or the server will decode.
    TooManyPixels,
    /// No file in the request.
    Missing,
    NotSignedIn,
    RateLimited {
        retry_after_secs: u64,
    },
    Unavailable,
}

impl AvatarError {
    pub fn code(self) -> &'static str {
        match self {
            AvatarError::TooLarge => "avatar_too_large",
            AvatarError::NotAPicture => "avatar_not_a_picture",
            AvatarError::HiddenContent => "avatar_hidden_content",
            AvatarError::Damaged => "avatar_damaged",
            AvatarError::TooManyPixels => "avatar_too_many_pixels",
            AvatarError::Missing => "avatar_missing",
            AvatarError::NotSignedIn => "not_signed_in",
            AvatarError::RateLimited { .. } => "rate_limited",
            AvatarError::Unavailable => "unavailable",
        }
    }

    /// The kind a `code` names (a rate limit with a minute's wait), for `?error=` on the page.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            AvatarError::TooLarge,
            AvatarError::NotAPicture,
            AvatarError::HiddenContent,
            AvatarError::Damaged,
            AvatarError::TooManyPixels,
            AvatarError::Missing,
            AvatarError::NotSignedIn,
            AvatarError::RateLimited {
                retry_after_secs: 60,
            },
            AvatarError::Unavailable,
        ]
        .into_iter()
        .find(|error| error.code() == code)
    }

    pub fn status(self) -> u16 {
        match self {
            AvatarError::TooLarge => 413,
            AvatarError::NotAPicture => 415,
            AvatarError::HiddenContent | AvatarError::Damaged | AvatarError::TooManyPixels => 422,
            AvatarError::Missing => 400,
            AvatarError::NotSignedIn => 401,
            AvatarError::RateLimited { .. } => 429,
            AvatarError::Unavailable => 503,
        }
    }

    /// What the person reads, in `locale`.
    pub fn message(self, locale: Locale) -> String {
        match self {
            AvatarError::TooLarge => t!(locale, avatar.too_large).to_string(),
            AvatarError::NotAPicture => t!(locale, avatar.not_a_picture).to_string(),
            AvatarError::HiddenContent => t!(locale, avatar.hidden_content).to_string(),
            AvatarError::Damaged => t!(locale, avatar.damaged).to_string(),
            AvatarError::TooManyPixels => t!(locale, avatar.too_many_pixels).to_string(),
            AvatarError::Missing => t!(locale, avatar.missing).to_string(),
            AvatarError::NotSignedIn => t!(locale, errors.not_signed_in).to_string(),
            AvatarError::RateLimited { retry_after_secs } => {
                t!(locale, errors.rate_limited)(retry_after_secs.div_ceil(60).max(1))
            }
            AvatarError::Unavailable => t!(locale, errors.unavailable).to_string(),
        }
    }
}

/// In English: logs and API readers.
impl std::fmt::Display for AvatarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for AvatarError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_round_trips_its_code_and_reads_in_both_languages() {
        for code in [
            "avatar_too_large",
            "avatar_not_a_picture",
            "avatar_hidden_content",
            "avatar_damaged",
            "avatar_too_many_pixels",
            "avatar_missing",
            "not_signed_in",
            "rate_limited",
            "unavailable",
        ] {
            let error = AvatarError::from_code(code).unwrap();
            assert_eq!(error.code(), code);
            assert_ne!(
                error.message(Locale::Id),
                error.message(Locale::En),
                "{code}"
            );
            assert!((400..600).contains(&error.status()));
        }
        assert_eq!(AvatarError::from_code("nonsense"), None);
        assert_eq!(AvatarError::TooLarge.status(), 413);
    }
}
