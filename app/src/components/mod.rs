//! The small component set every page is built from.

pub mod auth;
pub mod avatar;
pub mod chart;
pub mod form;
pub mod form_action;
pub mod icons;
pub mod island;
pub mod layout;
pub mod markdown;
pub mod theme;
pub mod ui;
