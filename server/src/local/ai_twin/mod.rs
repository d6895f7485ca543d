//! A local OpenAI and a local Anthropic: Chat Completions' `POST /v1/chat/completions` and
//! Messages' `POST /v1/messages`, with the providers' key checks, request validation, error
//! shapes, whole answers and event streams — so that the official `openai` and
//! `@anthropic-ai/sdk` clients, and our own ([`crate::ai`]), work against them with only a base
//! URL: `{stand-ins}/openai/v1` (key [`LOCAL_OPENAI_API_KEY`], as `Authorization: Bearer`) and
//! `{stand-ins}/anthropic` (key [`LOCAL_ANTHROPIC_API_KEY`] as `x-api-key` or, as the official
//! SDKs send it since API version 2026-10-21, `Authorization: Bearer`; with `anthropic-version`
//! 2023-06-01 or 2026-10-21, the latter refusing `temperature`, `top_p` and `top_k` as
//! Anthropic does). Never in production. There is no model: answers are deterministic text
//! built from the prompt.
//!
//! # Answers
//! "Hello from the local OpenAI twin. You said: " (or "… Anthropic twin …") and the words of the
//! last user message (at most 64, then `…`; "nothing." for none). Then, for each trigger word in
//! the last user message (case-insensitive, surrounding punctuation ignored):
//! - `list`: a Markdown list of three items; `code`: a fenced ```` ```rust ```` block;
//! - `xss-test`: `<script>alert(1)</script>`, `<img src=x onerror=alert(1)>` and
//!   `[a link](javascript:alert(1))`, verbatim, for the renderer's tests;
//! - `long-answer`: sentences that go on until `max_tokens` cuts them.
//!
//! Any model name is accepted (none is ever "not found"), so tests can use a model name of their
//! own to keep their switches and records apart.
//!
//! # The token rule
//! - A *word* is a run of non-whitespace characters (Rust's `split_whitespace`; in JavaScript
//!   `text.split(/\s+/).filter(Boolean)`).
//! - Prompt tokens: 3 per message plus the words of its text (text parts/blocks together), plus
//!   the words of Anthropic's top-level `system` (not a message, so no 3). OpenAI `system` and
//!   `developer` messages are messages.
//! - Completion tokens: the words of the answer. Each token is one delta: a word with the
//!   whitespace before it, so the deltas joined are the answer's text exactly. At most
//!   `max_tokens` (OpenAI `max_completion_tokens` or `max_tokens`, by default
//!   [`MAX_OUTPUT_TOKENS`]) are sent; an answer cut there ends `length` / `max_tokens`, a whole
//!   one `stop` / `end_turn`.
//!
//! # Streams
//! - OpenAI (`stream: true`): `chat.completion.chunk`s — the first with `delta.role`, one per
//!   token, one with `finish_reason`, then with `stream_options.include_usage` one with
//!   `choices: []` and `usage` (and `"usage": null` in all the others), then `data: [DONE]`.
//!   Headers `content-type: text/event-stream; charset=utf-8` and `x-request-id`.
//! - Anthropic: `message_start` (usage.input_tokens, output_tokens 1), `content_block_start`,
//!   `ping`, one `content_block_delta` (`text_delta`) per token, `content_block_stop`,
//!   `message_delta` (stop_reason, cumulative usage.output_tokens), `message_stop`; each as
//!   `event: <type>\ndata: <json>\n\n`. Header `request-id`.
//! - Each token waits the token delay first (default [`DEFAULT_TOKEN_DELAY`]); a whole answer
//!   waits as long as its stream would have taken.
//!
//! # Control endpoints (local development and tests only)
//! Under each prefix (`/openai/v1/_twin/…`, `/anthropic/_twin/…`), each acting on that
//! provider's twin alone. JSON bodies; refusals are 400s in the provider's error shape.
//! - `POST /_twin/failure` `{"kind", "times"?, "after_tokens"?, "retry_after_secs"?, "abrupt"?,
//!   "model"?}` sets a failure switch for the next `times` requests (absent: until cleared) for
//!   `model` (absent: for every model without a switch of its own; a model's switch replaces
//!   its earlier one). Kinds:
//!   - `overloaded`: OpenAI 503 `server_error`, Anthropic 529 `overloaded_error`;
//!   - `rate_limited`: 429 with `retry-after: retry_after_secs` (default 1), OpenAI
//!     `rate_limit_exceeded` / Anthropic `rate_limit_error`;
//!   - `cut` (streams only): the stream stops after `after_tokens` tokens (default 0) without
//!     its final events or `[DONE]`: the body ends there and the connection is closed
//!     (`connection: close`; our client's `StreamCut`), or with `"abrupt": true` the connection
//!     is dropped mid-body (no final chunk: a transport error);
//!   - `error_mid_stream` (streams only): after `after_tokens` tokens, OpenAI's
//!     `data: {"error": {"type": "server_error", …}}` or Anthropic's `event: error` with
//!     `overloaded_error`, and the body ends;
//!   - `none`: clears the switch of that `model` (or the one for every model).
//!
//!   Answers `{"switches": [...]}`, the switches now set (also `GET /_twin/failure`). A switch
//!   for streams only is not used up by a whole-answer request.
//! - `POST /_twin/delay` `{"ms_per_token": 0..=1000}` sets the token delay (`GET` reads it).
//! - `GET /_twin/requests[?model=M]`: the requests served, oldest first, at most
//!   [`REQUESTS_KEPT`](state::REQUESTS_KEPT) kept: `{"id", "provider": "openai"|"anthropic",
//!   "model", "stream", "prompt_tokens" (0 when refused), "completion_tokens" (tokens actually
//!   handed to the connection), "outcome": "stop"|"length"|"cut"|"error_mid_stream"|
//!   "overloaded"|"rate_limited"|"cancelled", "cancelled", "received_at"}`. A request is
//!   recorded when its answer ends; `cancelled` means the client went away first (the stream
//!   was dropped, e.g. by `stream.controller.abort()`). Requests refused for their key or
//!   their body are not recorded.
//! - `POST /_twin/reset`: clears switches and records and restores the default delay.
//!
//! ```sh
//! curl -X POST localhost:54321/anthropic/_twin/failure -H 'content-type: application/json' \
//!   -d '{"kind": "error_mid_stream", "after_tokens": 5, "times": 1}'
//! ```
//!
//! # Deliberate differences from the providers
//! - Text only: OpenAI content parts and Anthropic blocks other than text (images, tools,
//!   documents) are refused; `n` must be 1; tools, stop sequences, logprobs and the like are
//!   ignored.
//! - Request bodies of at most 1 MiB (a 413 in the provider's shape), at most
//!   [`MAX_MESSAGES`] messages and [`MAX_OUTPUT_TOKENS`] output tokens.
//! - Anthropic's turns need not alternate (the API merges repeated turns too); the first must
//!   be the user's.

