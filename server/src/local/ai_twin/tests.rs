//! The twins through their routes, as the providers' clients see them: raw HTTP for shapes, and
//! our own clients ([`crate::ai`]) on a real listener for streams, failures and cancellation.

use std::time::{Duration, Instant};

use axum::{
    Router,
    http::{Method, StatusCode},
};
use serde_json::{Value, json};

use super::{
    AiTwin, DEFAULT_TOKEN_DELAY, LOCAL_ANTHROPIC_API_KEY, LOCAL_OPENAI_API_KEY, Outcome,
    ServedRequest, answer, anthropic_router, openai_router,
};
use crate::{
    ai::{
        ChatMessage, ChatRequest, ChatStream, FinishReason, ProviderError, ProviderKind,
        StreamEvent, Usage,
        anthropic::AnthropicClient,
        openai::OpenAiClient,
        sse::{SseDecoder, SseEvent},
        test_support::drain,
    },
    local::twin_test_support::{Answer, call},
};

/// The words of "Hello from the local … twin. You said: What is Kilat?".
const KILAT_ANSWER_TOKENS: u32 = 11;

/// A twin answering at once.
fn quick(provider: ProviderKind) -> AiTwin {
    let twin = AiTwin::new(provider);
    twin.set_token_delay(Duration::ZERO);
    twin
}

fn openai_twin() -> (Router, AiTwin) {
    let twin = quick(ProviderKind::OpenAi);
    (openai_router(twin.clone()), twin)
}

fn anthropic_twin() -> (Router, AiTwin) {
    let twin = quick(ProviderKind::Anthropic);
    (anthropic_router(twin.clone()), twin)
}

async fn post_with(router: &Router, path: &str, headers: &[(&str, &str)], body: String) -> Answer {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    call(router, Method::POST, path, &all, body).await
}

async fn openai(router: &Router, body: Value) -> Answer {
    let bearer = format!("Bearer {LOCAL_OPENAI_API_KEY}");
    post_with(
        router,
        "/chat/completions",
        &[("authorization", bearer.as_str())],
        body.to_string(),
    )
    .await
}

async fn anthropic(router: &Router, body: Value) -> Answer {
    post_with(
        router,
        "/v1/messages",
        &[
            ("x-api-key", LOCAL_ANTHROPIC_API_KEY),
            ("anthropic-version", "2023-06-01"),
        ],
        body.to_string(),
    )
    .await
}

async fn control(router: &Router, path: &str, body: Value) -> Answer {
    post_with(router, path, &[], body.to_string()).await
}

async fn get(router: &Router, path: &str) -> Answer {
    call::<&str>(router, Method::GET, path, &[], "").await
}

fn events_of(answer: &Answer) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    decoder.feed(answer.text.as_bytes()).expect("decodes");
    std::iter::from_fn(|| decoder.next_event()).collect()
}

fn data(event: &SseEvent) -> Value {
    serde_json::from_str(&event.data).unwrap_or_else(|_| panic!("not JSON: {}", event.data))
}

fn kilat_answer(provider: &str) -> String {
    format!("Hello from the local {provider} twin. You said: What is Kilat?")
}

/// Asserts an OpenAI error answer: `status`, exactly OpenAI's four fields, and the `param`,
/// `code` and a part of the message.
fn assert_openai_error(
    answer: &Answer,
    status: StatusCode,
    param: Option<&str>,
    code: Option<&str>,
    says: &str,
) {
    assert_eq!(answer.status, status, "{}", answer.text);
    let body = answer.json();
    let error = body["error"].as_object().expect("an error object");
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "param", "type"], "{body}");
    assert_eq!(error["param"].as_str(), param, "{body}");
    assert_eq!(error["code"].as_str(), code, "{body}");
    assert!(
        error["message"].as_str().unwrap().contains(says),
        "{says:?} not in {body}"
    );
    assert!(
        answer.headers["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
}

/// Asserts an Anthropic error answer of `status` and `kind` whose message contains `says`.
fn assert_anthropic_error(answer: &Answer, status: StatusCode, kind: &str, says: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(says),
        "{says:?} not in {body}"
    );
    let request_id = body["request_id"].as_str().expect("a request id");
    assert_eq!(answer.headers["request-id"], request_id);
}

#[tokio::test]
async fn openai_refuses_a_missing_or_wrong_key_as_openai_does() {
    let (router, twin) = openai_twin();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]});
    let missing = post_with(&router, "/chat/completions", &[], body.to_string()).await;
    assert_openai_error(
        &missing,
        StatusCode::UNAUTHORIZED,
        None,
        None,
        "You didn't provide an API key",
    );
    assert_eq!(missing.json()["error"]["type"], "invalid_request_error");
    let wrong = post_with(
        &router,
        "/chat/completions",
        &[("authorization", "Bearer sk-not-the-twins-key")],
        body.to_string(),
    )
    .await;
    assert_openai_error(
        &wrong,
        StatusCode::UNAUTHORIZED,
        None,
        Some("invalid_api_key"),
        "Incorrect API key provided: sk-**",
    );
    assert!(!wrong.text.contains("sk-not-the-twins-key"));
    assert!(twin.served(None).is_empty(), "refusals are not recorded");
}

