//! Where to send a person after signing in, taken from `next=` in a URL or form: only ever a
//! path on this site.

use serde::{Deserialize, Serialize};

/// A path on this site to go to after signing in, e.g. `/dashboard/settings?tab=profile`.
///
/// [`NextPath::parse`] accepts a value only when a browser, joining it onto our origin, cannot
/// leave that origin: it is printable ASCII with no whitespace, control character or backslash
/// (browsers drop tabs and newlines and read `\` as `/`, which turns `/\t/evil.example` or
/// `/\evil.example` into `//evil.example`); it starts with exactly one `/` (a single leading
/// slash makes it a path-absolute reference, which keeps scheme, host and port); and the same
/// holds for every percent-decoded form of it (`/%09/evil`, `/%5Cevil`, `%2F%2Fevil`), so no
/// later decoding step can turn it into something else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPath(String);

impl NextPath {
    /// Where people go when `next` is missing or refused.
    pub const DEFAULT: &'static str = "/dashboard";

    /// Longer values are refused: no page of ours needs more, and a Location header should
    /// stay small.
    pub const MAX_LEN: usize = 2048;

    /// How many rounds of percent-decoding are checked (`%25` nests one level per round).
    const DECODING_ROUNDS: usize = 3;

    /// `raw` when it is a safe same-site path, else `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > Self::MAX_LEN {
            return None;
        }
        // The raw value: printable ASCII only, so no whitespace or control character, nothing a
        // header value refuses, and nothing a browser normalises away.
        if !raw.bytes().all(|b| b.is_ascii_graphic()) || !is_single_slash_path(raw.as_bytes()) {
            return None;
        }
        let mut layer = raw.as_bytes().to_vec();
        for _ in 0..Self::DECODING_ROUNDS {
            if !layer.contains(&b'%') {
                break;
            }
            layer = percent_decode(&layer);
            let text = std::str::from_utf8(&layer).ok()?;
            if text
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
                || !is_single_slash_path(&layer)
            {
                return None;
            }
        }
        Some(Self(raw.to_string()))
    }

    /// `raw` when it is safe, else [`NextPath::DEFAULT`].
    pub fn or_default(raw: Option<&str>) -> Self {
        raw.and_then(Self::parse).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path percent-encoded for a query value, e.g. `next=%2Fdashboard%2Fsettings`: every
    /// byte but `A-Z a-z 0-9 - . _ ~`, the same in the browser and on the server.
    pub fn to_query_value(&self) -> String {
        crate::components::island::query_encode(&self.0)
    }
}

impl Default for NextPath {
    fn default() -> Self {
        Self(Self::DEFAULT.to_string())
    }
}

impl std::fmt::Display for NextPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Starts with `/`, and not with `//` or `/\` (which browsers read as another host); no
/// backslash anywhere.
fn is_single_slash_path(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
        && !matches!(path.get(1), Some(b'/' | b'\\'))
        && !path.contains(&b'\\')
}

/// `%XX` decoded; a `%` not followed by two hex digits stays as it is (as browsers do).
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::NextPath;

    /// Values an attacker would put in `next=`.
    pub const HOSTILE: &[&str] = &[
        "",
        " ",
        "dashboard",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/%0D%0ALocation:%20https://evil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%2f%2fevil.example",
        "/%252F/evil.example",
        "/%25252F/evil.example",
        "/%00",
        "/%ff%fe",
        "/%c0%af",
        "/%e2%80%a8/evil.example",
        "/%c2%a0/evil.example",
        "/\u{3000}/evil.example",
        "/dashboard\u{0}",
        "/dashboard\\..\\evil",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "/javascript:alert(1)\n",
        "data:text/html,<script>alert(1)</script>",
        "https://evil.example",
        "http:/evil.example",
        "http:evil.example",
        "https:\\\\evil.example",
        "//evil.example/dashboard",
        " /dashboard",
        "/dashboard ",
    ];

    #[test]
    fn paths_on_this_site_are_kept() {
        for path in [
            "/dashboard",
            "/dashboard/settings",
            "/dashboard/settings?tab=profile&x=%2F",
            "/admin#payments",
            "/",
            "/auth/login?next=%2Fdashboard",
            "/caf%C3%A9",
        ] {
            assert_eq!(NextPath::or_default(Some(path)).as_str(), path);
        }
    }

    #[test]
    fn a_path_is_encoded_whole_for_a_query() {
        let next = NextPath::parse("/dashboard/settings?tab=a&b=c%2Fd").unwrap();
        assert_eq!(
            next.to_query_value(),
            "%2Fdashboard%2Fsettings%3Ftab%3Da%26b%3Dc%252Fd"
        );
    }

    #[test]
    fn anything_else_falls_back_to_the_dashboard() {
        let huge = format!("/{}", "a".repeat(100 * 1024));
        for hostile in HOSTILE.iter().copied().chain([huge.as_str()]) {
            assert_eq!(
                NextPath::or_default(Some(hostile)).as_str(),
                "/dashboard",
                "{hostile:?}"
            );
        }
        assert_eq!(NextPath::or_default(None).as_str(), "/dashboard");
    }

    /// The property itself, checked with a real URL parser (the WHATWG rules browsers follow):
    /// whatever is accepted, joined onto our origin, stays on it.
    #[test]
    fn whatever_is_accepted_keeps_the_origin() {
        let base = url::Url::parse("https://kilat.example/auth/login?next=x").unwrap();
        let mut candidates: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
        // Every two-character tail after a slash, raw and percent-encoded.
        for a in 0u8..=0x7f {
            for b in [b'/', b'\\', b'a', b'%', b'.', b':', b'@'] {
                candidates.push(format!("/{}{}", a as char, b as char));
                candidates.push(format!("/%{a:02X}{}", b as char));
                candidates.push(format!("/%{a:02x}%{b:02x}evil.example"));
            }
        }
        for candidate in &candidates {
            let Some(next) = NextPath::parse(candidate) else {
                continue;
            };
            let joined = base.join(next.as_str()).unwrap();
            assert_eq!(joined.origin(), base.origin(), "{candidate:?} → {joined}");
            // Decoded once more (as a careless router might), it still stays here.
            let decoded = super::percent_decode(next.as_str().as_bytes());
            let decoded = String::from_utf8(decoded).unwrap();
            let joined = base.join(&decoded).unwrap();
            assert_eq!(joined.origin(), base.origin(), "{candidate:?} → {joined}");
        }
    }
}
