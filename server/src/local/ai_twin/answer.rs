//! What the twin answers and how it counts tokens: deterministic text built from the prompt, with
//! a token rule simple enough for a test in any language to compute (see the module docs of
//! [`super`]).

use crate::ai::ProviderKind;

/// At most this many words of the last user message are echoed; longer ones end in `…`.
const ECHO_WORDS: usize = 64;

/// Tokens every message costs on top of its words (OpenAI's chat format has a similar overhead).
pub const TOKENS_PER_MESSAGE: u32 = 3;

/// Words: runs of characters between (Unicode) whitespace.
pub fn words(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// The prompt tokens of a conversation: each message's words plus [`TOKENS_PER_MESSAGE`], and the
/// words of a top-level system prompt (Anthropic's `system`, which is not a message).
pub fn prompt_tokens<'a>(system: Option<&str>, messages: impl IntoIterator<Item = &'a str>) -> u32 {
    messages
        .into_iter()
        .fold(system.map_or(0, words), |total, message| {
            total
                .saturating_add(TOKENS_PER_MESSAGE)
                .saturating_add(words(message))
        })
}

/// The answer cut into tokens: each piece is one word with the whitespace before it, so the
/// pieces joined are the text exactly and there are as many as the text has [`words`].
pub fn pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (at, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                pieces.push(&text[start..at]);
                start = at;
                in_word = false;
            }
        } else {
            in_word = true;
        }
    }
    if in_word {
        pieces.push(&text[start..]);
    }
    pieces
}

/// Why the answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The whole answer was given (`stop` / `end_turn`).
    Complete,
    /// `max_tokens` cut it (`length` / `max_tokens`).
    MaxTokens,
}

/// The answer to give: its tokens, at most `max_tokens` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub tokens: Vec<String>,
    pub finish: Finish,
}

impl Planned {
    pub fn text(&self) -> String {
        self.tokens.concat()
    }

    pub fn completion_tokens(&self) -> u32 {
        u32::try_from(self.tokens.len()).unwrap_or(u32::MAX)
    }
}

/// The answer to `last_user_message`, cut at `max_tokens`.
pub fn plan(provider: ProviderKind, last_user_message: &str, max_tokens: u32) -> Planned {
    let text = answer_text(provider, last_user_message, max_tokens);
    let all = pieces(&text);
    let keep = usize::try_from(max_tokens).unwrap_or(usize::MAX);
    Planned {
        finish: if all.len() > keep {
            Finish::MaxTokens
        } else {
            Finish::Complete
        },
        tokens: all.into_iter().take(keep).map(str::to_string).collect(),
    }
}

/// The trigger words of a message: its words in lowercase, without surrounding punctuation.
fn asks_for(message: &str, word: &str) -> bool {
    message.split_whitespace().any(|candidate| {
        candidate
            .trim_matches(|c: char| c.is_ascii_punctuation() && c != '-')
            .eq_ignore_ascii_case(word)
    })
}

