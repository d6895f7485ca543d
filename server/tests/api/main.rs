//! Integration tests: one binary (it links once), one module per capability.

mod admin_area;
mod admin_bootstrap;
mod auth_twin;
mod cli;
mod database_enums;
mod hardening;
mod health;
mod helpers;
mod identity_flow;
mod leptos_settings;
mod local_cluster;
mod mail;
mod pages;
mod schema;
mod service_rpcs;
mod user_scope;
