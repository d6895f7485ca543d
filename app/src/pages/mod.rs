//! One module per page. Their text is in `crate::i18n`.

/// The pages anyone may read, listed in the sitemap (in both languages).
pub const PUBLIC_PATHS: [&str; 7] = [
    "/",
    "/pricing",
    "/waitlist",
    "/contact",
    "/terms",
    "/privacy",
    "/status",
];

pub mod admin;
pub mod ai;
pub mod auth_error;
pub mod billing;
pub mod dashboard;
pub mod dev_mailbox;
pub mod forgot_password;
pub mod landing;
pub mod legal;
pub mod login;
pub mod magic_link_sent;
pub mod not_found;
pub mod outreach;
pub mod pricing;
pub mod settings;
pub mod sign_up;
pub mod sign_up_success;
pub mod status;
pub mod update_password;
pub mod verify_email;
