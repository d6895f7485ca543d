//! The WASM entry point. The server renders every page; in the browser only the `#[island]`
//! components of `app` come alive: Leptos' island script calls `hydrate`, then hydrates each
//! island on the page (a lazy island after fetching its own chunk).
#![recursion_limit = "256"]

// Links the app crate, whose islands are the exports this module offers the island script.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