mod answer;
mod anthropic;
mod control;
mod openai;
mod serve;
mod state;

#[cfg(test)]
mod tests;

use axum::{Router, extract::DefaultBodyLimit, routing::post};

use crate::ai::ProviderKind;

pub use answer::{TOKENS_PER_MESSAGE, pieces, prompt_tokens, words};
pub use state::{
    AiTwin, DEFAULT_TOKEN_DELAY, FailureKind, Outcome, REQUESTS_KEPT, ServedRequest, Switch,
};

/// The only key the OpenAI twin accepts (`Authorization: Bearer …`).
pub const LOCAL_OPENAI_API_KEY: &str = "sk-kilat-local-twin";
/// The only key the Anthropic twin accepts (`x-api-key`).
pub const LOCAL_ANTHROPIC_API_KEY: &str = "sk-ant-kilat-local-twin";
/// The most output tokens an answer may ask for.
pub const MAX_OUTPUT_TOKENS: u32 = 4096;
/// The most messages a request may carry.
pub const MAX_MESSAGES: usize = 1_000;
/// The largest request body read.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The OpenAI twin, to be nested at `/openai/v1` (the official client's base URL ends in `/v1`).
pub fn openai_router(twin: AiTwin) -> Router {
    assert_eq!(twin.provider(), ProviderKind::OpenAi, "an OpenAI twin");
    Router::new()
        .route("/chat/completions", post(openai::chat_completions))
        .merge(control::routes())
        .fallback(openai::unknown_path)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(twin)
}

/// The Anthropic twin, to be nested at `/anthropic` (the official client adds `/v1`).
pub fn anthropic_router(twin: AiTwin) -> Router {
    assert_eq!(
        twin.provider(),
        ProviderKind::Anthropic,
        "an Anthropic twin"
    );
    Router::new()
        .route("/v1/messages", post(anthropic::messages))
        .merge(control::routes())
        .fallback(anthropic::unknown_path)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(twin)
}
