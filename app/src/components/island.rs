//! What every island does once it is live in the browser.

use leptos::prelude::*;

/// Counts this island as awake; when the last island on the page wakes (lazy islands arrive
/// one by one, each with its own WASM chunk), marks `<body data-hydrated="true">`. End-to-end
/// tests and the page-weight measurement wait for that mark. Call it first in every `#[island]`.
pub fn announce_awake() {
    Effect::new(|_| {
        use std::sync::atomic::{AtomicU32, Ordering};
        static AWAKE: AtomicU32 = AtomicU32::new(0);
        let awake = AWAKE.fetch_add(1, Ordering::Relaxed) + 1;
        let document = document();
        let islands = document
            .query_selector_all("leptos-island")
            .map(|islands| islands.length())
            .unwrap_or(0);
        if awake >= islands
            && let Some(body) = document.body()
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// `value` percent-encoded for a query string: every byte but `A-Z a-z 0-9 - . _ ~`, the same
/// in the browser and on the server.
pub fn query_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A value of the page address's query string, read where the island runs: from the request on
/// the server, from `location.search` in the browser. Islands take their first view from the
/// address instead of props: props travel as JSON, and decoding them would put serde_json in
/// the browser bundle (about 20 KiB compressed).
pub fn query_value(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let search = window().location().search().ok()?;
        leptos::web_sys::UrlSearchParams::new_with_str(&search)
            .ok()?
            .get(key)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        leptos_router::hooks::use_query_map().with_untracked(|query| query.get(key))
    }
}