/// The whole answer before `max_tokens` applies: a greeting echoing the last user message, then
/// the parts its trigger words ask for. A `long-answer` one goes on past `max_tokens`.
pub fn answer_text(provider: ProviderKind, last_user_message: &str, max_tokens: u32) -> String {
    let name = match provider {
        ProviderKind::OpenAi => "OpenAI",
        ProviderKind::Anthropic => "Anthropic",
    };
    let mut echo: Vec<&str> = last_user_message
        .split_whitespace()
        .take(ECHO_WORDS + 1)
        .collect();
    if echo.len() > ECHO_WORDS {
        echo.truncate(ECHO_WORDS);
        echo.push("…");
    }
    let mut text = format!("Hello from the local {name} twin. You said:");
    if echo.is_empty() {
        text.push_str(" nothing.");
    } else {
        text.push(' ');
        text.push_str(&echo.join(" "));
    }
    if asks_for(last_user_message, "list") {
        text.push_str("\n\nHere is a list:\n\n- first item\n- second item\n- third item");
    }
    if asks_for(last_user_message, "code") {
        text.push_str(
            "\n\nHere is some code:\n\n```rust\nfn main() {\n    println!(\"Hello from the twin\");\n}\n```",
        );
    }
    if asks_for(last_user_message, "xss-test") {
        text.push_str(
            "\n\nMarkup that must be shown as text: <script>alert(1)</script> \
             <img src=x onerror=alert(1)> [a link](javascript:alert(1))",
        );
    }
    if asks_for(last_user_message, "long-answer") {
        text.push_str("\n\nThis long answer goes on until max_tokens stops it.");
        let mut count = words(&text);
        let mut sentence = 1u32;
        while count <= max_tokens {
            text.push_str(&format!(" Sentence {sentence} of the long answer."));
            count = count.saturating_add(6);
            sentence += 1;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pieces_of_an_answer_join_into_it_and_count_its_words() {
        for text in [
            "Hello from the twin.",
            "  leading space\n\n- a list\n```rust\nfn main() {\n    x\n}\n```",
            "one",
            "",
            "tab\tand\u{3000}ideographic space",
        ] {
            let pieces = pieces(text);
            assert_eq!(pieces.concat(), text.trim_end());
            assert_eq!(pieces.len() as u32, words(text), "{text:?}");
        }
        assert_eq!(pieces("a  b\nc"), ["a", "  b", "\nc"]);
    }

    #[test]
    fn prompt_tokens_are_three_per_message_plus_every_word() {
        assert_eq!(prompt_tokens(None, ["Hello there", "Hi"]), 3 + 2 + 3 + 1);
        assert_eq!(prompt_tokens(Some("Be brief please"), ["Hi"]), 3 + 3 + 1);
        assert_eq!(prompt_tokens(None, [""]), 3);
    }

    #[test]
    fn the_answer_echoes_the_last_user_message() {
        let planned = plan(ProviderKind::OpenAi, "What is Kilat?", 100);
        assert_eq!(
            planned.text(),
            "Hello from the local OpenAI twin. You said: What is Kilat?"
        );
        assert_eq!(planned.completion_tokens(), 11);
        assert_eq!(planned.finish, Finish::Complete);
        assert_eq!(
            plan(ProviderKind::Anthropic, " \n", 100).text(),
            "Hello from the local Anthropic twin. You said: nothing."
        );
        let long_message = "word ".repeat(100);
        let echoed = answer_text(ProviderKind::OpenAi, &long_message, 4096);
        assert_eq!(words(&echoed), 8 + ECHO_WORDS as u32 + 1);
        assert!(echoed.ends_with("word …"));
    }

    #[test]
    fn max_tokens_cuts_the_answer() {
        let planned = plan(ProviderKind::OpenAi, "What is Kilat?", 4);
        assert_eq!(planned.text(), "Hello from the local");
        assert_eq!(planned.finish, Finish::MaxTokens);
        // Exactly as long as the answer: complete.
        assert_eq!(
            plan(ProviderKind::OpenAi, "What is Kilat?", 11).finish,
            Finish::Complete
        );
    }

    #[test]
    fn code_and_list_prompts_get_markdown() {
        let text = answer_text(ProviderKind::OpenAi, "Show me some CODE, and a list.", 4096);
        assert!(text.contains("\n\n- first item\n- second item\n"), "{text}");
        assert!(
            text.contains("```rust\nfn main() {\n    println!(\"Hello from the twin\");\n}\n```"),
            "{text}"
        );
        let plain = answer_text(ProviderKind::OpenAi, "codes listing", 4096);
        assert!(
            !plain.contains("```") && !plain.contains("- first"),
            "{plain}"
        );
    }

    #[test]
    fn an_xss_test_prompt_gets_hostile_markup_verbatim() {
        let text = answer_text(ProviderKind::Anthropic, "render this: xss-test", 4096);
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[a link](javascript:alert(1))",
        ] {
            assert!(text.contains(hostile), "{hostile} missing from {text}");
        }
    }

    #[test]
    fn a_long_answer_lasts_until_max_tokens() {
        for max_tokens in [1, 20, 21, 500, 4096] {
            let planned = plan(ProviderKind::OpenAi, "long-answer please", max_tokens);
            assert_eq!(planned.completion_tokens(), max_tokens);
            assert_eq!(planned.finish, Finish::MaxTokens);
        }
    }
}
