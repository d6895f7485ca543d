//! Where the twin sends browsers back to, checked as GoTrue checks it, and how it writes the
//! results into those addresses.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use url::{Host, Url};

use super::{AuthTwinConfig, error::ApiError, query_param};

/// `utilities.IsRedirectURLValid`: the site URL's own host (any port on localhost), loopback
/// addresses, or a match of the allow-list (GoTrue's globs: `*` stays within a host label or
/// path segment, `**` crosses them; an entry without wildcards must match exactly).
pub(super) fn is_allowed(config: &AuthTwinConfig, redirect: &str) -> bool {
    if redirect.is_empty() {
        return false;
    }
    let (Ok(base), Ok(target)) = (Url::parse(&config.site_url), Url::parse(redirect)) else {
        return false;
    };
    if base.host_str() == target.host_str()
        && base.scheme() == target.scheme()
        && (base.port_or_known_default() == target.port_or_known_default() || is_localhost(&target))
    {
        return true;
    }
    match target.host() {
        Some(Host::Ipv4(ip)) => return ip.is_loopback(),
        Some(Host::Ipv6(ip)) => return ip.is_loopback(),
        _ => {}
    }
    let without_fragment = redirect.split('#').next().unwrap_or(redirect);
    config
        .additional_redirect_urls
        .iter()
        .any(|pattern| glob_matches(pattern.as_bytes(), without_fragment.as_bytes()))
}

fn is_localhost(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// gobwas/glob with separators `.` and `/`, as GoTrue compiles its allow-list.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=text.len()).any(|i| glob_matches(rest, &text[i..])),
        [b'*', rest @ ..] => {
            let mut i = 0;
            loop {
                if glob_matches(rest, &text[i..]) {
                    return true;
                }
                if i == text.len() || text[i] == b'.' || text[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        [b'?', rest @ ..] => {
            !text.is_empty() && text[0] != b'.' && text[0] != b'/' && glob_matches(rest, &text[1..])
        }
        [c, rest @ ..] => text.first() == Some(c) && glob_matches(rest, &text[1..]),
    }
}

/// `utilities.GetReferrer`: the requested `redirect_to` (query parameter, or GoTrue's
/// `redirect_to` header) when allowed, else an allowed `Referer`, else the site URL.
pub(super) fn referrer(config: &AuthTwinConfig, uri: &Uri, headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let from_query = query_param(uri, "redirect_to");
    let requested = header("redirect_to")
        .filter(|v| !v.is_empty())
        .or(from_query.as_deref());
    if let Some(url) = requested.filter(|url| is_allowed(config, url)) {
        return url.to_string();
    }
    if let Some(url) = header("referer").filter(|url| is_allowed(config, url)) {
        return url.to_string();
    }
    config.site_url.clone()
}

/// `key=value&…` with keys sorted, encoded like Go's `url.Values.Encode`.
pub(super) fn encode(pairs: &[(&str, &str)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(sorted)
        .finish()
}

/// `redirect#…` with a session's tokens, as the implicit flow hands them over, and `extra`.
pub(super) fn with_session_fragment(
    redirect: &str,
    session: &Value,
    extra: &[(&str, &str)],
) -> String {
    let text = |key: &str| match &session[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (access, expires_at, expires_in, refresh) = (
        text("access_token"),
        text("expires_at"),
        text("expires_in"),
        text("refresh_token"),
    );
    let mut pairs = vec![
        ("access_token", access.as_str()),
        ("expires_at", &expires_at),
        ("expires_in", &expires_in),
        ("refresh_token", &refresh),
        ("token_type", "bearer"),
        ("sb", ""),
    ];
    pairs.extend_from_slice(extra);
    with_query(redirect, &[], Some(&pairs))
}

/// The redirect itself: `status` (302 or 303) with `location`.
pub(super) fn response(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (status, [(header::LOCATION, value)]).into_response(),
        Err(e) => ApiError::internal("Error building the redirect", e).into_response(),
    }
}

/// `redirect` with `pairs` set in its query (replacing parameters of the same name; Go's
/// `url.Values` sorts the whole query then) and, when given, `fragment` as its fragment. The
/// rest of the address is kept as written, as Go's `url.URL` round-trips it.
pub(super) fn with_query(
    redirect: &str,
    pairs: &[(&str, &str)],
    fragment: Option<&[(&str, &str)]>,
) -> String {
    let base = redirect.split('#').next().unwrap_or(redirect);
    let mut out = if pairs.is_empty() {
        base.to_string()
    } else {
        let (path, query) = base.split_once('?').unwrap_or((base, ""));
        let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| !pairs.iter().any(|(name, _)| name == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut all: Vec<(&str, &str)> =
            kept.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend_from_slice(pairs);
        format!("{path}?{}", encode(&all))
    };
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(&encode(fragment));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_gotrue() {
        let m = |p: &str, t: &str| glob_matches(p.as_bytes(), t.as_bytes());
        assert!(m(
            "http://localhost:3000/**",
            "http://localhost:3000/auth/confirm"
        ));
        assert!(m(
            "https://*.example.com/**",
            "https://preview.example.com/a/b"
        ));
        assert!(!m(
            "https://*.example.com/**",
            "https://evil.com/.example.com/a"
        ));
        assert!(!m("https://*.example.com", "https://a.b.example.com"));
        assert!(m(
            "https://example.com/auth/confirm",
            "https://example.com/auth/confirm"
        ));
        assert!(!m(
            "https://example.com/auth/confirm",
            "https://example.com/auth/confirm/x"
        ));
    }

    #[test]
    fn encodes_sorted_like_go() {
        assert_eq!(
            encode(&[("type", "signup"), ("access_token", "a b"), ("sb", "")]),
            "access_token=a+b&sb=&type=signup"
        );
        assert_eq!(
            with_query(
                "http://x.test/cb?next=%2Fd&code=old",
                &[("code", "c1")],
                None
            ),
            "http://x.test/cb?code=c1&next=%2Fd"
        );
        assert_eq!(
            with_query("http://127.0.0.1:3000", &[], Some(&[("error", "x")])),
            "http://127.0.0.1:3000#error=x"
        );
    }
}
