//! Integration tests: one binary (it links once), one module per capability.

mod account_settings;
mod admin_area;
mod admin_bootstrap;
mod auth_messages;
mod auth_twin;
mod cli;
mod client_ip;
mod database_enums;
mod hardening;
mod health;
mod helpers;
mod hostile_input;
mod identity_flow;
mod languages;
mod leptos_settings;
mod local_cluster;
mod mail;
mod pages;
mod profiles;
mod rate_limits;
mod redirects;
mod schema;
mod service_rpcs;
mod static_assets;
mod user_scope;
mod what_a_user_notices;
