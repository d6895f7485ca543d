//! Kilat's server: SSR of the `app` crate, server functions, persistence and operations.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod cli;
pub mod config;
pub mod crawlers;
pub mod crypto;
pub mod db;
pub mod health;
pub mod html;
pub mod http_layers;
pub mod leptos_settings;
pub mod listener;
pub mod local;
pub mod locale;
pub mod mail;
pub mod net;
pub mod outbound;
pub mod outreach;
pub mod profiles;
pub mod ratelimit;
pub mod reply;
pub mod startup;
pub mod storage;
pub mod telemetry;
