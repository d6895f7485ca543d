//! The Auth mails, worded as GoTrue's default templates, each with the link GoTrue builds:
//! `{api_external_url}/auth/v1/verify?token=<token hash>&type=<type>&redirect_to=<redirect>`.

use sqlx::PgConnection;

use super::{
    Twin, check_mail_frequency,
    crypto::{self, html_escape},
    error::{ApiError, ApiResult},
    users::{self, UserRow},
};
use crate::mail::Email;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Signup,
    MagicLink,
    Recovery,
    /// One of the two mails of a secure email change.
    EmailChange,
}

impl Kind {
    /// The `type` of the verify link.
    pub(super) fn link_type(self) -> &'static str {
        match self {
            Kind::Signup => "signup",
            Kind::MagicLink => "magiclink",
            Kind::Recovery => "recovery",
            Kind::EmailChange => "email_change",
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Kind::Signup => "Confirm your email address",
            Kind::MagicLink => "Your sign-in link",
            Kind::Recovery => "Reset your password",
            Kind::EmailChange => "Confirm your new email address",
        }
    }

    /// GoTrue's error message when the mail cannot be sent.
    fn failure(self) -> &'static str {
        match self {
            Kind::Signup => "Error sending confirmation email",
            Kind::MagicLink => "Error sending magic link email",
            Kind::Recovery => "Error sending recovery email",
            Kind::EmailChange => "Error sending email change email",
        }
    }
}

/// What one mail carries.
pub(super) struct Message<'a> {
    pub kind: Kind,
    pub to: &'a str,
    /// The stored token hash, `pkce_`-prefixed for PKCE flows: the link's `token`.
    pub token_hash: &'a str,
    /// The six-digit code, for `POST /verify {email, token}`.
    pub otp: &'a str,
    pub redirect_to: &'a str,
    /// For email changes: the address being confirmed.
    pub new_email: Option<&'a str>,
}

/// GoTrue's `encodeRedirectURL`: escaped only when it would otherwise break the query.
fn encode_redirect(redirect: &str) -> String {
    if redirect.contains(['&', '=', '#']) {
        url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect()
    } else {
        redirect.to_string()
    }
}

/// The `{{ .ConfirmationURL }}` of the mail.
pub(super) fn confirmation_url(twin: &Twin, message: &Message<'_>) -> String {
    let token: String =
        url::form_urlencoded::byte_serialize(message.token_hash.as_bytes()).collect();
    format!(
        "{}/verify?token={token}&type={}&redirect_to={}",
        twin.issuer,
        message.kind.link_type(),
        encode_redirect(message.redirect_to)
    )
}

fn bodies(message: &Message<'_>, url: &str) -> (String, String) {
    let link = html_escape(url);
    let (html, lead, action) = match message.kind {
        Kind::Signup => (
            format!(
                "<h2>Confirm your email address</h2>\n\n<p>Follow the link below to confirm this email address and finish signing up.</p>\n<p><a href=\"{link}\">Confirm email address</a></p>\n"
            ),
            "Follow the link below to confirm this email address and finish signing up.".to_string(),
            "Confirm email address",
        ),
        Kind::MagicLink => (
            format!(
                "<h2>Your sign-in link</h2>\n\n<p>Follow the link below to sign in. This link expires shortly and can only be used once.</p>\n<p><a href=\"{link}\">Sign in</a></p>"
            ),
            "Follow the link below to sign in. This link expires shortly and can only be used once.".to_string(),
            "Sign in",
        ),
        Kind::Recovery => (
            format!(
                "<h2>Reset your password</h2>\n\n<p>We received a request to reset your password. Follow the link below to choose a new one.</p>\n<p><a href=\"{link}\">Reset password</a></p>\n<p>If you didn't request this, you can safely ignore this email.</p>"
            ),
            "We received a request to reset your password. Follow the link below to choose a new one.".to_string(),
            "Reset password",
        ),
        Kind::EmailChange => {
            let new_email = message.new_email.unwrap_or_default();
            (
                format!(
                    "<h2>Confirm your new email address</h2>\n\n<p>Follow the link below to confirm {} as your new email address.</p>\n<p><a href=\"{link}\">Confirm new email address</a></p>\n<p>If you didn't request this change, you can safely ignore this email.</p>",
                    html_escape(new_email)
                ),
                format!("Follow the link below to confirm {new_email} as your new email address."),
                "Confirm new email address",
            )
        }
    };
    let text = format!(
        "{}\n\n{lead}\n\n{action}: {url}\n\nOr enter this code: {}\n",
        message.kind.subject(),
        message.otp
    );
    (html, text)
}

/// Sends the mail through the configured Resend client. A failure is GoTrue's 500.
pub(super) async fn send(twin: &Twin, message: Message<'_>) -> ApiResult<()> {
    let url = confirmation_url(twin, &message);
    let (html, text) = bodies(&message, &url);
    let email = Email {
        from: twin.config.mail_from.clone(),
        to: vec![message.to.to_string()],
        subject: message.kind.subject().to_string(),
        html,
        text,
        reply_to: None,
    };
    let key = format!(
        "auth-twin-{}-{}",
        message.kind.link_type(),
        message.token_hash
    );
    twin.config
        .mailer
        .send(&email, &key)
        .await
        .map(|_| ())
        .map_err(|e| ApiError::internal(message.kind.failure(), e))
}

/// Which of a user's single-address tokens a link carries: signup links the confirmation token,
/// recovery and magic links the recovery token.
#[derive(Debug, Clone, Copy)]
pub(super) enum OneTimeToken {
    Confirmation,
    Recovery,
}

/// `sendConfirmation` / `sendPasswordRecovery` / `sendMagicLink`: a new code, its hash stored
/// as the user's `token` (`pkce_`-prefixed in a PKCE flow) and mailed in a `kind` link.
pub(super) async fn send_one_time_token(
    twin: &Twin,
    conn: &mut PgConnection,
    user: &UserRow,
    token: OneTimeToken,
    kind: Kind,
    pkce: bool,
    redirect_to: &str,
) -> ApiResult<()> {
    let (token_type, sent_at, update) = match token {
        OneTimeToken::Confirmation => (
            "confirmation_token",
            user.confirmation_sent_at,
            "update auth.users set confirmation_token = $2, confirmation_sent_at = now(), \
               updated_at = now() where id = $1",
        ),
        OneTimeToken::Recovery => (
            "recovery_token",
            user.recovery_sent_at,
            "update auth.users set recovery_token = $2, recovery_sent_at = now(), updated_at = now() \
             where id = $1",
        ),
    };
    check_mail_frequency(sent_at)?;
    let otp = crypto::otp();
    let hash = crypto::token_hash(user.email(), &otp);
    let stored = if pkce { format!("pkce_{hash}") } else { hash };
    sqlx::query(update)
        .bind(user.id)
        .bind(&stored)
        .execute(&mut *conn)
        .await?;
    users::store_one_time_token(conn, user.id, token_type, &stored, user.email()).await?;
    send(
        twin,
        Message {
            kind,
            to: user.email(),
            token_hash: &stored,
            otp: &otp,
            redirect_to,
            new_email: None,
        },
    )
    .await
}
