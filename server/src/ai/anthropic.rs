//! Anthropic's Messages API, streamed (`reference/providers.md`). The system prompt is a
//! top-level field, not a message, and the conversation alternates user and assistant turns.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sse::SseEvent;
use super::{
    ChatRequest, ChatStream, EventSink, FinishReason, Protocol, ProviderError, Role, StreamEvent,
    StreamTimeouts, Usage,
};

/// A Messages client.
#[derive(Clone)]
pub struct AnthropicClient {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    timeouts: StreamTimeouts,
}

impl fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl AnthropicClient {
    /// Anthropic itself; the local twin is `{local}/anthropic`. As in the official library, the
    /// base has no `/v1`.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.anthropic.com";
    /// The API version this code speaks (the `anthropic-version` header).
    pub const API_VERSION: &'static str = "2023-06-01";

    /// `http` is the server's shared outbound client ([`crate::outbound::http_client`]); streamed
    /// calls replace its whole-call timeout with [`StreamTimeouts`].
    pub fn new(
        http: reqwest::Client,
        base_url: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: api_key.into(),
            timeouts: StreamTimeouts::default(),
        }
    }

    pub fn with_timeouts(self, timeouts: StreamTimeouts) -> Self {
        Self { timeouts, ..self }
    }

    /// Starts a streamed answer: `POST {base}/v1/messages` with `stream: true`. Fails fast on a
    /// non-2xx answer, mapped to a [`ProviderError`].
    pub async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let body = serde_json::to_vec(&RequestBody::new(request)).map_err(|error| {
            ProviderError::BadRequest(format!("the request could not be encoded: {error}"))
        })?;
        let http_request = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", Self::API_VERSION);
        super::open_stream(
            http_request,
            body,
            self.timeouts,
            Protocol::Anthropic(EventParser::default()),
        )
        .await
    }
}

#[derive(Debug, Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    stream: bool,
}

#[derive(Debug, Serialize)]
struct Message {
    role: Role,
    content: String,
}

impl<'a> RequestBody<'a> {
    /// System messages, wherever they stand, become the `system` field (joined by a blank line);
    /// consecutive messages of one role are joined the same way, so that turns alternate. The
    /// conversation's order and wording are otherwise kept: a first turn that is not the user's is
    /// Anthropic's to refuse, as a [`ProviderError::BadRequest`].
    fn new(request: &'a ChatRequest) -> Self {
        let mut system: Option<String> = None;
        let mut messages: Vec<Message> = Vec::new();
        for message in &request.messages {
            let joined_to = match message.role {
                Role::System => system.get_or_insert_with(String::new),
                role => match messages.last_mut() {
                    Some(last) if last.role == role => &mut last.content,
                    _ => {
                        messages.push(Message {
                            role,
                            content: message.content.clone(),
                        });
                        continue;
                    }
                },
            };
            if !joined_to.is_empty() {
                joined_to.push_str("\n\n");
            }
            joined_to.push_str(&message.content);
        }
        Self {
            model: &request.model,
            max_tokens: request.max_tokens,
            system,
            messages,
            temperature: request.temperature,
            stream: true,
        }
    }
}

/// One event's `data`, by its `type`. Types this code does not use (`ping`,
/// `content_block_start`, `content_block_stop`, and any added later) are ignored, as Anthropic
/// asks of clients.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockDelta {
        delta: serde_json::Value,
    },
    MessageDelta {
        #[serde(default)]
        delta: Option<MessageDeltaBody>,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop {},
    Error {},
    #[serde(other)]
    Ignored,
}

#[derive(Deserialize)]
struct StartedMessage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// Anthropic's usage: `input_tokens` excludes the prompt read from or written to the cache, which
/// come in their own fields. Every field is a running total; `message_delta` may repeat the input
/// ones.
#[derive(Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "super::token_count")]
    input_tokens: Option<u32>,
    #[serde(default, deserialize_with = "super::token_count")]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default, deserialize_with = "super::token_count")]
    cache_read_input_tokens: Option<u32>,
    #[serde(default, deserialize_with = "super::token_count")]
    output_tokens: Option<u32>,
}

/// Reads the stream's events: the prompt's usage at `message_start`, text from `text_delta`s, the
/// output usage and stop reason at `message_delta`, and `Done` at `message_stop`. Each usage it
/// emits is the totals so far.
#[derive(Debug, Default)]
pub(crate) struct EventParser {
    input_tokens: u32,
    cache_creation_input_tokens: u32,
    cache_read_input_tokens: u32,
    output_tokens: u32,
    stop_reason: Option<FinishReason>,
}

