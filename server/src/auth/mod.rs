//! Identity: Supabase Auth access tokens and, as the other parts land, the Auth client, the local
//! Auth twin, sessions and roles.

pub mod account;
pub mod identity;
pub mod jwt;
pub mod pkce;
pub mod roles;
pub mod routes;
pub mod session;
pub mod supabase_client;