#[tokio::test]
async fn openai_refuses_invalid_requests_in_openai_error_shape() {
    let (router, twin) = openai_twin();
    let user = json!([{"role": "user", "content": "Hi"}]);
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"role": "user", "content": "Hi"}))
        .collect();
    let cases = [
        (
            json!({"messages": user}),
            None,
            None,
            "you must provide a model parameter",
        ),
        (
            json!({"model": 7, "messages": user}),
            Some("model"),
            Some("invalid_type"),
            "expected a string, but got an integer instead",
        ),
        (
            json!({"model": "m"}),
            Some("messages"),
            Some("missing_required_parameter"),
            "Missing required parameter: 'messages'.",
        ),
        (
            json!({"model": "m", "messages": "Hi"}),
            Some("messages"),
            Some("invalid_type"),
            "but got a string instead",
        ),
        (
            json!({"model": "m", "messages": []}),
            Some("messages"),
            Some("empty_array"),
            "empty array",
        ),
        (
            json!({"model": "m", "messages": too_many}),
            Some("messages"),
            Some("array_above_max_length"),
            "maximum length 1000",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "Hi"}]}),
            Some("messages[0].role"),
            Some("invalid_value"),
            "Invalid value: 'robot'",
        ),
        (
            json!({"model": "m", "messages": [{"content": "Hi"}]}),
            Some("messages[0].role"),
            Some("missing_required_parameter"),
            "Missing required parameter",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user"}]}),
            Some("messages[0].content"),
            Some("missing_required_parameter"),
            "Missing required parameter",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            Some("messages[0].content"),
            Some("invalid_type"),
            "but got an integer instead",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
            ]}]}),
            Some("messages[0].content[0].type"),
            Some("invalid_value"),
            "only 'text' content parts",
        ),
        (
            json!({"model": "m", "messages": user, "max_tokens": 0}),
            Some("max_tokens"),
            Some("integer_below_min_value"),
            "Expected a value >= 1, but got 0 instead",
        ),
        (
            json!({"model": "m", "messages": user, "max_tokens": "5"}),
            Some("max_tokens"),
            Some("invalid_type"),
            "expected an integer, but got a string instead",
        ),
        (
            json!({"model": "m", "messages": user, "max_completion_tokens": 4097}),
            Some("max_completion_tokens"),
            Some("invalid_value"),
            "at most 4096 completion tokens",
        ),
        (
            json!({"model": "m", "messages": user, "stream": "yes"}),
            Some("stream"),
            Some("invalid_type"),
            "expected a boolean",
        ),
        (
            json!({"model": "m", "messages": user, "stream_options": {"include_usage": true}}),
            Some("stream_options"),
            None,
            "only allowed when 'stream' is enabled",
        ),
        (
            json!({"model": "m", "messages": user, "temperature": 2.5}),
            Some("temperature"),
            Some("decimal_above_max_value"),
            "Expected a value <= 2",
        ),
        (
            json!({"model": "m", "messages": user, "n": 2}),
            Some("n"),
            Some("invalid_value"),
            "'n' must be 1",
        ),
    ];
    for (body, param, code, says) in cases {
        let answer = openai(&router, body).await;
        assert_openai_error(&answer, StatusCode::BAD_REQUEST, param, code, says);
        assert_eq!(answer.json()["error"]["type"], "invalid_request_error");
    }
    let bearer = format!("Bearer {LOCAL_OPENAI_API_KEY}");
    let not_json = post_with(
        &router,
        "/chat/completions",
        &[("authorization", bearer.as_str())],
        "{\"model\":".into(),
    )
    .await;
    assert_openai_error(
        &not_json,
        StatusCode::BAD_REQUEST,
        None,
        None,
        "We could not parse the JSON body of your request.",
    );
    assert!(twin.served(None).is_empty(), "refusals are not recorded");
}

