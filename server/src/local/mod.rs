//! Local stand-ins for the services Kilat talks to. Each speaks its provider's protocol, so the
//! production client is the code path every local run and test exercises. Never in production.

pub mod mail_twin;
