//! OpenAI's Chat Completions, streamed (`reference/providers.md`), and every server that speaks
//! it: OpenRouter, Ollama, vLLM, Gemini's compatible endpoint, the local twin. Only the base URL
//! differs — as in the official `openai` library, it already ends in `/v1`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sse::SseEvent;
use super::{
    ChatMessage, ChatRequest, ChatStream, EventSink, FinishReason, Protocol, ProviderError,
    StreamEvent, StreamTimeouts, Usage,
};

/// A Chat Completions client.
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    base_url: String,
    /// `None` for servers that take no key (a local Ollama).
    api_key: Option<String>,
    timeouts: StreamTimeouts,
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// OpenAI itself. Others: `https://openrouter.ai/api/v1`, `http://localhost:11434/v1` (Ollama),
    /// `{local}/openai/v1` (the local twin).
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com/v1";

    /// `http` is the server's shared outbound client ([`crate::outbound::http_client`]); streamed
    /// calls replace its whole-call timeout with [`StreamTimeouts`].
    pub fn new(
        http: reqwest::Client,
        base_url: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key,
            timeouts: StreamTimeouts::default(),
        }
    }

    pub fn with_timeouts(self, timeouts: StreamTimeouts) -> Self {
        Self { timeouts, ..self }
    }

    /// Starts a streamed answer: `POST {base}/chat/completions` with `stream: true` and usage
    /// requested. Fails fast on a non-2xx answer, mapped to a [`ProviderError`].
    pub async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let body = serde_json::to_vec(&RequestBody::new(request)).map_err(|error| {
            ProviderError::BadRequest(format!("the request could not be encoded: {error}"))
        })?;
        let mut http_request = self
            .http
            .post(format!("{}/chat/completions", self.base_url));
        if let Some(api_key) = &self.api_key {
            http_request = http_request.bearer_auth(api_key);
        }
        super::open_stream(
            http_request,
            body,
            self.timeouts,
            Protocol::OpenAi(ChunkParser::default()),
        )
        .await
    }
}

#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    /// Not `max_completion_tokens`: OpenAI still takes `max_tokens` for chat completions, and
    /// many compatible servers know only it.
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    /// One last chunk with `choices: []` and the usage.
    include_usage: bool,
}

impl<'a> RequestBody<'a> {
    fn new(request: &'a ChatRequest) -> Self {
        Self {
            model: &request.model,
            messages: &request.messages,
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
        }
    }
}

/// One `data:` payload of the stream. Fields this code does not use are ignored; those it uses
/// may be absent or `null`.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u64,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "super::token_count")]
    prompt_tokens: Option<u32>,
    #[serde(default, deserialize_with = "super::token_count")]
    completion_tokens: Option<u32>,
}

/// Reads the stream's chunks: text deltas as they come, the finish reason from the last choice
/// chunk, usage from the chunk that has it, and `Done` at `data: [DONE]`.
#[derive(Debug, Default)]
pub(crate) struct ChunkParser {
    finish_reason: Option<FinishReason>,
}