impl EventParser {
    pub(crate) fn on_event(&mut self, event: &SseEvent, sink: &mut EventSink) {
        if event.data.trim().is_empty() {
            return;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(&event.data).and_then(|value| {
            let wire = WireEvent::deserialize(&value)?;
            Ok((value, wire))
        });
        let (value, wire) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                sink.emit(Err(ProviderError::Malformed(format!(
                    "a {:?} event is not the JSON expected: {error}",
                    event.event.chars().take(40).collect::<String>()
                ))));
                return;
            }
        };
        match wire {
            WireEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.count(usage, sink);
                }
            }
            WireEvent::ContentBlockDelta { delta } => {
                if delta.get("type").and_then(|kind| kind.as_str()) != Some("text_delta") {
                    // Tool input, thinking, citations: not part of the answer's text.
                    return;
                }
                match delta.get("text") {
                    Some(serde_json::Value::String(text)) => {
                        sink.emit(Ok(StreamEvent::Text(text.clone())));
                    }
                    _ => sink.emit(Err(ProviderError::Malformed(
                        "a text_delta without text".into(),
                    ))),
                }
            }
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.and_then(|delta| delta.stop_reason) {
                    self.stop_reason = Some(stop_reason(&reason));
                }
                if let Some(usage) = usage {
                    self.count(usage, sink);
                }
            }
            WireEvent::MessageStop {} => sink.emit(Ok(StreamEvent::Done {
                finish_reason: self.stop_reason.take(),
            })),
            WireEvent::Error {} => sink.emit(Err(super::error_in_stream(&value))),
            WireEvent::Ignored => {}
        }
    }

    fn count(&mut self, usage: WireUsage, sink: &mut EventSink) {
        let fields = [
            (usage.input_tokens, &mut self.input_tokens),
            (
                usage.cache_creation_input_tokens,
                &mut self.cache_creation_input_tokens,
            ),
            (
                usage.cache_read_input_tokens,
                &mut self.cache_read_input_tokens,
            ),
            (usage.output_tokens, &mut self.output_tokens),
        ];
        for (reported, total) in fields {
            if let Some(reported) = reported {
                *total = reported;
            }
        }
        sink.emit(Ok(StreamEvent::Usage(Usage {
            prompt_tokens: self
                .input_tokens
                .saturating_add(self.cache_creation_input_tokens)
                .saturating_add(self.cache_read_input_tokens),
            completion_tokens: self.output_tokens,
        })));
    }
}

fn stop_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" => FinishReason::Complete,
        "max_tokens" => FinishReason::MaxTokens,
        "refusal" => FinishReason::ContentFilter,
        "tool_use" => FinishReason::ToolUse,
        other => FinishReason::other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Answer, Item, chunkings, drain, replay, stand_in};
    use super::super::{ChatMessage, StreamState, error_from_answer};
    use super::*;
    use serde_json::json;

    /// A real answer's shape, as Anthropic's streaming documentation shows it.
    const RECORDED_TEXT: &str = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Halo"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"! Apa kabar? 😀"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}

event: message_stop
data: {"type":"message_stop"}

