//! What the AI routes answer when they refuse, in both languages. The routes themselves (chat
//! and generation streamed as server-sent events) live in the server's `ai` capability.

use crate::i18n::{Locale, format_datetime};
use crate::t;

/// Where the AI routes answer.
pub const CHAT_PATH: &str = "/api/ai/chat";
pub const GENERATE_PATH: &str = "/api/ai/generate";
pub const USAGE_PATH: &str = "/api/ai/usage";
/// The person's conversations (`GET`), and one of them at `/{id}` (`GET`, `PATCH`, `DELETE`).
pub const CONVERSATIONS_PATH: &str = "/api/ai/conversations";

/// The AI pages.
pub const CHAT_PAGE: &str = "/dashboard/ai";
pub const GENERATE_PAGE: &str = "/dashboard/ai/generate";

/// The longest conversation title the server keeps (characters, before its `…`).
pub const TITLE_MAX: usize = 80;

/// A one-shot generation template, as `POST /api/ai/generate` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    ProductDescription,
    EmailReply,
    SocialPost,
}

impl Template {
    pub const ALL: [Template; 3] = [
        Template::ProductDescription,
        Template::EmailReply,
        Template::SocialPost,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Template::ProductDescription => "product_description",
            Template::EmailReply => "email_reply",
            Template::SocialPost => "social_post",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|template| template.code() == code)
    }
}

/// The title the server gives a new conversation: its first message's first line, at most
/// [`TITLE_MAX`] characters (then `…`). The chat shows it at once, before the list is read again.
pub fn conversation_title(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    let title: String = line.chars().take(TITLE_MAX).collect();
    if title.is_empty() {
        "…".to_string()
    } else if line.chars().count() > TITLE_MAX {
        format!("{title}…")
    } else {
        title
    }
}

/// The longest message a person may send (characters).
pub const MESSAGE_MAX: usize = 8_000;

/// Why an AI request was refused. Every refusal tells the person what to do next: upgrade,
/// wait until a time, or retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AiError {
    MessageMissing,
    MessageTooLong,
    /// A generation template this server does not have.
    TemplateUnknown,
    /// No conversation of this person has that id.
    ConversationNotFound,
    /// The plan has no AI (403, with an upgrade link).
    NoAi,
    RateLimited {
        retry_after_secs: u64,
    },
    /// This month's allowance is spent; it renews at `resets_at` (Unix seconds).
    QuotaReached {
        resets_at: i64,
        retry_after_secs: u64,
    },
    /// AI is switched off (`ENABLE_AI`), or no provider is configured.
    Off,
    /// The provider is overloaded, rate limiting us, or unreachable: try again shortly.
    ProviderBusy,
    Unavailable,
}

impl AiError {
    pub fn code(self) -> &'static str {
        match self {
            AiError::MessageMissing => "message_missing",
            AiError::MessageTooLong => "message_too_long",
            AiError::TemplateUnknown => "template_unknown",
            AiError::ConversationNotFound => "conversation_not_found",
            AiError::NoAi => "plan_without_ai",
            AiError::RateLimited { .. } => "rate_limited",
            AiError::QuotaReached { .. } => "quota_reached",
            AiError::Off => "feature_off",
            AiError::ProviderBusy => "provider_busy",
            AiError::Unavailable => "unavailable",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            AiError::MessageMissing | AiError::MessageTooLong | AiError::TemplateUnknown => 400,
            AiError::NoAi => 403,
            AiError::ConversationNotFound => 404,
            AiError::RateLimited { .. } | AiError::QuotaReached { .. } => 429,
            AiError::Off | AiError::ProviderBusy | AiError::Unavailable => 503,
        }
    }

    pub fn field(self) -> Option<&'static str> {
        match self {
            AiError::MessageMissing | AiError::MessageTooLong => Some("message"),
            AiError::TemplateUnknown => Some("template"),
            _ => None,
        }
    }

    pub fn retry_after_secs(self) -> Option<u64> {
        match self {
            AiError::RateLimited { retry_after_secs }
            | AiError::QuotaReached {
                retry_after_secs, ..
            } => Some(retry_after_secs),
            _ => None,
        }
    }

    /// What the person reads, in `locale`.
    pub fn message(self, locale: Locale) -> String {
        match self {
            AiError::MessageMissing => t!(locale, ai.message_missing).to_string(),
            AiError::MessageTooLong => t!(locale, ai.message_too_long).to_string(),
            AiError::TemplateUnknown => t!(locale, ai.template_unknown).to_string(),
            AiError::ConversationNotFound => t!(locale, ai.conversation_not_found).to_string(),
            AiError::NoAi => t!(locale, ai.plan_without_ai).to_string(),
            AiError::RateLimited { retry_after_secs } => {
                t!(locale, errors.rate_limited)(retry_after_secs.div_ceil(60).max(1))
            }
            AiError::QuotaReached { resets_at, .. } => {
                t!(locale, ai.quota_reached)(&format_datetime(resets_at, locale))
            }
            AiError::Off => t!(locale, ai.off).to_string(),
            AiError::ProviderBusy => t!(locale, ai.provider_busy).to_string(),
            AiError::Unavailable => t!(locale, errors.unavailable).to_string(),
        }
    }
}

