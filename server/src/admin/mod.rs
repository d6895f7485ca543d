//! Admin capabilities: who may enter the admin area and the dashboard's numbers (roles
//! themselves belong to identity: `auth::roles`).

pub mod access;
pub mod console;
pub mod metrics;