"#;
    const RECORDED: &[u8] = RECORDED_TEXT.as_bytes();

    fn recorded_events() -> Vec<Item> {
        vec![
            Ok(StreamEvent::Usage(Usage {
                prompt_tokens: 25,
                completion_tokens: 1,
            })),
            Ok(StreamEvent::Text("Halo".into())),
            Ok(StreamEvent::Text("! Apa kabar? 😀".into())),
            Ok(StreamEvent::Usage(Usage {
                prompt_tokens: 25,
                completion_tokens: 15,
            })),
            Ok(StreamEvent::Done {
                finish_reason: Some(FinishReason::Complete),
            }),
        ]
    }

    fn parse(chunks: &[&[u8]]) -> (Vec<Item>, StreamState) {
        replay(
            Protocol::Anthropic(EventParser::default()),
            chunks.iter().copied(),
        )
    }

    fn request() -> ChatRequest {
        ChatRequest {
            model: "claude-sonnet-4-5".into(),
            messages: vec![
                ChatMessage::system("Jawab singkat."),
                ChatMessage::user("Halo"),
                ChatMessage::assistant("Halo! Ada yang bisa dibantu?"),
                ChatMessage::user("Apa kabar?"),
            ],
            max_tokens: 256,
            temperature: Some(0.7),
        }
    }

    fn wire_json(request: &ChatRequest) -> serde_json::Value {
        let bytes = serde_json::to_vec(&RequestBody::new(request)).expect("encodes");
        serde_json::from_slice(&bytes).expect("decodes")
    }

    #[test]
    fn the_system_prompt_is_the_top_level_field_not_a_message() {
        assert_eq!(
            wire_json(&request()),
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 256,
                "system": "Jawab singkat.",
                "messages": [
                    {"role": "user", "content": "Halo"},
                    {"role": "assistant", "content": "Halo! Ada yang bisa dibantu?"},
                    {"role": "user", "content": "Apa kabar?"},
                ],
                "temperature": 0.7,
                "stream": true,
            })
        );
    }

    #[test]
    fn without_a_system_prompt_there_is_no_system_field() {
        let request = ChatRequest {
            messages: vec![ChatMessage::user("Halo")],
            temperature: None,
            ..request()
        };
        assert_eq!(
            wire_json(&request),
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 256,
                "messages": [{"role": "user", "content": "Halo"}],
                "stream": true,
            })
        );
    }

    #[test]
    fn scattered_system_prompts_and_repeated_turns_are_joined_so_turns_alternate() {
        let request = ChatRequest {
            messages: vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("One"),
                ChatMessage::system("Answer in Indonesian."),
                ChatMessage::user("Two"),
                ChatMessage::assistant("Satu"),
                ChatMessage::assistant("Dua"),
                ChatMessage::user("Three"),
            ],
            ..request()
        };
        let body = wire_json(&request);
        assert_eq!(body["system"], "Be brief.\n\nAnswer in Indonesian.");
        assert_eq!(
            body["messages"],
            json!([
                {"role": "user", "content": "One\n\nTwo"},
                {"role": "assistant", "content": "Satu\n\nDua"},
                {"role": "user", "content": "Three"},
            ])
        );
    }

    #[test]
    fn a_recorded_stream_gives_usage_text_output_usage_and_done() {
        let (events, state) = parse(&[RECORDED]);
        assert_eq!(events, recorded_events());
        assert_eq!(
            state.sink.usage,
            Some(Usage {
                prompt_tokens: 25,
                completion_tokens: 15
            })
        );
        assert_eq!(state.sink.text_deltas, 2);
        assert!(state.sink.done);
    }

    #[test]
    fn the_same_stream_in_any_chunking_gives_the_same_events() {
        for chunks in chunkings(RECORDED) {
            assert_eq!(parse(&chunks).0, recorded_events(), "chunked as {chunks:?}");
        }
        let text = std::str::from_utf8(RECORDED).expect("utf-8");
        assert_eq!(
            parse(&[text.replace('\n', "\r\n").as_bytes()]).0,
            recorded_events()
        );
    }

    #[test]
    fn an_overloaded_error_event_mid_stream_ends_the_answer_as_overloaded() {
        let text = std::str::from_utf8(RECORDED).expect("utf-8");
        let cut = text.find("event: content_block_stop").expect("block stop");
        let body = format!(
            "{}event: error\ndata: {{\"type\": \"error\", \"error\": {{\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}}}\n\n{}",
            &text[..cut],
            &text[cut..]
        );
        let (events, state) = parse(&[body.as_bytes()]);
        let mut expected = recorded_events()[..3].to_vec();
        expected.push(Err(ProviderError::Overloaded));
        assert_eq!(events, expected);
        // The prompt was read and billed: the caller still knows it.
        assert_eq!(
            state.sink.usage,
            Some(Usage {
                prompt_tokens: 25,
                completion_tokens: 1
            })
        );
        assert_eq!(state.sink.text_chars, "Halo! Apa kabar? 😀".chars().count());

        let api_error = b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal server error\"}}\n\n";
        assert_eq!(
            parse(&[api_error]).0,
            vec![Err(ProviderError::Upstream {
                status: 200,
                message: "Internal server error".into()
            })]
        );
    }

    #[test]
    fn a_stream_cut_after_the_output_usage_still_reports_it() {
        let text = std::str::from_utf8(RECORDED).expect("utf-8");
        let cut = text.find("event: message_stop").expect("message stop");
        let (events, state) = parse(&[&RECORDED[..cut]]);
        let mut expected = recorded_events()[..4].to_vec();
        expected.push(Err(ProviderError::StreamCut));
        assert_eq!(events, expected);
        assert_eq!(state.sink.usage.map(|usage| usage.total_tokens()), Some(40));
        assert!(!state.sink.done);
    }

    #[test]
    fn usage_counts_cached_input_and_takes_later_input_totals() {
        let body = br#"event: message_start
data: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":3000,"output_tokens":2}}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":11,"output_tokens":4294967296}}

event: message_stop
data: {"type":"message_stop"}

