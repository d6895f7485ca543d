//! Admin capabilities: who may enter the admin area, roles, and the dashboard's numbers.

pub mod access;
pub mod console;
pub mod metrics;
pub mod roles;