#[tokio::test]
async fn anthropic_refuses_missing_headers_and_invalid_requests_in_anthropic_error_shape() {
    let (router, twin) = anthropic_twin();
    let body =
        json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]})
            .to_string();
    let no_key = post_with(
        &router,
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        body.clone(),
    )
    .await;
    assert_anthropic_error(
        &no_key,
        StatusCode::UNAUTHORIZED,
        "authentication_error",
        "x-api-key header is required",
    );
    let wrong_key = post_with(
        &router,
        "/v1/messages",
        &[
            ("x-api-key", "sk-ant-wrong"),
            ("anthropic-version", "2023-06-01"),
        ],
        body.clone(),
    )
    .await;
    assert_anthropic_error(
        &wrong_key,
        StatusCode::UNAUTHORIZED,
        "authentication_error",
        "invalid x-api-key",
    );
    let no_version = post_with(
        &router,
        "/v1/messages",
        &[("x-api-key", LOCAL_ANTHROPIC_API_KEY)],
        body,
    )
    .await;
    assert_anthropic_error(
        &no_version,
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "anthropic-version: header is required",
    );

    let user = json!([{"role": "user", "content": "Hi"}]);
    let cases = [
        (
            json!({"max_tokens": 10, "messages": user}),
            "model: Field required",
        ),
        (
            json!({"model": "m", "messages": user}),
            "max_tokens: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 0, "messages": user}),
            "max_tokens: Input should be greater than or equal to 1",
        ),
        (
            json!({"model": "m", "max_tokens": "10", "messages": user}),
            "max_tokens: Input should be a valid integer",
        ),
        (
            json!({"model": "m", "max_tokens": 4097, "messages": user}),
            "max_tokens: 4097 > 4096",
        ),
        (
            json!({"model": "m", "max_tokens": 10}),
            "messages: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": []}),
            "messages: at least one message is required",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": [{"role": "assistant", "content": "Hi"}]}),
            "first message must use the \"user\" role",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": [{"role": "system", "content": "Hi"}]}),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": 5}]}),
            "messages.0.content: Input should be a valid list",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
            ]}]}),
            "messages.0.content.0.type: the local twin reads only \"text\" blocks",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": user, "system": 5}),
            "system: Input should be a valid string",
        ),
        (
            json!({"model": "m", "max_tokens": 10, "messages": user, "stream": 1}),
            "stream: Input should be a valid boolean",
        ),
    ];
    for (body, says) in cases {
        let answer = anthropic(&router, body).await;
        assert_anthropic_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            says,
        );
    }
    assert!(twin.served(None).is_empty(), "refusals are not recorded");
}

