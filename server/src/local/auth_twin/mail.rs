//! The Auth mails, worded as GoTrue's default templates, each with the link GoTrue builds:
//! `{api_external_url}/auth/v1/verify?token=<token hash>&type=<type>&redirect_to=<redirect>`.

use app::i18n::Locale;
use sqlx::PgConnection;

use super::{
    Twin, check_mail_frequency, crypto,
    error::{ApiError, ApiResult},
    users::{self, UserRow},
};
use crate::html::html_escape;
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
    /// The recipient's language: `locale` in their user metadata, which Kilat sets (see
    /// [`recipient_locale`]).
    pub locale: Locale,
}

/// The language of a user's mail: their metadata's `locale` (what a Supabase project's templates
/// read as `{{ .Data.locale }}`), else English, GoTrue's own.
pub(super) fn recipient_locale(user: &UserRow) -> Locale {
    user.raw_user_meta_data
        .as_ref()
        .and_then(|data| data.get("locale")?.as_str())
        .and_then(Locale::parse)
        .unwrap_or(Locale::En)
}

/// One mail's words: the subject (also its heading), what to do, the button, and (for links
/// nobody may have asked for) what to do if you did not.
struct Wording {
    subject: &'static str,
    lead: &'static str,
    action: &'static str,
    not_you: Option<&'static str>,
    code: &'static str,
}

/// The English is GoTrue's default templates'; `{new_email}` stands for the address being confirmed.
fn wording(kind: Kind, locale: Locale) -> Wording {
    match (locale, kind) {
        (Locale::En, Kind::Signup) => Wording {
            subject: "Confirm your email address",
            lead: "Follow the link below to confirm this email address and finish signing up.",
            action: "Confirm email address",
            not_you: None,
            code: "Or enter this code",
        },
        (Locale::En, Kind::MagicLink) => Wording {
            subject: "Your sign-in link",
            lead: "Follow the link below to sign in. This link expires shortly and can only be used once.",
            action: "Sign in",
            not_you: None,
            code: "Or enter this code",
        },
        (Locale::En, Kind::Recovery) => Wording {
            subject: "Reset your password",
            lead: "We received a request to reset your password. Follow the link below to choose a new one.",
            action: "Reset password",
            not_you: Some("If you didn't request this, you can safely ignore this email."),
            code: "Or enter this code",
        },
        (Locale::En, Kind::EmailChange) => Wording {
            subject: "Confirm your new email address",
            lead: "Follow the link below to confirm {new_email} as your new email address.",
            action: "Confirm new email address",
            not_you: Some("If you didn't request this change, you can safely ignore this email."),
            code: "Or enter this code",
        },
        (Locale::Id, Kind::Signup) => Wording {
            subject: "Konfirmasi alamat email Anda",
            lead: "Ikuti tautan di bawah untuk mengonfirmasi alamat email ini dan menyelesaikan pendaftaran.",
            action: "Konfirmasi alamat email",
            not_you: None,
            code: "Atau masukkan kode ini",
        },
        (Locale::Id, Kind::MagicLink) => Wording {
            subject: "Tautan masuk Anda",
            lead: "Ikuti tautan di bawah untuk masuk. Tautan ini segera kedaluwarsa dan hanya dapat dipakai sekali.",
            action: "Masuk",
            not_you: None,
            code: "Atau masukkan kode ini",
        },
        (Locale::Id, Kind::Recovery) => Wording {
            subject: "Atur ulang kata sandi Anda",
            lead: "Kami menerima permintaan untuk mengatur ulang kata sandi Anda. Ikuti tautan di bawah untuk memilih kata sandi baru.",
            action: "Atur ulang kata sandi",
            not_you: Some("Jika Anda tidak memintanya, abaikan saja email ini."),
            code: "Atau masukkan kode ini",
        },
        (Locale::Id, Kind::EmailChange) => Wording {
            subject: "Konfirmasi alamat email baru Anda",
            lead: "Ikuti tautan di bawah untuk mengonfirmasi {new_email} sebagai alamat email baru Anda.",
            action: "Konfirmasi alamat email baru",
            not_you: Some("Jika Anda tidak meminta perubahan ini, abaikan saja email ini."),
            code: "Atau masukkan kode ini",
        },
    }
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

/// The subject, HTML and text of the mail.
fn compose(message: &Message<'_>, url: &str) -> (String, String, String) {
    let words = wording(message.kind, message.locale);
    let new_email = message.new_email.unwrap_or_default();
    let lead = words.lead.replace("{new_email}", new_email);
    let mut html = format!(
        "<h2>{}</h2>\n\n<p>{}</p>\n<p><a href=\"{}\">{}</a></p>\n",
        words.subject,
        words.lead.replace("{new_email}", &html_escape(new_email)),
        html_escape(url),
        words.action
    );
    let mut text = format!("{}\n\n{lead}\n\n{}: {url}\n\n", words.subject, words.action);
    if let Some(not_you) = words.not_you {
        html.push_str(&format!("<p>{not_you}</p>\n"));
        text.push_str(&format!("{not_you}\n\n"));
    }
    text.push_str(&format!("{}: {}\n", words.code, message.otp));
    (words.subject.to_string(), html, text)
}

/// Sends the mail through the configured Resend client. A failure is GoTrue's 500.
pub(super) async fn send(twin: &Twin, message: Message<'_>) -> ApiResult<()> {
    let url = confirmation_url(twin, &message);
    let (subject, html, text) = compose(&message, &url);
    let email = Email {
        from: twin.config.mail_from.clone(),
        to: vec![message.to.to_string()],
        subject,
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
            locale: recipient_locale(user),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email_change(locale: Locale) -> (String, String, String) {
        let message = Message {
            kind: Kind::EmailChange,
            to: "ana@kilat.id",
            token_hash: "pkce_abc",
            otp: "123456",
            redirect_to: "http://127.0.0.1:3000/auth/confirm",
            new_email: Some("<b>@kilat.id"),
            locale,
        };
        compose(
            &message,
            "http://127.0.0.1:54321/auth/v1/verify?token=a&type=email_change",
        )
    }

    #[test]
    fn a_mail_is_in_the_recipients_language_with_the_address_escaped_and_the_code_last() {
        let (subject, html, text) = email_change(Locale::Id);
        assert_eq!(subject, "Konfirmasi alamat email baru Anda");
        assert!(
            html.contains("mengonfirmasi &lt;b&gt;@kilat.id sebagai"),
            "{html}"
        );
        assert!(html.contains("token=a&amp;type=email_change"), "{html}");
        assert!(
            text.contains("mengonfirmasi <b>@kilat.id sebagai"),
            "{text}"
        );
        assert!(text.ends_with("Atau masukkan kode ini: 123456\n"), "{text}");

        let (subject, html, text) = email_change(Locale::En);
        assert_eq!(subject, "Confirm your new email address");
        assert!(html.contains("If you didn't request this change"), "{html}");
        assert!(text.ends_with("Or enter this code: 123456\n"), "{text}");
    }
}