impl ChunkParser {
    pub(crate) fn on_event(&mut self, event: &SseEvent, sink: &mut EventSink) {
        let data = event.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            sink.emit(Ok(StreamEvent::Done {
                finish_reason: self.finish_reason.take(),
            }));
            return;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(error) => {
                sink.emit(Err(ProviderError::Malformed(format!(
                    "a stream chunk is not the JSON expected: {error}"
                ))));
                return;
            }
        };
        if let Some(error) = chunk.error.filter(|error| !error.is_null()) {
            sink.emit(Err(super::error_in_stream(&serde_json::json!({
                "error": error
            }))));
            return;
        }
        // `n` is never asked for, so only the first choice exists.
        for choice in chunk.choices.into_iter().filter(|choice| choice.index == 0) {
            if let Some(text) = choice.delta.and_then(|delta| delta.content) {
                sink.emit(Ok(StreamEvent::Text(text)));
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(finish_reason(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            sink.emit(Ok(StreamEvent::Usage(Usage {
                prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                completion_tokens: usage.completion_tokens.unwrap_or(0),
            })));
        }
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Complete,
        "length" => FinishReason::MaxTokens,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolUse,
        other => FinishReason::other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Answer, Item, chunkings, drain, replay, stand_in};
    use super::super::{Role, StreamState, error_from_answer};
    use super::*;
    use serde_json::json;

    /// A real answer's shape (`gpt-4o-mini`, `include_usage`), ids shortened.
    const RECORDED_TEXT: &str = r#"data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1741000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1741000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"Halo"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1741000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"! Apa kabar? 😀"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1741000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1741000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":6,"total_tokens":25,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

data: [DONE]

"#;
    const RECORDED: &[u8] = RECORDED_TEXT.as_bytes();

    /// `RECORDED`, one event (with its closing blank line) at a time.
    fn recorded_chunks() -> Vec<&'static str> {
        std::str::from_utf8(RECORDED)
            .expect("utf-8")
            .split_inclusive("\n\n")
            .collect()
    }

    fn recorded_events() -> Vec<Item> {
        vec![
            Ok(StreamEvent::Text("Halo".into())),
            Ok(StreamEvent::Text("! Apa kabar? 😀".into())),
            Ok(StreamEvent::Usage(Usage {
                prompt_tokens: 19,
                completion_tokens: 6,
            })),
            Ok(StreamEvent::Done {
                finish_reason: Some(FinishReason::Complete),
            }),
        ]
    }

    fn parse(chunks: &[&[u8]]) -> (Vec<Item>, StreamState) {
        replay(
            Protocol::OpenAi(ChunkParser::default()),
            chunks.iter().copied(),
        )
    }

    fn request() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
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

    /// The body as the provider reads it (through JSON text, as sent: f32 0.7 stays 0.7).
    fn wire_json(request: &ChatRequest) -> serde_json::Value {
        let bytes = serde_json::to_vec(&RequestBody::new(request)).expect("encodes");
        serde_json::from_slice(&bytes).expect("decodes")
    }

    #[test]
    fn the_request_asks_for_a_stream_with_usage() {
        assert_eq!(
            wire_json(&request()),
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Jawab singkat."},
                    {"role": "user", "content": "Halo"},
                    {"role": "assistant", "content": "Halo! Ada yang bisa dibantu?"},
                    {"role": "user", "content": "Apa kabar?"},
                ],
                "max_tokens": 256,
                "temperature": 0.7,
                "stream": true,
                "stream_options": {"include_usage": true},
            })
        );
        let without_temperature = ChatRequest {
            temperature: None,
            ..request()
        };
        assert!(wire_json(&without_temperature).get("temperature").is_none());
        assert_eq!(request().messages[0].role, Role::System);
    }

    #[test]
    fn a_recorded_stream_gives_text_then_usage_then_done() {
        let (events, state) = parse(&[RECORDED]);
        assert_eq!(events, recorded_events());
        assert_eq!(
            state.sink.usage,
            Some(Usage {
                prompt_tokens: 19,
                completion_tokens: 6
            })
        );
        assert_eq!(state.sink.text_chars, "Halo! Apa kabar? 😀".chars().count());
        assert_eq!(state.sink.text_deltas, 2);
        assert!(state.sink.done);
    }

    #[test]
    fn the_same_stream_in_any_chunking_gives_the_same_events() {
        for chunks in chunkings(RECORDED) {
            assert_eq!(parse(&chunks).0, recorded_events(), "chunked as {chunks:?}");
        }
    }

    #[test]
    fn crlf_and_cr_line_endings_are_understood() {
        let text = std::str::from_utf8(RECORDED).expect("utf-8");
        for line_end in ["\r\n", "\r"] {
            let body = text.replace('\n', line_end);
            assert_eq!(parse(&[body.as_bytes()]).0, recorded_events());
        }
    }

    #[test]
    fn keep_alive_comments_are_ignored() {
        let text = std::str::from_utf8(RECORDED).expect("utf-8");
        let body = format!(
            ": OPENROUTER PROCESSING\n\n{}",
            text.replace("\n\n", "\n\n: keep-alive\n\n")
        );
        assert_eq!(parse(&[body.as_bytes()]).0, recorded_events());
    }

    #[test]
    fn an_error_payload_mid_stream_ends_the_stream_with_that_error() {
        let body = br#"data: {"choices":[{"index":0,"delta":{"content":"Hal"}}]}

data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}