#[tokio::test]
async fn anthropic_takes_the_official_sdks_bearer_key_and_2026_version_without_sampling_parameters()
{
    let (router, twin) = anthropic_twin();
    let bearer = format!("Bearer {LOCAL_ANTHROPIC_API_KEY}");
    let ask = |extra: Value| {
        let mut body =
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    let headers = [
        ("authorization", bearer.as_str()),
        ("anthropic-version", "2026-10-21"),
    ];
    let answer = post_with(&router, "/v1/messages", &headers, ask(json!({}))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    for name in ["temperature", "top_p", "top_k"] {
        let answer = post_with(&router, "/v1/messages", &headers, ask(json!({name: 0.5}))).await;
        assert_anthropic_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("{name}: Extra inputs are not permitted"),
        );
    }
    // 2023-06-01 still takes them.
    let answer = anthropic(
        &router,
        serde_json::from_str(&ask(json!({"temperature": 0.5}))).unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let wrong = post_with(
        &router,
        "/v1/messages",
        &[
            ("authorization", "Bearer sk-ant-wrong"),
            ("anthropic-version", "2026-10-21"),
        ],
        ask(json!({})),
    )
    .await;
    assert_anthropic_error(
        &wrong,
        StatusCode::UNAUTHORIZED,
        "authentication_error",
        "invalid x-api-key",
    );
    let unknown_version = post_with(
        &router,
        "/v1/messages",
        &[
            ("x-api-key", LOCAL_ANTHROPIC_API_KEY),
            ("anthropic-version", "2024-01-01"),
        ],
        ask(json!({})),
    )
    .await;
    assert_anthropic_error(
        &unknown_version,
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "is not a valid version",
    );
    assert_eq!(twin.served(None).len(), 2);
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_in_each_providers_shape() {
    let padding = "word ".repeat(super::MAX_BODY_BYTES / 5 + 1);
    let (router, _) = openai_twin();
    let answer = openai(
        &router,
        json!({"model": "m", "messages": [{"role": "user", "content": padding}]}),
    )
    .await;
    assert_openai_error(
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        Some("request_too_large"),
        "Request too large",
    );
    let (router, _) = anthropic_twin();
    let answer = anthropic(
        &router,
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": padding}]}),
    )
    .await;
    assert_anthropic_error(
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_too_large",
        "Request exceeds the maximum allowed number of bytes",
    );
}

#[tokio::test]
async fn openai_answers_a_whole_completion_with_the_predicted_usage() {
    let (router, twin) = openai_twin();
    let answer = openai(
        &router,
        json!({"model": "gpt-twin", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "What is Kilat?"}]}
        ]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(
        answer.headers["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    assert_eq!(answer.headers["content-type"], "application/json");
    let body = answer.json();
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"), "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-twin");
    assert!(body["created"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(
        body["choices"],
        json!([{
            "index": 0,
            "message": {"role": "assistant", "content": kilat_answer("OpenAI"), "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }])
    );
    // Two messages of 3 each, "Be brief." 2 words, "What is Kilat?" 3.
    let prompt_tokens = 3 + 2 + 3 + 3;
    assert_eq!(body["usage"]["prompt_tokens"], prompt_tokens);
    assert_eq!(body["usage"]["completion_tokens"], KILAT_ANSWER_TOKENS);
    assert_eq!(
        body["usage"]["total_tokens"],
        prompt_tokens + KILAT_ANSWER_TOKENS
    );

    let served = twin.served(None);
    assert_eq!(served.len(), 1);
    assert_eq!(
        served[0],
        ServedRequest {
            id: id.into(),
            provider: ProviderKind::OpenAi,
            model: "gpt-twin".into(),
            stream: false,
            prompt_tokens,
            completion_tokens: KILAT_ANSWER_TOKENS,
            outcome: Outcome::Stop,
            cancelled: false,
            received_at: served[0].received_at,
        }
    );
    let listed = get(&router, "/_twin/requests").await.json();
    assert_eq!(listed[0]["provider"], "openai");
    assert_eq!(listed[0]["outcome"], "stop");
    assert_eq!(listed[0]["cancelled"], false);
}

#[tokio::test]
async fn anthropic_answers_a_whole_message_with_the_predicted_usage() {
    let (router, twin) = anthropic_twin();
    let answer = anthropic(
        &router,
        json!({"model": "claude-twin", "max_tokens": 100, "system": [{"type": "text", "text": "Be brief."}],
            "messages": [
                {"role": "user", "content": "Hi there"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": [{"type": "text", "text": "What is Kilat?"}]}
            ]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("msg_"), "{body}");
    assert!(answer.headers.contains_key("request-id"));
    // The system prompt's 2 words, then three messages of 3 each and 2, 1 and 3 words.
    let input_tokens = 2 + (3 + 2) + (3 + 1) + (3 + 3);
    assert_eq!(
        body,
        json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": "claude-twin",
            "content": [{"type": "text", "text": kilat_answer("Anthropic")}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": KILAT_ANSWER_TOKENS,
                "service_tier": "standard"
            }
        })
    );
    let served = twin.served(Some("claude-twin"));
    assert_eq!(
        (
            served[0].provider,
            served[0].prompt_tokens,
            served[0].completion_tokens
        ),
        (ProviderKind::Anthropic, input_tokens, KILAT_ANSWER_TOKENS)
    );
}

#[tokio::test]
async fn max_tokens_cuts_an_answer_with_each_providers_reason() {
    let (router, twin) = openai_twin();
    for field in ["max_tokens", "max_completion_tokens"] {
        let mut body =
            json!({"model": "m", "messages": [{"role": "user", "content": "What is Kilat?"}]});
        body[field] = json!(4);
        let body = openai(&router, body).await.json();
        assert_eq!(
            body["choices"][0]["message"]["content"],
            "Hello from the local"
        );
        assert_eq!(body["choices"][0]["finish_reason"], "length");
        assert_eq!(body["usage"]["completion_tokens"], 4);
    }
    assert_eq!(twin.served(None)[0].outcome, Outcome::Length);

    let (router, twin) = anthropic_twin();
    let body = anthropic(
        &router,
        json!({"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "What is Kilat?"}]}),
    )
    .await
    .json();
    assert_eq!(body["content"][0]["text"], "Hello from the local");
    assert_eq!(body["stop_reason"], "max_tokens");
    assert_eq!(body["usage"]["output_tokens"], 4);
    assert_eq!(twin.served(None)[0].outcome, Outcome::Length);
}

#[tokio::test]
async fn an_openai_stream_sends_role_tokens_finish_usage_and_done() {
    let (router, twin) = openai_twin();
    let request = json!({"model": "gpt-twin", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "What is Kilat?"}]});
    let answer = openai(&router, request.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert!(answer.headers.contains_key("x-request-id"));
    let events = events_of(&answer);
    let tokens = KILAT_ANSWER_TOKENS as usize;
    assert_eq!(events.len(), 1 + tokens + 3, "{}", answer.text);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(data).collect();
    let id = chunks[0]["id"].as_str().unwrap();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id);
        assert_eq!(chunk["model"], "gpt-twin");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    assert_eq!(chunks[0]["usage"], Value::Null);
    let text: String = chunks[1..=tokens]
        .iter()
        .map(|chunk| {
            assert_eq!(chunk["choices"][0]["finish_reason"], Value::Null);
            assert_eq!(chunk["usage"], Value::Null);
            chunk["choices"][0]["delta"]["content"].as_str().unwrap()
        })
        .collect();
    assert_eq!(text, kilat_answer("OpenAI"));
    let finish = &chunks[tokens + 1];
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[tokens + 2];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 3 + 3);
    assert_eq!(usage["usage"]["completion_tokens"], KILAT_ANSWER_TOKENS);
    assert_eq!(usage["usage"]["total_tokens"], 6 + KILAT_ANSWER_TOKENS);

    // Without include_usage: no usage anywhere.
    let mut without = request;
    without.as_object_mut().unwrap().remove("stream_options");
    let answer = openai(&router, without).await;
    let events = events_of(&answer);
    assert_eq!(events.len(), 1 + tokens + 2);
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|event| data(event).get("usage").is_none())
    );
    let served = twin.served(None);
    assert_eq!(served.len(), 2);
    assert!(
        served
            .iter()
            .all(|s| s.stream && s.outcome == Outcome::Stop && s.completion_tokens == 11)
    );
}

#[tokio::test]
async fn an_anthropic_stream_sends_the_documented_event_sequence() {
    let (router, twin) = anthropic_twin();
    let answer = anthropic(
        &router,
        json!({"model": "claude-twin", "max_tokens": 100, "stream": true, "system": "Be brief.",
            "messages": [{"role": "user", "content": "What is Kilat?"}]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let events = events_of(&answer);
    let names: Vec<&str> = events.iter().map(|event| event.event.as_str()).collect();
    let tokens = KILAT_ANSWER_TOKENS as usize;
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", tokens));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    for event in &events {
        assert_eq!(data(event)["type"], event.event.as_str());
    }
    let start = data(&events[0]);
    assert!(start["message"]["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(start["message"]["content"], json!([]));
    assert_eq!(start["message"]["stop_reason"], Value::Null);
    assert_eq!(start["message"]["usage"]["input_tokens"], 2 + 3 + 3);
    assert_eq!(start["message"]["usage"]["output_tokens"], 1);
    assert_eq!(
        data(&events[1])["content_block"],
        json!({"type": "text", "text": ""})
    );
    let text: String = events[3..3 + tokens]
        .iter()
        .map(|event| {
            let delta = data(event)["delta"].clone();
            assert_eq!(delta["type"], "text_delta");
            delta["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(text, kilat_answer("Anthropic"));
    let delta = data(&events[events.len() - 2]);
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], KILAT_ANSWER_TOKENS);
    assert_eq!(twin.served(None)[0].completion_tokens, KILAT_ANSWER_TOKENS);
}

/// Both twins on a real listener, as the stand-in server nests them; the base URL.
async fn listening(openai: &AiTwin, anthropic: &AiTwin) -> String {
    let router = Router::new()
        .nest("/openai/v1", openai_router(openai.clone()))
        .nest("/anthropic", anthropic_router(anthropic.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base_url
}

struct Twins {
    openai: AiTwin,
    anthropic: AiTwin,
    base_url: String,
}

impl Twins {
    async fn start() -> Self {
        let openai = quick(ProviderKind::OpenAi);
        let anthropic = quick(ProviderKind::Anthropic);
        let base_url = listening(&openai, &anthropic).await;
        Self {
            openai,
            anthropic,
            base_url,
        }
    }

    /// The twin of `provider`, and our client for it.
    fn pair(&self, provider: ProviderKind) -> (&AiTwin, OurClient) {
        let http = crate::outbound::http_client();
        match provider {
            ProviderKind::OpenAi => (
                &self.openai,
                OurClient::OpenAi(OpenAiClient::new(
                    http,
                    format!("{}/openai/v1", self.base_url),
                    Some(LOCAL_OPENAI_API_KEY.into()),
                )),
            ),
            ProviderKind::Anthropic => (
                &self.anthropic,
                OurClient::Anthropic(AnthropicClient::new(
                    http,
                    format!("{}/anthropic", self.base_url),
                    LOCAL_ANTHROPIC_API_KEY,
                )),
            ),
        }
    }
}

enum OurClient {
    OpenAi(OpenAiClient),
    Anthropic(AnthropicClient),
}

impl OurClient {
    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        match self {
            Self::OpenAi(client) => client.stream(request).await,
            Self::Anthropic(client) => client.stream(request).await,
        }
    }
}

fn chat(model: &str, question: &str, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![
            ChatMessage::system("Answer in Markdown."),
            ChatMessage::user(question),
        ],
        max_tokens,
        temperature: Some(0.5),
    }
}

const PROVIDERS: [ProviderKind; 2] = [ProviderKind::OpenAi, ProviderKind::Anthropic];

/// The request's prompt tokens by the twin's rule: our Anthropic client sends the system
/// message as the top-level `system`, which costs no per-message 3.
fn predicted_prompt_tokens(provider: ProviderKind, request: &ChatRequest) -> u32 {
    let texts = request.messages.iter().map(|m| m.content.as_str());
    match provider {
        ProviderKind::OpenAi => answer::prompt_tokens(None, texts),
        ProviderKind::Anthropic => {
            let (system, rest): (Vec<_>, Vec<_>) = request
                .messages
                .iter()
                .partition(|m| m.role == crate::ai::Role::System);
            answer::prompt_tokens(
                Some(&system[0].content),
                rest.iter().map(|m| m.content.as_str()),
            )
        }
    }
}

#[tokio::test]
async fn our_clients_read_the_twins_streams_as_predicted() {
    let twins = Twins::start().await;
    for provider in PROVIDERS {
        let (twin, client) = twins.pair(provider);
        for (question, max_tokens, finish) in [
            ("Show me code and a list", 500, FinishReason::Complete),
            ("What is Kilat?", 5, FinishReason::MaxTokens),
        ] {
            let request = chat("ours", question, max_tokens);
            let planned = answer::plan(provider, question, max_tokens);
            let usage = Usage {
                prompt_tokens: predicted_prompt_tokens(provider, &request),
                completion_tokens: planned.completion_tokens(),
            };
            let mut stream = client.stream(&request).await.expect("stream");
            let items = drain(&mut stream).await;
            let text: String = items
                .iter()
                .filter_map(|item| match item {
                    Ok(StreamEvent::Text(text)) => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(text, planned.text(), "{provider}");
            assert_eq!(
                items.last(),
                Some(&Ok(StreamEvent::Done {
                    finish_reason: Some(finish.clone())
                })),
                "{provider}"
            );
            assert_eq!(stream.usage(), Some(usage), "{provider}");
            assert_eq!(
                stream.text_deltas(),
                planned.tokens.len(),
                "one delta per token"
            );
            let served = twin.served(None);
            let last = served.last().expect("recorded");
            assert_eq!(
                (last.prompt_tokens, last.completion_tokens, last.cancelled),
                (usage.prompt_tokens, usage.completion_tokens, false)
            );
        }
        assert!(
            answer::plan(provider, "Show me code and a list", 500)
                .text()
                .contains("```rust\n")
        );
    }
}

#[tokio::test]
async fn an_xss_test_prompt_streams_hostile_markup_verbatim() {
    let twins = Twins::start().await;
    for provider in PROVIDERS {
        let (_, client) = twins.pair(provider);
        let mut stream = client
            .stream(&chat("xss", "Please render: xss-test", 200))
            .await
            .expect("stream");
        let text: String = drain(&mut stream)
            .await
            .into_iter()
            .filter_map(|item| match item {
                Ok(StreamEvent::Text(text)) => Some(text),
                _ => None,
            })
            .collect();
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[a link](javascript:alert(1))",
        ] {
            assert!(text.contains(hostile), "{hostile} missing from {text}");
        }
    }
}

#[tokio::test]
async fn the_overloaded_switch_refuses_as_each_provider_does_then_clears() {
    let (router, twin) = openai_twin();
    let set = control(
        &router,
        "/_twin/failure",
        json!({"kind": "overloaded", "times": 1}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json()["switches"][0]["kind"], "overloaded");
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]});
    let refused = openai(&router, body.clone()).await;
    assert_openai_error(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        None,
        "overloaded",
    );
    assert_eq!(refused.json()["error"]["type"], "server_error");
    assert_eq!(openai(&router, body).await.status, StatusCode::OK);
    let served = twin.served(None);
    assert_eq!(
        (served[0].outcome, served[0].prompt_tokens),
        (Outcome::Overloaded, 0)
    );
    assert_eq!(served[1].outcome, Outcome::Stop);

    let (router, _) = anthropic_twin();
    control(&router, "/_twin/failure", json!({"kind": "overloaded"})).await;
    for _ in 0..2 {
        let refused = anthropic(
            &router,
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .await;
        assert_anthropic_error(
            &refused,
            StatusCode::from_u16(529).unwrap(),
            "overloaded_error",
            "Overloaded",
        );
    }

    let twins = Twins::start().await;
    for provider in PROVIDERS {
        let (twin, client) = twins.pair(provider);
        twin.set_switch(super::Switch::new(super::FailureKind::Overloaded).times(1))
            .unwrap();
        assert_eq!(
            client.stream(&chat("m", "Hi", 10)).await.err(),
            Some(ProviderError::Overloaded),
            "{provider}"
        );
        assert!(client.stream(&chat("m", "Hi", 10)).await.is_ok());
    }
}

#[tokio::test]
async fn the_rate_limited_switch_answers_429_with_retry_after_in_each_shape() {
    let switch = json!({"kind": "rate_limited", "retry_after_secs": 7, "times": 1});
    let (router, twin) = openai_twin();
    control(&router, "/_twin/failure", switch.clone()).await;
    let refused = openai(
        &router,
        json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    assert_openai_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        None,
        Some("rate_limit_exceeded"),
        "Rate limit reached for m",
    );
    assert_eq!(refused.headers["retry-after"], "7");
    assert_eq!(twin.served(None)[0].outcome, Outcome::RateLimited);

    let (router, _) = anthropic_twin();
    control(&router, "/_twin/failure", switch).await;
    let refused = anthropic(
        &router,
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    assert_anthropic_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        "rate limit",
    );
    assert_eq!(refused.headers["retry-after"], "7");

    let twins = Twins::start().await;
    for provider in PROVIDERS {
        let (twin, client) = twins.pair(provider);
        let mut switch = super::Switch::new(super::FailureKind::RateLimited).times(1);
        switch.retry_after_secs = 7;
        twin.set_switch(switch).unwrap();
        assert_eq!(
            client.stream(&chat("m", "Hi", 10)).await.err(),
            Some(ProviderError::RateLimited {
                retry_after_secs: Some(7)
            }),
            "{provider}"
        );
    }
}

/// The texts and the last item of a drained stream.
fn texts_and_end(items: &[Result<StreamEvent, ProviderError>]) -> (usize, Option<ProviderError>) {
    let texts = items
        .iter()
        .filter(|item| matches!(item, Ok(StreamEvent::Text(_))))
        .count();
    (texts, items.last().and_then(|item| item.clone().err()))
}

#[tokio::test]
async fn the_cut_switch_ends_a_stream_after_n_tokens_without_its_final_events() {
    let (router, twin) = openai_twin();
    control(
        &router,
        "/_twin/failure",
        json!({"kind": "cut", "after_tokens": 3, "times": 1}),
    )
    .await;
    let request =
        json!({"model": "m", "messages": [{"role": "user", "content": "What is Kilat?"}]});
    // A whole answer does not take a stream's switch.
    assert_eq!(
        openai(&router, request.clone()).await.status,
        StatusCode::OK
    );
    let mut streamed = request;
    streamed["stream"] = json!(true);
    let cut = openai(&router, streamed).await;
    assert_eq!(cut.status, StatusCode::OK);
    assert_eq!(cut.headers["connection"], "close");
    let events = events_of(&cut);
    assert_eq!(events.len(), 1 + 3, "{}", cut.text);
    assert!(!cut.text.contains("[DONE]") && !cut.text.contains("finish_reason\":\"stop"));
    let last = twin.served(None).pop().unwrap();
    assert_eq!(
        (last.outcome, last.completion_tokens, last.cancelled),
        (Outcome::Cut, 3, false)
    );

    let twins = Twins::start().await;
    for provider in PROVIDERS {
        let (twin, client) = twins.pair(provider);
        twin.set_switch(super::Switch::new(super::FailureKind::Cut).after_tokens(3))
            .unwrap();
        let mut stream = client
            .stream(&chat("m", "What is Kilat?", 100))
            .await
            .unwrap();
        let items = drain(&mut stream).await;
        assert_eq!(
            texts_and_end(&items),
            (3, Some(ProviderError::StreamCut)),
            "{provider}: {items:?}"
        );
        // Reset mid-body: the client sees the connection fail.
        twin.set_switch(super::Switch {
            abrupt: true,
            ..super::Switch::new(super::FailureKind::Cut).after_tokens(2)
        })
        .unwrap();
        let mut stream = client
            .stream(&chat("m", "What is Kilat?", 100))
            .await
            .unwrap();
        let items = drain(&mut stream).await;
        let (texts, end) = texts_and_end(&items);
        assert_eq!(texts, 2, "{provider}: {items:?}");
        assert!(
            matches!(end, Some(ProviderError::Transport(_))),
            "{provider}: {items:?}"
        );
        let served = twin.served(None);
        assert!(
            served
                .iter()
                .all(|s| s.outcome == Outcome::Cut && !s.cancelled),
            "{served:?}"
        );
    }
}

#[tokio::test]
async fn the_error_mid_stream_switch_sends_each_providers_error_event() {
    let (router, twin) = openai_twin();
    control(
        &router,
        "/_twin/failure",
        json!({"kind": "error_mid_stream", "after_tokens": 2}),
    )
    .await;
    let answer = openai(
        &router,
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    let events = events_of(&answer);
    assert_eq!(events.len(), 1 + 2 + 1);
    let error = data(events.last().unwrap());
    assert_eq!(error["error"]["type"], "server_error");
    assert!(!answer.text.contains("[DONE]"));
    let last = twin.served(None).pop().unwrap();
    assert_eq!(
        (last.outcome, last.completion_tokens),
        (Outcome::ErrorMidStream, 2)
    );

    let (router, _) = anthropic_twin();
    control(
        &router,
        "/_twin/failure",
        json!({"kind": "error_mid_stream", "after_tokens": 2}),
    )
    .await;
    let answer = anthropic(
        &router,
        json!({"model": "m", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    let events = events_of(&answer);
    let last = events.last().unwrap();
    assert_eq!(last.event, "error");
    assert_eq!(data(last)["error"]["type"], "overloaded_error");
    assert!(!answer.text.contains("message_stop"));

    let twins = Twins::start().await;
    for (provider, expected) in [
        (
            ProviderKind::OpenAi,
            ProviderError::Upstream {
                status: 200,
                message: "The server had an error while processing your request. Sorry about \
                          that!"
                    .into(),
            },
        ),
        (ProviderKind::Anthropic, ProviderError::Overloaded),
    ] {
        let (twin, client) = twins.pair(provider);
        twin.set_switch(super::Switch::new(super::FailureKind::ErrorMidStream).after_tokens(2))
            .unwrap();
        let mut stream = client.stream(&chat("m", "Hi", 50)).await.unwrap();
        let items = drain(&mut stream).await;
        assert_eq!(texts_and_end(&items), (2, Some(expected)), "{provider}");
    }
}

#[tokio::test]
async fn switches_for_one_model_leave_other_models_alone_and_reset_clears_everything() {
    let (router, twin) = openai_twin();
    let ask =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]});
    control(
        &router,
        "/_twin/failure",
        json!({"kind": "rate_limited", "model": "mine"}),
    )
    .await;
    assert_eq!(openai(&router, ask("theirs")).await.status, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(
            openai(&router, ask("mine")).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let listed = get(&router, "/_twin/failure").await.json();
    assert_eq!(listed["switches"][0]["model"], "mine");
    let cleared = control(
        &router,
        "/_twin/failure",
        json!({"kind": "none", "model": "mine"}),
    )
    .await;
    assert_eq!(cleared.json(), json!({"switches": []}));
    assert_eq!(openai(&router, ask("mine")).await.status, StatusCode::OK);

    let mine = get(&router, "/_twin/requests?model=mine").await.json();
    let outcomes: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|served| served["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["rate_limited", "rate_limited", "stop"]);

    control(&router, "/_twin/failure", json!({"kind": "overloaded"})).await;
    control(&router, "/_twin/delay", json!({"ms_per_token": 40})).await;
    let reset = control(&router, "/_twin/reset", json!({})).await;
    assert_eq!(
        reset.json(),
        json!({"switches": [], "ms_per_token": DEFAULT_TOKEN_DELAY.as_millis() as u64})
    );
    assert_eq!(get(&router, "/_twin/requests").await.json(), json!([]));
    assert_eq!(twin.token_delay(), DEFAULT_TOKEN_DELAY);
}

#[tokio::test]
async fn control_endpoints_refuse_bad_bodies_in_the_providers_shape() {
    let (router, _) = openai_twin();
    for (path, body) in [
        ("/_twin/failure", json!({"kind": "explode"})),
        ("/_twin/failure", json!({"kind": "cut", "times": 0})),
        ("/_twin/failure", json!({"kind": "cut", "colour": "red"})),
        ("/_twin/delay", json!({"ms_per_token": 5000})),
    ] {
        let answer = control(&router, path, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert_eq!(answer.json()["error"]["type"], "invalid_request_error");
    }
    let (router, _) = anthropic_twin();
    let answer = control(&router, "/_twin/failure", json!({"kind": "explode"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["type"], "error");
}

/// Waits for the twin to record a request for `model`.
async fn recorded(twin: &AiTwin, model: &str) -> ServedRequest {
    for _ in 0..200 {
        if let Some(served) = twin.served(Some(model)).pop() {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the twin recorded no request for {model}");
}

#[tokio::test]
async fn dropping_our_chat_stream_midway_is_recorded_as_cancelled() {
    let twins = Twins::start().await;
    for provider in PROVIDERS {
        let (twin, client) = twins.pair(provider);
        twin.set_token_delay(Duration::from_millis(20));
        let mut stream = client
            .stream(&chat("cancelled", "long-answer please", 1000))
            .await
            .expect("stream");
        let mut texts = 0;
        while texts < 3 {
            match stream.next().await {
                Some(Ok(StreamEvent::Text(_))) => texts += 1,
                Some(Ok(_)) => {}
                other => panic!("{provider}: the stream ended early: {other:?}"),
            }
        }
        drop(stream);
        let served = recorded(twin, "cancelled").await;
        assert!(served.cancelled, "{provider}: {served:?}");
        assert_eq!(served.outcome, Outcome::Cancelled);
        assert!(
            (3..100).contains(&served.completion_tokens),
            "{provider}: {served:?}"
        );
        assert!(served.stream && served.prompt_tokens > 0);
    }
}

#[tokio::test]
async fn the_token_delay_spaces_the_tokens_and_is_set_at_runtime() {
    let (router, twin) = anthropic_twin();
    let set = control(&router, "/_twin/delay", json!({"ms_per_token": 25})).await;
    assert_eq!(set.json(), json!({"ms_per_token": 25}));
    assert_eq!(
        get(&router, "/_twin/delay").await.json(),
        json!({"ms_per_token": 25})
    );
    assert_eq!(twin.token_delay(), Duration::from_millis(25));
    let least = Duration::from_millis(25) * KILAT_ANSWER_TOKENS;
    for stream in [true, false] {
        let started = Instant::now();
        let answer = anthropic(
            &router,
            json!({"model": "m", "max_tokens": 100, "stream": stream, "messages": [{"role": "user", "content": "What is Kilat?"}]}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(
            started.elapsed() >= least,
            "stream {stream}: {:?}",
            started.elapsed()
        );
    }
    // Streamed, the first event comes at once and the tokens after.
    let twins = Twins::start().await;
    let (twin, client) = twins.pair(ProviderKind::OpenAi);
    twin.set_token_delay(Duration::from_millis(30));
    let started = Instant::now();
    let mut stream = client
        .stream(&chat("m", "What is Kilat?", 100))
        .await
        .unwrap();
    let mut arrivals = Vec::new();
    while let Some(Ok(event)) = stream.next().await {
        if matches!(event, StreamEvent::Text(_)) {
            arrivals.push(started.elapsed());
        }
    }
    assert_eq!(arrivals.len(), KILAT_ANSWER_TOKENS as usize);
    assert!(arrivals[KILAT_ANSWER_TOKENS as usize - 1] >= Duration::from_millis(30) * 11);
}

#[tokio::test]
async fn the_stand_in_server_serves_both_ai_twins_under_their_prefixes() {
    let stand_ins = crate::local::start(0, None, None).await.expect("starts");
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/openai/v1/chat/completions", stand_ins.base_url))
        .bearer_auth(LOCAL_OPENAI_API_KEY)
        .json(&json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from");
    let answer = http
        .post(format!("{}/anthropic/v1/messages", stand_ins.base_url))
        .header("x-api-key", LOCAL_ANTHROPIC_API_KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "Hello from");
    let requests: Value = http
        .get(format!("{}/anthropic/_twin/requests", stand_ins.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests[0]["provider"], "anthropic");

    let unknown = http
        .post(format!("{}/openai/v1/completions/chat", stand_ins.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Invalid URL (POST /openai/v1/completions/chat)"
    );
    let unknown = http
        .get(format!("{}/anthropic/v1/models", stand_ins.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["type"], "not_found_error");
}
