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
