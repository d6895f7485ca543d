//! Integration tests: one binary (it links once), one module per capability.

mod cli;
mod database_enums;
mod health;
mod helpers;
mod leptos_settings;
mod local_cluster;
mod pages;
mod schema;
mod service_rpcs;
mod user_scope;
