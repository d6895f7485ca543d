//! The AI capability: chat answers streamed from a language-model provider.
//!
//! This part is the providers' wire layer (`reference/providers.md`): one client per protocol —
//! [`openai::OpenAiClient`] for OpenAI's Chat Completions and everything that speaks it (OpenRouter,
//! Ollama, vLLM, the local twin), [`anthropic::AnthropicClient`] for Anthropic's Messages — both
//! reading the answer as server-sent events ([`sse`]) into the provider-neutral [`StreamEvent`]s of
//! one [`ChatStream`]. On top of it: [`quota`] (monthly token allowances that hold under
//! concurrency), [`conversations`] (kept chats), [`assistant`] (the service: checks, calls the
//! provider, pumps the answer and settles its tokens) and [`routes`] (HTTP and server-sent
//! events); [`settings`] reads the configuration.
//!
//! # What a caller can rely on
//! - A [`ChatStream`] yields text deltas, usage and one final [`StreamEvent::Done`], or ends with
//!   one `Err`. After `Done` or an `Err` it yields `None`.
//! - Usage: every [`StreamEvent::Usage`] carries the provider's totals *so far* (OpenAI sends them
//!   once at the end; Anthropic sends the prompt at the start and the cumulative output at the end),
//!   so the last one seen is the one to keep. [`ChatStream::usage`] is that last one, or `None` when
//!   the provider never reported usage (an OpenAI-compatible server without `include_usage`
//!   support): the caller then estimates from [`ChatStream::text_chars`].
//! - Cut, failed or stopped: usage and text counters are updated as events are *parsed*, before the
//!   caller pulls them, and survive any error; a caller that stops early just drops the stream
//!   (which cancels the upstream request) after reading [`ChatStream::usage`] and
//!   [`ChatStream::text_chars`]. A usage event that arrived before a cut is yielded before the
//!   [`ProviderError::StreamCut`].

pub mod anthropic;
pub mod assistant;
pub mod conversations;
pub mod openai;
pub mod quota;
pub mod routes;
pub mod settings;
pub mod sse;

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use self::sse::{SseDecoder, SseError, SseEvent};

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model; Anthropic takes them apart from the conversation.
    System,
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// What to ask a provider for: the same for every provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The provider's model name (`gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.2`, …).
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// The most the answer may cost in output tokens; the quota check sizes it.
    pub max_tokens: u32,
    /// `None` leaves the provider's default.
    pub temperature: Option<f32>,
}

/// Tokens a provider says an answer used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Everything read: for Anthropic this includes cache reads and cache writes, as OpenAI's
    /// `prompt_tokens` does, so quotas count the same whichever provider answered.
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl Usage {
    /// What quotas are counted in (`ai_usage.total_tokens`).
    pub fn total_tokens(&self) -> u64 {
        u64::from(self.prompt_tokens) + u64::from(self.completion_tokens)
    }
}

/// Why the provider ended its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// The model finished (`stop`, `end_turn`, `stop_sequence`).
    Complete,
    /// The answer reached `max_tokens` and is cut short (`length`, `max_tokens`).
    MaxTokens,
    /// The provider withheld the rest (`content_filter`, `refusal`).
    ContentFilter,
    /// The model wants to call a tool (`tool_calls`, `tool_use`); we offer none yet.
    ToolUse,
    /// A reason this code does not know, as the provider spelled it (at most 64 characters).
    Other(String),
}

impl FinishReason {
    fn other(reason: &str) -> Self {
        Self::Other(reason.chars().take(64).collect())
    }
}

/// One step of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// The next piece of the answer's text (never empty).
    Text(String),
    /// The provider's token totals so far; each one replaces the previous (see the module docs).
    Usage(Usage),
    /// The provider said the answer is complete. Nothing follows.
    Done { finish_reason: Option<FinishReason> },
}