/// In English: logs and API readers.
impl std::fmt::Display for AiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for AiError {}

/// A message as typed: trimmed, not empty, at most [`MESSAGE_MAX`] characters. Control
/// characters other than line breaks and tabs are dropped (they mean nothing to a model and
/// can hide text from the person reading the conversation later).
pub fn parse_message(raw: &str) -> Result<String, AiError> {
    let message: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    if message.is_empty() {
        return Err(AiError::MessageMissing);
    }
    if message.chars().count() > MESSAGE_MAX {
        return Err(AiError::MessageTooLong);
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_trimmed_bounded_and_stripped_of_control_characters() {
        assert_eq!(
            parse_message("  halo\r\ndunia\u{7}  "),
            Ok("halo\ndunia".into())
        );
        assert_eq!(parse_message(" \n\t "), Err(AiError::MessageMissing));
        assert_eq!(parse_message("\u{0}\u{1b}"), Err(AiError::MessageMissing));
        assert_eq!(
            parse_message(&"a".repeat(MESSAGE_MAX + 1)),
            Err(AiError::MessageTooLong)
        );
        assert!(parse_message(&"é".repeat(MESSAGE_MAX)).is_ok());
    }

    #[test]
    fn a_new_conversation_is_titled_by_its_first_line() {
        assert_eq!(conversation_title("  Halo\nsecond line"), "Halo");
        assert_eq!(conversation_title("\n"), "…");
        let long = "é".repeat(TITLE_MAX + 5);
        assert_eq!(
            conversation_title(&long),
            format!("{}…", "é".repeat(TITLE_MAX))
        );
        for template in Template::ALL {
            assert_eq!(Template::from_code(template.code()), Some(template));
        }
        assert_eq!(Template::from_code("poem"), None);
    }

    #[test]
    fn every_refusal_reads_in_both_languages_and_only_faults_are_5xx() {
        let all = [
            AiError::MessageMissing,
            AiError::MessageTooLong,
            AiError::TemplateUnknown,
            AiError::ConversationNotFound,
            AiError::NoAi,
            AiError::RateLimited {
                retry_after_secs: 90,
            },
            AiError::QuotaReached {
                resets_at: 1_798_736_400,
                retry_after_secs: 3600,
            },
            AiError::Off,
            AiError::ProviderBusy,
            AiError::Unavailable,
        ];
        for error in all {
            let (id, en) = (error.message(Locale::Id), error.message(Locale::En));
            assert!(!id.is_empty() && !en.is_empty() && id != en, "{error:?}");
            assert!(error.status() >= 400 && error.status() < 600);
        }
        let quota = AiError::QuotaReached {
            resets_at: 1_798_736_400,
            retry_after_secs: 3600,
        };
        assert!(
            quota.message(Locale::En).contains("January 2027"),
            "{}",
            quota.message(Locale::En)
        );
        assert!(quota.message(Locale::Id).contains("Januari 2027"));
    }
}