data: {"choices":[{"index":0,"delta":{"content":"o"}}]}

data: [DONE]

"#;
        let (events, state) = parse(&[body]);
        assert_eq!(
            events,
            vec![
                Ok(StreamEvent::Text("Hal".into())),
                Err(ProviderError::Upstream {
                    status: 200,
                    message: "The server had an error while processing your request. Sorry \
                              about that!"
                        .into()
                }),
            ]
        );
        assert_eq!(state.sink.text_chars, 3);
        assert!(!state.sink.done);

        let rate_limited = br#"data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}

"#;
        assert_eq!(
            parse(&[rate_limited]).0,
            vec![Err(ProviderError::RateLimited {
                retry_after_secs: None
            })]
        );
        // OpenRouter names an HTTP status in `code`.
        let openrouter = br#"data: {"id":"gen-1","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}

"#;
        assert_eq!(
            parse(&[openrouter]).0,
            vec![Err(ProviderError::Upstream {
                status: 502,
                message: "Provider returned error".into()
            })]
        );
    }

    #[test]
    fn a_stream_cut_before_done_reports_its_usage_then_stream_cut() {
        let done = RECORDED.len() - b"data: [DONE]\n\n".len();
        let (events, state) = parse(&[&RECORDED[..done]]);
        let mut expected = recorded_events();
        expected.pop();
        expected.push(Err(ProviderError::StreamCut));
        assert_eq!(events, expected);
        assert_eq!(
            state.sink.usage,
            Some(Usage {
                prompt_tokens: 19,
                completion_tokens: 6
            })
        );
        // `[DONE]` without its closing blank line was never dispatched: still cut.
        let (events, _) = parse(&[&RECORDED[..RECORDED.len() - 1]]);
        assert_eq!(events.last(), Some(&Err(ProviderError::StreamCut)));
    }

    #[test]
    fn a_stream_cut_before_usage_leaves_usage_unknown_but_counts_the_text() {
        // The role chunk and both text chunks; neither the finish chunk nor usage.
        let cut = recorded_chunks()[..3].concat();
        let (events, state) = parse(&[cut.as_bytes()]);
        assert_eq!(events.last(), Some(&Err(ProviderError::StreamCut)));
        assert_eq!(state.sink.usage, None);
        assert_eq!(state.sink.text_chars, "Halo! Apa kabar? 😀".chars().count());
    }

    #[test]
    fn a_server_that_never_reports_usage_leaves_usage_unknown() {
        let body = br#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"length"}]}

data: [DONE]

"#;
        let (events, state) = parse(&[body]);
        assert_eq!(
            events,
            vec![
                Ok(StreamEvent::Text("Hi".into())),
                Ok(StreamEvent::Done {
                    finish_reason: Some(FinishReason::MaxTokens)
                }),
            ]
        );
        assert_eq!(state.sink.usage, None);
        assert_eq!(state.sink.text_chars, 2);
    }

    #[test]
    fn hostile_chunks_are_errors_not_panics() {
        let malformed = |body: &[u8]| {
            let (events, _) = parse(&[body]);
            assert!(
                matches!(events.as_slice(), [Err(ProviderError::Malformed(_))]),
                "{}: {events:?}",
                String::from_utf8_lossy(body)
            );
        };
        malformed(b"data: not json\n\n");
        malformed(b"data: [1, 2]\n\n");
        malformed(b"data: {\"choices\": \"many\"}\n\n");
        malformed(b"data: {\"choices\": [{\"delta\": {\"content\": 5}}]}\n\n");
        malformed(b"data: {\"choices\": [], \"usage\": {\"prompt_tokens\": -1}}\n\n");
        malformed(b"data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 1.5}}\n\n");
        malformed(
            b"data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 18446744073709551616}}\n\n",
        );
        malformed(format!("data: {}\n\n", "[".repeat(100_000)).as_bytes());
        // A count too large for any answer saturates: the quota stops it, nothing overflows.
        let (events, _) = parse(&[
            b"data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 4294967296, \"completion_tokens\": null}}\n\n",
        ]);
        assert_eq!(
            events[0],
            Ok(StreamEvent::Usage(Usage {
                prompt_tokens: u32::MAX,
                completion_tokens: 0
            }))
        );
        // Not UTF-8: replaced, still an answer.
        let (events, _) =
            parse(&[b"data: {\"choices\": [{\"delta\": {\"content\": \"a\xFFb\"}}]}\n\n"]);
        assert_eq!(events[0], Ok(StreamEvent::Text("a\u{FFFD}b".into())));
        // Other choices and unknown fields are ignored; a null error is no error.
        let (events, _) = parse(&[
            b"data: {\"error\": null, \"x\": {}, \"choices\": [{\"index\": 1, \"delta\": {\"content\": \"b\"}}]}\n\n",
        ]);
        assert_eq!(events, vec![Err(ProviderError::StreamCut)]);
        // An over-long event ends the answer, and what came before still counts.
        let mut long = RECORDED[..RECORDED.len() - b"data: [DONE]\n\n".len()].to_vec();
        long.extend_from_slice(b"data: ");
        long.resize(long.len() + super::super::sse::MAX_EVENT_BYTES, b'x');
        let (events, state) = parse(&[&long]);
        assert_eq!(events.last(), Some(&Err(ProviderError::TooLarge)));
        assert_eq!(state.sink.usage.map(|usage| usage.total_tokens()), Some(25));
    }

    #[test]
    fn error_answers_map_from_status_and_body() {
        let cases: &[(u16, &str, Option<u64>, ProviderError)] = &[
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided: sk-abc***","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                None,
                ProviderError::Unauthorized,
            ),
            (
                403,
                r#"{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or territory not supported","param":null,"type":"request_forbidden"}}"#,
                None,
                ProviderError::Unauthorized,
            ),
            (
                429,
                r#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
                Some(20),
                ProviderError::RateLimited {
                    retry_after_secs: Some(20),
                },
            ),
            (
                429,
                r#"{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
                None,
                ProviderError::Upstream {
                    status: 429,
                    message: "the provider account is out of credit: You exceeded your current \
                              quota."
                        .into(),
                },
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
                None,
                ProviderError::BadRequest(
                    "This model's maximum context length is 128000 tokens.".into(),
                ),
            ),
            (
                404,
                r#"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
                None,
                ProviderError::BadRequest("The model `gpt-9` does not exist".into()),
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
                None,
                ProviderError::Upstream {
                    status: 500,
                    message: "The server had an error".into(),
                },
            ),
            (
                503,
                r#"{"error":{"message":"The engine is currently overloaded","type":"server_error"}}"#,
                None,
                ProviderError::Overloaded,
            ),
            (
                502,
                "<html><body>Bad gateway</body></html>",
                None,
                ProviderError::Upstream {
                    status: 502,
                    message: "<html><body>Bad gateway</body></html>".into(),
                },
            ),
            (
                418,
                r#"{"error":"I'm a teapot"}"#,
                None,
                ProviderError::Upstream {
                    status: 418,
                    message: "I'm a teapot".into(),
                },
            ),
        ];
        for (status, body, retry_after, expected) in cases {
            assert_eq!(
                &error_from_answer(*status, body.as_bytes(), *retry_after),
                expected,
                "{status} {body}"
            );
        }
    }

    fn client(base_url: &str) -> OpenAiClient {
        OpenAiClient::new(
            crate::outbound::http_client(),
            format!("{base_url}/v1/"),
            Some("sk-test".into()),
        )
    }

    #[tokio::test]
    async fn streams_an_answer_sent_in_small_delayed_chunks() {
        let chunks = RECORDED.chunks(7).map(<[u8]>::to_vec).collect();
        let (base_url, seen) = stand_in(Answer::Stream(chunks)).await;
        let mut stream = client(&base_url).stream(&request()).await.expect("stream");
        assert_eq!(drain(&mut stream).await, recorded_events());
        assert!(stream.is_done());
        assert_eq!(stream.usage().map(|usage| usage.total_tokens()), Some(25));
        assert_eq!(stream.text_deltas(), 2);
        assert_eq!(stream.next().await, None);

        let seen = seen.lock().expect("lock").clone().expect("a request");
        assert_eq!(seen.path, "/v1/chat/completions");
        assert_eq!(seen.headers["authorization"], "Bearer sk-test");
        assert_eq!(seen.headers["accept"], "text/event-stream");
        assert_eq!(seen.body, wire_json(&request()));
    }

    #[tokio::test]
    async fn a_server_without_a_key_gets_no_authorization_header() {
        let (base_url, seen) = stand_in(Answer::Stream(vec![RECORDED.to_vec()])).await;
        let client = OpenAiClient::new(crate::outbound::http_client(), base_url, None);
        let mut stream = client.stream(&request()).await.expect("stream");
        assert_eq!(drain(&mut stream).await, recorded_events());
        let seen = seen.lock().expect("lock").clone().expect("a request");
        assert_eq!(seen.path, "/chat/completions");
        assert!(seen.headers.get("authorization").is_none());
    }

    #[tokio::test]
    async fn an_error_answer_is_mapped_with_its_retry_after() {
        let (base_url, _) = stand_in(Answer::Plain {
            status: 429,
            headers: vec![("retry-after", "12"), ("content-type", "application/json")],
            body: r#"{"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}}"#,
        })
        .await;
        let error = client(&base_url).stream(&request()).await.expect_err("429");
        assert_eq!(
            error,
            ProviderError::RateLimited {
                retry_after_secs: Some(12)
            }
        );
    }

    #[tokio::test]
    async fn a_success_that_is_not_an_event_stream_is_malformed() {
        let (base_url, _) = stand_in(Answer::Plain {
            status: 200,
            headers: vec![("content-type", "application/json")],
            body: r#"{"choices":[{"message":{"content":"Hi"}}]}"#,
        })
        .await;
        let error = client(&base_url)
            .stream(&request())
            .await
            .expect_err("json");
        assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let error = client(&format!("http://{address}"))
            .stream(&request())
            .await
            .expect_err("refused");
        assert!(matches!(error, ProviderError::Transport(_)), "{error:?}");
    }

    #[tokio::test]
    async fn dropping_the_stream_closes_the_upstream_connection() {
        let gone = std::sync::Arc::new(tokio::sync::Notify::new());
        let first = recorded_chunks()[0].as_bytes().to_vec();
        let (base_url, _) = stand_in(Answer::StreamUntilClosed {
            first,
            gone: gone.clone(),
        })
        .await;
        let mut stream = client(&base_url).stream(&request()).await.expect("stream");
        // The role-only first chunk yields nothing, so wait until its bytes are in.
        let pulled =
            tokio::time::timeout(std::time::Duration::from_millis(200), stream.next()).await;
        assert!(pulled.is_err(), "the answer is still going: {pulled:?}");
        assert_eq!(stream.text_deltas(), 0);
        drop(stream);
        tokio::time::timeout(std::time::Duration::from_secs(5), gone.notified())
            .await
            .expect("the stand-in saw the connection close");
    }

    #[tokio::test]
    async fn a_stalled_answer_ends_with_a_transport_error_after_the_idle_timeout() {
        let gone = std::sync::Arc::new(tokio::sync::Notify::new());
        let (base_url, _) = stand_in(Answer::StreamUntilClosed {
            first: b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n".to_vec(),
            gone,
        })
        .await;
        let timeouts = StreamTimeouts {
            idle: std::time::Duration::from_millis(1),
            ..StreamTimeouts::default()
        };
        let mut stream = client(&base_url)
            .with_timeouts(timeouts)
            .stream(&request())
            .await
            .expect("stream");
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item);
        }
        assert!(
            matches!(items.last(), Some(Err(ProviderError::Transport(message))) if message.contains("stalled")),
            "{items:?}"
        );
    }
}