/// Why an answer could not be had. For logs and for choosing what to tell the person; the
/// provider's own text (`message`) is never shown to them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "the AI provider refused our API key (401/403): check the key and its permissions in the \
         server's configuration"
    )]
    Unauthorized,
    #[error("the AI provider is rate limiting us{}; try again later", retry_hint(*.retry_after_secs))]
    RateLimited { retry_after_secs: Option<u64> },
    #[error("the AI provider is overloaded; try again in a little while")]
    Overloaded,
    #[error("the AI provider rejected the request as invalid: {0}")]
    BadRequest(String),
    /// `status` is the HTTP status; 200 means the error arrived inside an answer that had started
    /// well (a mid-stream error payload that named no status of its own).
    #[error("the AI provider failed (status {status}): {message}")]
    Upstream { status: u16, message: String },
    #[error(
        "the AI provider's answer ended before the provider said it was complete (the connection \
         was closed); what arrived is partial"
    )]
    StreamCut,
    #[error("the AI provider sent something we cannot read: {0}")]
    Malformed(String),
    #[error("could not talk to the AI provider: {0}")]
    Transport(String),
    #[error(
        "the AI provider sent an event larger than {} bytes; the answer was abandoned",
        sse::MAX_EVENT_BYTES
    )]
    TooLarge,
}

fn retry_hint(retry_after_secs: Option<u64>) -> String {
    match retry_after_secs {
        Some(secs) => format!(" (it asks us to wait {secs} s)"),
        None => String::new(),
    }
}

/// The providers this server can talk to: the protocol, and what `ai_usage.provider` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI's Chat Completions, or a server speaking it.
    OpenAi,
    Anthropic,
}

impl ProviderKind {
    /// The name stored in `ai_usage.provider` (which must match `^[a-z0-9_-]{1,32}$`) and used in
    /// configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown AI provider {0:?}: use \"openai\" (or any OpenAI-compatible server) or \"anthropic\""
)]
pub struct UnknownProvider(String);

impl FromStr for ProviderKind {
    type Err = UnknownProvider;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "openai" => Ok(Self::OpenAi),
            "anthropic" => Ok(Self::Anthropic),
            other => Err(UnknownProvider(other.chars().take(64).collect())),
        }
    }
}

/// How long a streamed answer may take. The shared client's 15 s whole-call timeout
/// ([`crate::outbound::REQUEST_TIMEOUT`]) would cut most answers, so stream calls set their own;
/// its connect timeout still applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTimeouts {
    /// From sending the request until the status and headers arrive. Providers answer headers
    /// before the first token, so a silent provider is found out early.
    pub headers: Duration,
    /// The longest silence allowed between two reads of the body. Anthropic pings, OpenRouter sends
    /// comments; a reasoning model can think silently for a while before its first token.
    pub idle: Duration,
    /// The whole call, body included (the ceiling for an answer of `max_tokens`).
    pub whole_answer: Duration,
}

impl Default for StreamTimeouts {
    fn default() -> Self {
        Self {
            headers: Duration::from_secs(60),
            idle: Duration::from_secs(90),
            whole_answer: Duration::from_secs(300),
        }
    }
}

/// A streamed answer. Pull it with [`ChatStream::next`].
///
/// Dropping it drops the HTTP response, which closes the connection (HTTP/1) or resets the
/// stream (HTTP/2): the provider stops generating, and stops billing, at once. That is how a
/// caller stops an answer early — read [`ChatStream::usage`] and [`ChatStream::text_chars`] first.
#[derive(Debug)]
pub struct ChatStream {
    /// `None` once the answer has ended, so that the connection is let go as soon as possible.
    response: Option<reqwest::Response>,
    state: StreamState,
    idle_timeout: Duration,
}

impl ChatStream {
    /// The next event, an error (after which there is nothing more), or `None` when the stream has
    /// ended. Cancel-safe: it may be raced in `tokio::select!` against a stop signal without
    /// losing events.
    pub async fn next(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            let sink = &mut self.state.sink;
            if let Some(item) = sink.pending.pop_front() {
                if sink.ended && sink.pending.is_empty() {
                    self.response = None;
                }
                return Some(item);
            }
            if sink.ended {
                self.response = None;
                return None;
            }
            let response = self.response.as_mut()?;
            match tokio::time::timeout(self.idle_timeout, response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.state.push_bytes(&bytes),
                Ok(Ok(None)) => self.state.end_of_body(),
                Ok(Err(error)) => self
                    .state
                    .fail(transport_error("reading the answer", &error)),
                Err(_) => self.state.fail(ProviderError::Transport(format!(
                    "the answer stalled: nothing arrived for {} s",
                    self.idle_timeout.as_secs()
                ))),
            }
        }
    }

    /// The provider's latest token totals (see the module docs), or `None` if it has reported none
    /// so far. Counts what has been received, including events not yet pulled with `next`.
    pub fn usage(&self) -> Option<Usage> {
        self.state.sink.usage
    }

    /// Characters (Unicode scalar values) of answer text received so far — for estimating tokens
    /// when the provider never reported usage.
    pub fn text_chars(&self) -> usize {
        self.state.sink.text_chars
    }

    /// Text deltas received so far.
    pub fn text_deltas(&self) -> usize {
        self.state.sink.text_deltas
    }

    /// Whether the provider said the answer was complete.
    pub fn is_done(&self) -> bool {
        self.state.sink.done
    }
}

