//! Object names as Storage accepts them.

use super::error::{StorageError, StorageResult};

/// Storage's `isValidKey`: non-empty, and only the characters S3 handles safely — ASCII
/// letters and digits and `_/!.*'() &$=@;:+,?-`. So a NUL, a backslash, `%`, a `#` or any
/// non-ASCII letter is refused. `.` and `..` segments are allowed here (as in Storage); the
/// file layout refuses them ([`super::files`]).
pub(super) fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_/!.*'() &$=@;:+,?-".contains(c))
}

/// Storage's `mustBeValidKey`.
pub(super) fn must_be_valid_key(key: &str) -> StorageResult<()> {
    if is_valid_key(key) {
        Ok(())
    } else {
        Err(StorageError::invalid_key(key))
    }
}

/// The placeholder the dashboard uploads to show an empty folder: always 0 bytes, of any type.
pub(super) fn is_empty_folder(key: &str) -> bool {
    key.ends_with(".emptyFolderPlaceholder")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_storages_character_rule() {
        assert!(is_valid_key("6f1c/avatar"));
        assert!(is_valid_key("folder/cat (1).png"));
        assert!(is_valid_key("a/../b"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a\\b"));
        assert!(!is_valid_key("a\0b"));
        assert!(!is_valid_key("caf\u{e9}.png"));
        assert!(!is_valid_key("100%.png"));
        assert_eq!(must_be_valid_key("a#b").unwrap_err().code(), "InvalidKey");
    }
}