"#;
        assert_eq!(
            parse(&[body]).0,
            vec![
                Ok(StreamEvent::Usage(Usage {
                    prompt_tokens: 3210,
                    completion_tokens: 2
                })),
                Ok(StreamEvent::Usage(Usage {
                    prompt_tokens: 3211,
                    completion_tokens: u32::MAX
                })),
                Ok(StreamEvent::Done {
                    finish_reason: Some(FinishReason::MaxTokens)
                }),
            ]
        );
    }

    #[test]
    fn other_deltas_and_unknown_events_are_ignored_and_hostile_ones_are_errors() {
        let body = br#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}

event: something_new
data: {"type":"something_new","whatever":[1,2,3]}

event: message_stop
data: {"type":"message_stop","extra":true}

"#;
        assert_eq!(
            parse(&[body]).0,
            vec![Ok(StreamEvent::Done {
                finish_reason: None
            })]
        );
        for hostile in [
            &b"data: {\"no_type\": 1}\n\n"[..],
            b"data: nonsense\n\n",
            b"data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":7}}\n\n",
            b"data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":\"many\"}}}\n\n",
            b"data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-5}}\n\n",
        ] {
            let (events, _) = parse(&[hostile]);
            assert!(
                matches!(events.as_slice(), [Err(ProviderError::Malformed(_))]),
                "{}: {events:?}",
                String::from_utf8_lossy(hostile)
            );
        }
    }

    #[test]
    fn error_answers_map_from_status_and_body() {
        let error = |kind: &str, message: &str| {
            format!(
                r#"{{"type":"error","error":{{"type":"{kind}","message":"{message}"}},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}}"#
            )
        };
        let cases = [
            (
                400,
                error("invalid_request_error", "messages: roles must alternate"),
                ProviderError::BadRequest("messages: roles must alternate".into()),
            ),
            (
                401,
                error("authentication_error", "invalid x-api-key"),
                ProviderError::Unauthorized,
            ),
            (
                403,
                error("permission_error", "not allowed"),
                ProviderError::Unauthorized,
            ),
            (
                404,
                error("not_found_error", "model: claude-9"),
                ProviderError::BadRequest("model: claude-9".into()),
            ),
            (
                413,
                error("request_too_large", "Request exceeds the maximum size"),
                ProviderError::BadRequest("Request exceeds the maximum size".into()),
            ),
            (
                429,
                error(
                    "rate_limit_error",
                    "Number of request tokens has exceeded your rate limit",
                ),
                ProviderError::RateLimited {
                    retry_after_secs: Some(30),
                },
            ),
            (
                402,
                error("billing_error", "Your credit balance is too low"),
                ProviderError::Upstream {
                    status: 402,
                    message:
                        "the provider account is out of credit: Your credit balance is too low"
                            .into(),
                },
            ),
            (
                500,
                error("api_error", "Internal server error"),
                ProviderError::Upstream {
                    status: 500,
                    message: "Internal server error".into(),
                },
            ),
            (
                529,
                error("overloaded_error", "Overloaded"),
                ProviderError::Overloaded,
            ),
        ];
        for (status, body, expected) in cases {
            let retry_after = (status == 429).then_some(30);
            assert_eq!(
                error_from_answer(status, body.as_bytes(), retry_after),
                expected,
                "{status} {body}"
            );
        }
    }

    #[tokio::test]
    async fn streams_with_the_api_key_and_version_headers() {
        let chunks = RECORDED.chunks(5).map(<[u8]>::to_vec).collect();
        let (base_url, seen) = stand_in(Answer::Stream(chunks)).await;
        let client = AnthropicClient::new(
            crate::outbound::http_client(),
            format!("{base_url}/anthropic/"),
            "sk-ant-test",
        );
        let mut stream = client.stream(&request()).await.expect("stream");
        assert_eq!(drain(&mut stream).await, recorded_events());
        assert!(stream.is_done());

        let seen = seen.lock().expect("lock").clone().expect("a request");
        assert_eq!(seen.path, "/anthropic/v1/messages");
        assert_eq!(seen.headers["x-api-key"], "sk-ant-test");
        assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
        assert!(seen.headers.get("authorization").is_none());
        assert_eq!(seen.body, wire_json(&request()));
        assert!(!format!("{client:?}").contains("sk-ant-test"));
    }

    #[tokio::test]
    async fn an_overloaded_answer_is_overloaded() {
        let (base_url, _) = stand_in(Answer::Plain {
            status: 529,
            headers: vec![("content-type", "application/json")],
            body: r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        })
        .await;
        let client = AnthropicClient::new(crate::outbound::http_client(), base_url, "sk-ant-test");
        assert_eq!(
            client.stream(&request()).await.expect_err("529"),
            ProviderError::Overloaded
        );
    }
}