/// Where a protocol parser puts what it read; keeps the counters a stopped caller needs.
#[derive(Debug, Default)]
pub(crate) struct EventSink {
    pending: VecDeque<Result<StreamEvent, ProviderError>>,
    usage: Option<Usage>,
    text_chars: usize,
    text_deltas: usize,
    done: bool,
    /// `Done` or an error was emitted: the answer is over and anything after is ignored.
    ended: bool,
}

impl EventSink {
    pub(crate) fn emit(&mut self, item: Result<StreamEvent, ProviderError>) {
        if self.ended {
            return;
        }
        match &item {
            Ok(StreamEvent::Text(text)) => {
                if text.is_empty() {
                    return;
                }
                self.text_chars = self.text_chars.saturating_add(text.chars().count());
                self.text_deltas = self.text_deltas.saturating_add(1);
            }
            Ok(StreamEvent::Usage(usage)) => self.usage = Some(*usage),
            Ok(StreamEvent::Done { .. }) => {
                self.done = true;
                self.ended = true;
            }
            Err(_) => self.ended = true,
        }
        self.pending.push_back(item);
    }
}

/// The two wire protocols, each turning one server-sent event into [`StreamEvent`]s.
#[derive(Debug)]
pub(crate) enum Protocol {
    OpenAi(openai::ChunkParser),
    Anthropic(anthropic::EventParser),
}

impl Protocol {
    fn on_event(&mut self, event: &SseEvent, sink: &mut EventSink) {
        match self {
            Self::OpenAi(parser) => parser.on_event(event, sink),
            Self::Anthropic(parser) => parser.on_event(event, sink),
        }
    }
}

/// A stream's bytes-to-events machinery, without the HTTP response (so that recorded streams can
/// be replayed in tests in any chunking).
#[derive(Debug)]
pub(crate) struct StreamState {
    decoder: SseDecoder,
    protocol: Protocol,
    sink: EventSink,
}

impl StreamState {
    pub(crate) fn new(protocol: Protocol) -> Self {
        Self {
            decoder: SseDecoder::new(),
            protocol,
            sink: EventSink::default(),
        }
    }

    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        if self.sink.ended {
            return;
        }
        let fed = self.decoder.feed(bytes);
        // Events completed before an over-long one still count.
        while !self.sink.ended {
            let Some(event) = self.decoder.next_event() else {
                break;
            };
            self.protocol.on_event(&event, &mut self.sink);
        }
        if let Err(SseError::TooLarge { .. }) = fed {
            self.sink.emit(Err(ProviderError::TooLarge));
        }
    }

    /// The body ended; unless the provider said it was done, the answer was cut.
    pub(crate) fn end_of_body(&mut self) {
        self.sink.emit(Err(ProviderError::StreamCut));
    }

    pub(crate) fn fail(&mut self, error: ProviderError) {
        self.sink.emit(Err(error));
    }

    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        self.sink.pending.pop_front()
    }
}

/// The most of an error answer's body we read: enough for any provider's error JSON.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// The most of a provider's error message we keep for logs.
const MAX_MESSAGE_CHARS: usize = 500;

