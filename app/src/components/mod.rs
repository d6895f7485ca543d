//! The small component set every page is built from.

pub mod layout;
pub mod theme;
pub mod ui;
