//! Admin capabilities: who may enter the admin area and the dashboard's numbers (roles
//! themselves belong to identity: `auth::roles`).

pub mod access;
pub mod ai_usage;
pub mod audit_trail;
pub mod console;
pub mod csv;
pub mod cursor;
pub mod demo;
pub mod exports;
pub mod metrics;
pub mod outbox;
pub mod payments;
pub mod people;
pub mod waitlist;
