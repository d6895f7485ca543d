//! Admin capabilities: roles and the dashboard's numbers.

pub mod metrics;
pub mod roles;