/// Sends a streaming request and, on a 2xx event stream, hands back the [`ChatStream`]; any other
/// answer becomes a [`ProviderError`] from its status, `Retry-After` and error JSON.
pub(crate) async fn open_stream(
    request: reqwest::RequestBuilder,
    body: Vec<u8>,
    timeouts: StreamTimeouts,
    protocol: Protocol,
) -> Result<ChatStream, ProviderError> {
    let request = request
        .timeout(timeouts.whole_answer)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    let mut response = match tokio::time::timeout(timeouts.headers, request.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => return Err(transport_error("sending the request", &error)),
        Err(_) => {
            return Err(ProviderError::Transport(format!(
                "no answer within {} s of sending the request",
                timeouts.headers.as_secs()
            )));
        }
    };
    let status = response.status();
    if !status.is_success() {
        let retry_after_secs = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_bounded(&mut response, timeouts.idle).await;
        return Err(error_from_answer(status.as_u16(), &body, retry_after_secs));
    }
    if let Some(content_type) = response.headers().get(reqwest::header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("");
        if !content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("text/event-stream")
        {
            return Err(ProviderError::Malformed(format!(
                "expected an event stream, got {:?}",
                truncate(content_type, 100)
            )));
        }
    }
    Ok(ChatStream {
        response: Some(response),
        state: StreamState::new(protocol),
        idle_timeout: timeouts.idle,
    })
}

/// Reads at most [`MAX_ERROR_BODY_BYTES`] of an error answer; a body that fails or stalls midway
/// yields what arrived.
async fn read_bounded(response: &mut reqwest::Response, idle: Duration) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY_BYTES {
        match tokio::time::timeout(idle, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = MAX_ERROR_BODY_BYTES - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    body
}

/// `Retry-After` in seconds (HTTP dates are not used by these providers and are ignored).
fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let secs = value.parse::<f64>().ok()?;
    // `as` saturates; a negative, infinite or NaN value is no instruction.
    (secs.is_finite() && secs >= 0.0).then(|| secs.ceil() as u64)
}

/// The parts of a provider's error JSON this code branches on. Both providers nest it under
/// `error`: OpenAI `{"error": {"message", "type", "code"}}`, Anthropic `{"type": "error",
/// "error": {"type", "message"}}`; OpenRouter puts a numeric HTTP status in `code`.
#[derive(Debug, Default)]
pub(crate) struct ErrorDetails {
    /// `error.type` and `error.code` when they are strings.
    kinds: Vec<String>,
    message: Option<String>,
    /// `error.code` when it is a number that looks like an HTTP status.
    status: Option<u16>,
}

impl ErrorDetails {
    pub(crate) fn from_json(value: &serde_json::Value) -> Self {
        let mut details = Self::default();
        match value.get("error") {
            Some(serde_json::Value::String(message)) => details.message = Some(message.clone()),
            Some(error) => {
                for key in ["type", "code"] {
                    match error.get(key) {
                        Some(serde_json::Value::String(kind)) => {
                            details.kinds.push(truncate(kind, 64));
                        }
                        Some(serde_json::Value::Number(number)) => {
                            details.status = number
                                .as_u64()
                                .filter(|code| (100..=599).contains(code))
                                .and_then(|code| u16::try_from(code).ok());
                        }
                        _ => {}
                    }
                }
                details.message = error
                    .get("message")
                    .and_then(|message| message.as_str())
                    .map(str::to_string);
            }
            None => {}
        }
        details
    }
}

/// Maps a non-2xx answer from its status and body.
fn error_from_answer(status: u16, body: &[u8], retry_after_secs: Option<u64>) -> ProviderError {
    let details = serde_json::from_slice::<serde_json::Value>(body)
        .map(|value| ErrorDetails::from_json(&value))
        .unwrap_or_default();
    let details = ErrorDetails {
        message: details.message.or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_string())
        }),
        ..details
    };
    classify(status, details, retry_after_secs)
}

/// Maps an error payload that arrived inside a stream (whose HTTP status was 200).
pub(crate) fn error_in_stream(value: &serde_json::Value) -> ProviderError {
    let details = ErrorDetails::from_json(value);
    classify(details.status.unwrap_or(200), details, None)
}

