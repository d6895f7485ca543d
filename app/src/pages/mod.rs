//! One module per page; each keeps its user-facing text in one place.

pub mod admin;
pub mod auth_error;
pub mod dashboard;
pub mod dev_mailbox;
pub mod forgot_password;
pub mod landing;
pub mod login;
pub mod magic_link_sent;
pub mod not_found;
pub mod settings;
pub mod sign_up;
pub mod sign_up_success;
pub mod update_password;
pub mod verify_email;
