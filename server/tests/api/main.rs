//! Integration tests: one binary (it links once), one module per capability.

mod cli;
mod health;
mod helpers;
mod leptos_settings;
mod local_cluster;
mod pages;