/// One mapping for both providers: the error's type or code first where it is unambiguous, the
/// HTTP status otherwise.
fn classify(status: u16, details: ErrorDetails, retry_after_secs: Option<u64>) -> ProviderError {
    let is = |names: &[&str]| {
        details
            .kinds
            .iter()
            .any(|kind| names.contains(&kind.as_str()))
    };
    let message = truncate(
        details.message.as_deref().unwrap_or_else(|| {
            http::StatusCode::from_u16(status)
                .ok()
                .and_then(|status| status.canonical_reason())
                .unwrap_or("no error message")
        }),
        MAX_MESSAGE_CHARS,
    );
    if status == 503
        || status == 529
        || details
            .kinds
            .iter()
            .any(|kind| kind.to_ascii_lowercase().contains("overloaded"))
    {
        ProviderError::Overloaded
    } else if is(&["insufficient_quota", "billing_error"]) {
        // Our account is out of credit: waiting will not help, the operator must.
        ProviderError::Upstream {
            status,
            message: format!("the provider account is out of credit: {message}"),
        }
    } else if status == 401
        || status == 403
        || is(&[
            "authentication_error",
            "permission_error",
            "invalid_api_key",
        ])
    {
        ProviderError::Unauthorized
    } else if status == 429 || is(&["rate_limit_error", "rate_limit_exceeded"]) {
        ProviderError::RateLimited { retry_after_secs }
    } else if matches!(status, 400 | 404 | 413 | 422)
        || is(&[
            "invalid_request_error",
            "not_found_error",
            "request_too_large",
            "context_length_exceeded",
            "model_not_found",
        ])
    {
        ProviderError::BadRequest(message)
    } else {
        ProviderError::Upstream { status, message }
    }
}

