//! One module per page; each keeps its user-facing text in one place.

pub mod dev_mailbox;
pub mod landing;
pub mod not_found;
