//! Domain types shared by the UI and the server.

pub mod money;
pub mod plan;
