//! The AI part of the configuration: which provider, its key and address, the model, how long
//! an answer may be, and the time zone the quota month follows.

use std::fmt;

use super::ProviderKind;

/// The models used unless `AI_MODEL` names another.
const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";
const DEFAULT_ANTHROPIC_MODEL: &str = "claude-haiku-4-5";
/// `AI_MAX_TOKENS` unless set: the longest answer, in tokens.
const DEFAULT_MAX_TOKENS: u32 = 1024;
const MAX_TOKENS_RANGE: std::ops::RangeInclusive<u32> = 16..=16_384;
/// `AI_QUOTA_TIME_ZONE` unless set: the product's market.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Jakarta";

#[derive(Clone, PartialEq, Eq)]
pub struct AiSettings {
    /// `AI_PROVIDER` (`openai` unless set).
    pub provider: ProviderKind,
    /// `AI_MODEL`.
    pub model: String,
    /// `OPENAI_API_KEY` or `ANTHROPIC_API_KEY`, whichever the provider needs; `None`: the local
    /// AI twin in development, "not configured" (503) in production.
    pub api_key: Option<String>,
    /// `OPENAI_BASE_URL` (`https://api.openai.com/v1`; OpenRouter, Ollama, vLLM…) or
    /// `ANTHROPIC_BASE_URL` (`https://api.anthropic.com`).
    pub base_url: Option<String>,
    /// `AI_MAX_TOKENS`.
    pub max_tokens: u32,
    /// `AI_QUOTA_TIME_ZONE`: an IANA name, checked against the database at start-up.
    pub time_zone: String,
}

impl fmt::Debug for AiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiSettings")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("max_tokens", &self.max_tokens)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

impl AiSettings {
    /// Every variable this part of the configuration reads.
    pub const VARIABLES: [&'static str; 8] = [
        "AI_PROVIDER",
        "AI_MODEL",
        "AI_MAX_TOKENS",
        "AI_QUOTA_TIME_ZONE",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
    ];

    /// The key variable the chosen provider needs.
    pub fn required_keys(&self) -> &'static [&'static str] {
        match self.provider {
            ProviderKind::OpenAi => &["OPENAI_API_KEY"],
            ProviderKind::Anthropic => &["ANTHROPIC_API_KEY"],
        }
    }

    /// Reads the variables through `get` (trimmed, unset or empty = `None`); every invalid
    /// value is added to `problems` and replaced by its default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let provider = match get("AI_PROVIDER") {
            None => ProviderKind::OpenAi,
            Some(raw) => raw.to_ascii_lowercase().parse().unwrap_or_else(|error| {
                problems.push(format!("AI_PROVIDER: {error}"));
                ProviderKind::OpenAi
            }),
        };
        let (key_var, url_var, default_model) = match provider {
            ProviderKind::OpenAi => ("OPENAI_API_KEY", "OPENAI_BASE_URL", DEFAULT_OPENAI_MODEL),
            ProviderKind::Anthropic => (
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_BASE_URL",
                DEFAULT_ANTHROPIC_MODEL,
            ),
        };
        let model = match get("AI_MODEL") {
            None => default_model.to_string(),
            Some(model)
                if model.len() <= 128 && !model.chars().any(|c| c.is_control() || c == ' ') =>
            {
                model
            }
            Some(model) => {
                problems.push(format!(
                    "AI_MODEL={model:?} is not a model name (at most 128 characters, no spaces)"
                ));
                default_model.to_string()
            }
        };
        let base_url = get(url_var).and_then(|url| match reqwest::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                Some(url.trim_end_matches('/').to_string())
            }
            _ => {
                problems.push(format!("{url_var}={url:?} is not an http(s) address"));
                None
            }
        });
        let max_tokens = match get("AI_MAX_TOKENS") {
            None => DEFAULT_MAX_TOKENS,
            Some(raw) => match raw.parse::<u32>() {
                Ok(tokens) if MAX_TOKENS_RANGE.contains(&tokens) => tokens,
                _ => {
                    problems.push(format!(
                        "AI_MAX_TOKENS={raw:?} is not a number of tokens from {} to {}",
                        MAX_TOKENS_RANGE.start(),
                        MAX_TOKENS_RANGE.end()
                    ));
                    DEFAULT_MAX_TOKENS
                }
            },
        };
        let time_zone = match get("AI_QUOTA_TIME_ZONE") {
            None => DEFAULT_TIME_ZONE.to_string(),
            Some(zone)
                if zone.len() <= 64
                    && zone
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) =>
            {
                zone
            }
            Some(zone) => {
                problems.push(format!(
                    "AI_QUOTA_TIME_ZONE={zone:?} is not a time zone name such as Asia/Jakarta"
                ));
                DEFAULT_TIME_ZONE.to_string()
            }
        };
        Self {
            provider,
            model,
            api_key: get(key_var),
            base_url,
            max_tokens,
            time_zone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> (AiSettings, Vec<String>) {
        let mut problems = Vec::new();
        let settings = AiSettings::from_lookup(
            |name| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            },
            &mut problems,
        );
        (settings, problems)
    }

    #[test]
    fn defaults_are_openai_in_jakarta_with_the_key_missing() {
        let (settings, problems) = read(&[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.provider, ProviderKind::OpenAi);
        assert_eq!(settings.model, DEFAULT_OPENAI_MODEL);
        assert_eq!(settings.api_key, None);
        assert_eq!(settings.time_zone, "Asia/Jakarta");
        assert_eq!(settings.required_keys(), ["OPENAI_API_KEY"]);
    }

    #[test]
    fn the_chosen_provider_reads_its_own_key_and_address() {
        let (settings, problems) = read(&[
            ("AI_PROVIDER", "Anthropic"),
            ("OPENAI_API_KEY", "sk-openai"),
            ("ANTHROPIC_API_KEY", "sk-ant"),
            ("ANTHROPIC_BASE_URL", "https://proxy.example/anthropic/"),
            ("AI_MAX_TOKENS", "2048"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.api_key.as_deref(), Some("sk-ant"));
        assert_eq!(
            settings.base_url.as_deref(),
            Some("https://proxy.example/anthropic")
        );
        assert_eq!(settings.model, DEFAULT_ANTHROPIC_MODEL);
        assert_eq!(settings.max_tokens, 2048);
        assert!(
            !format!("{settings:?}").contains("sk-ant"),
            "the key stays out of logs"
        );
    }

    #[test]
    fn nonsense_is_named_and_replaced_by_the_default() {
        let (settings, problems) = read(&[
            ("AI_PROVIDER", "skynet"),
            ("AI_MODEL", "gpt 4\r\nX-Evil: 1"),
            ("AI_MAX_TOKENS", "999999999"),
            ("AI_QUOTA_TIME_ZONE", "Asia/Jakarta'; drop table x"),
            ("OPENAI_BASE_URL", "file:///etc/passwd"),
        ]);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert_eq!(settings.provider, ProviderKind::OpenAi);
        assert_eq!(settings.max_tokens, DEFAULT_MAX_TOKENS);
        assert_eq!(settings.time_zone, DEFAULT_TIME_ZONE);
        assert_eq!(settings.base_url, None);
    }
}