fn transport_error(doing: &str, error: &reqwest::Error) -> ProviderError {
    // reqwest's own message is generic ("error sending request"); the cause is in its sources.
    let mut message = format!("{doing}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ProviderError::Transport(truncate(&message, MAX_MESSAGE_CHARS))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A token count from the wire: a non-negative integer, saturated to `u32::MAX` (no answer has
/// that many; a provider saying so is broken, and the quota will stop it). Absent or `null` is
/// `None` (with `#[serde(default)]`); a negative, fractional or non-number count is an error.
pub(crate) fn token_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    Ok(Option::<u64>::deserialize(deserializer)?
        .map(|count| u32::try_from(count).unwrap_or(u32::MAX)))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Replaying recorded streams, and a tiny provider stand-in over real HTTP.

    use super::*;

    pub(crate) type Item = Result<StreamEvent, ProviderError>;

    /// Everything a stream yields when its body arrives in `chunks`.
    pub(crate) fn replay<'a>(
        protocol: Protocol,
        chunks: impl IntoIterator<Item = &'a [u8]>,
    ) -> (Vec<Item>, StreamState) {
        let mut state = StreamState::new(protocol);
        let mut items = Vec::new();
        for chunk in chunks {
            state.push_bytes(chunk);
            while let Some(item) = state.pop() {
                items.push(item);
            }
        }
        state.end_of_body();
        while let Some(item) = state.pop() {
            items.push(item);
        }
        (items, state)
    }

    /// Chunkings of `body` that put a boundary everywhere: one byte at a time, every two-way
    /// split, fixed sizes, and pseudo-random sizes.
    pub(crate) fn chunkings(body: &[u8]) -> Vec<Vec<&[u8]>> {
        let mut all = vec![body.chunks(1).collect::<Vec<_>>()];
        for at in 0..=body.len() {
            let (head, tail) = body.split_at(at);
            all.push(vec![head, tail]);
        }
        for size in 2..=17 {
            all.push(body.chunks(size).collect());
        }
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..64 {
            let mut chunks = Vec::new();
            let mut rest = body;
            while !rest.is_empty() {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let size = ((seed >> 33) % 40) as usize + 1;
                let (head, tail) = rest.split_at(size.min(rest.len()));
                chunks.push(head);
                rest = tail;
            }
            all.push(chunks);
        }
        all
    }

    /// What the stand-in saw of a request.
    #[derive(Debug, Clone)]
    pub(crate) struct Seen {
        pub(crate) path: String,
        pub(crate) headers: http::HeaderMap,
        pub(crate) body: serde_json::Value,
    }

    /// How the stand-in answers.
    #[derive(Clone)]
    pub(crate) enum Answer {
        /// A 200 event stream of these chunks, each after a short pause.
        Stream(Vec<Vec<u8>>),
        /// A 200 event stream that sends `first`, then a keep-alive comment every few
        /// milliseconds until the client goes away, and then fires `gone`.
        StreamUntilClosed {
            first: Vec<u8>,
            gone: std::sync::Arc<tokio::sync::Notify>,
        },
        /// Any status, headers and body.
        Plain {
            status: u16,
            headers: Vec<(&'static str, &'static str)>,
            body: &'static str,
        },
    }

    /// Starts a provider stand-in on 127.0.0.1 answering every POST with `answer`; returns its
    /// base URL and what it saw.
    pub(crate) async fn stand_in(
        answer: Answer,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Option<Seen>>>) {
        use axum::body::{Body, Bytes};
        use axum::response::Response;
        use std::convert::Infallible;
        use std::sync::{Arc, Mutex};

        let seen = Arc::new(Mutex::new(None));
        let seen_by_handler = seen.clone();
        let handler = move |uri: http::Uri, headers: http::HeaderMap, body: Bytes| {
            let answer = answer.clone();
            let seen = seen_by_handler.clone();
            async move {
                *seen.lock().expect("lock") = Some(Seen {
                    path: uri.path().to_string(),
                    headers,
                    body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                });
                match answer {
                    Answer::Stream(chunks) => {
                        let stream = futures_util::stream::unfold(
                            chunks.into_iter(),
                            |mut chunks| async move {
                                let chunk = chunks.next()?;
                                tokio::time::sleep(Duration::from_millis(2)).await;
                                Some((Ok::<_, Infallible>(chunk), chunks))
                            },
                        );
                        Response::builder()
                            .header("content-type", "text/event-stream")
                            .body(Body::from_stream(stream))
                            .expect("response")
                    }
                    Answer::StreamUntilClosed { first, gone } => {
                        let (sender, receiver) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
                        tokio::spawn(async move {
                            let mut next = first;
                            while sender.send(next).await.is_ok() {
                                tokio::time::sleep(Duration::from_millis(5)).await;
                                next = b": keep-alive\n\n".to_vec();
                            }
                            gone.notify_one();
                        });
                        let stream =
                            futures_util::stream::unfold(receiver, |mut receiver| async move {
                                let chunk = receiver.recv().await?;
                                Some((Ok::<_, Infallible>(chunk), receiver))
                            });
                        Response::builder()
                            .header("content-type", "text/event-stream")
                            .body(Body::from_stream(stream))
                            .expect("response")
                    }
                    Answer::Plain {
                        status,
                        headers,
                        body,
                    } => {
                        let mut response = Response::builder().status(status);
                        for (name, value) in headers {
                            response = response.header(name, value);
                        }
                        response.body(Body::from(body)).expect("response")
                    }
                }
            }
        };
        let router = axum::Router::new().fallback(axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        (format!("http://{address}"), seen)
    }

    /// Pulls a stream to its end.
    pub(crate) async fn drain(stream: &mut ChatStream) -> Vec<Item> {
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item);
        }
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_round_trip_and_fit_the_ledger_check() {
        for kind in [ProviderKind::OpenAi, ProviderKind::Anthropic] {
            assert_eq!(kind.as_str().parse::<ProviderKind>(), Ok(kind));
            let name = kind.as_str();
            assert!(
                (1..=32).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'_'
                        || b == b'-')
            );
        }
        assert!("OpenAI".parse::<ProviderKind>().is_err());
        assert!("".parse::<ProviderKind>().is_err());
    }

    #[test]
    fn retry_after_is_read_as_seconds() {
        assert_eq!(parse_retry_after("7"), Some(7));
        assert_eq!(parse_retry_after(" 1.2 "), Some(2));
        assert_eq!(parse_retry_after("-3"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("1e400"), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999999"),
            Some(u64::MAX)
        );
    }

    #[test]
    fn long_provider_messages_are_cut_for_logs() {
        let long = "é".repeat(2_000);
        let ProviderError::BadRequest(message) = error_from_answer(400, long.as_bytes(), None)
        else {
            panic!("expected BadRequest");
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn an_error_answer_without_a_body_is_named_by_its_status() {
        assert_eq!(
            error_from_answer(502, b"", None),
            ProviderError::Upstream {
                status: 502,
                message: "Bad Gateway".into()
            }
        );
        assert_eq!(
            error_from_answer(429, b"<html>busy</html>", Some(3)),
            ProviderError::RateLimited {
                retry_after_secs: Some(3)
            }
        );
    }

    #[test]
    fn usage_totals_do_not_overflow() {
        let usage = Usage {
            prompt_tokens: u32::MAX,
            completion_tokens: u32::MAX,
        };
        assert_eq!(usage.total_tokens(), 2 * u64::from(u32::MAX));
    }
}
