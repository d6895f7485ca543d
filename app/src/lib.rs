//! Kilat's user interface and the contract between browser and server.
//!
//! Everything here compiles for both the server (`ssr`) and the browser (`hydrate`), so it holds
//! no database code, no HTTP clients and no secrets.

// The admin tables' view types nest deeper than the default limit lets the size-optimised
// browser build lay out (as in `frontend`).
#![recursion_limit = "256"]

pub mod admin;
pub mod ai;
pub mod avatar;
pub mod billing;
pub mod components;
pub mod domain;
pub mod i18n;
pub mod identity;
pub mod outreach;
pub mod pages;
pub mod ports;
pub mod refusal;
mod shell;
pub mod status;

#[cfg(feature = "ssr")]
pub use shell::PagePolicy;
pub use shell::{App, SiteUrl, StorageOrigin, shell};
