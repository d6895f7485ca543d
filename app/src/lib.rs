//! Kilat's user interface and the contract between browser and server.
//!
//! Everything here compiles for both the server (`ssr`) and the browser (`hydrate`), so it holds
//! no database code, no HTTP clients and no secrets.

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
