//! Anthropic's `POST /v1/messages`: its `x-api-key` and `anthropic-version` checks, its request
//! validation and error shape (`{"type": "error", "error": {"type", "message"}, "request_id"}`),
//! a whole `message` or the stream of named events from `message_start` to `message_stop`.

use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::Response,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    LOCAL_ANTHROPIC_API_KEY, MAX_MESSAGES, MAX_OUTPUT_TOKENS,
    answer::{self, Finish, Planned},
    serve::{Dialect, Prompt, json_error, serve, with_retry_after},
    state::{AiTwin, Failure, FailureKind},
};

/// The `anthropic-version`s Anthropic accepts. The official SDKs send 2026-10-21 since their
/// October 2026 majors (with the key as `Authorization: Bearer`); ours sends 2023-06-01.
const VERSIONS: [&str; 3] = ["2023-06-01", "2026-10-21", "2023-01-01"];
/// The version that no longer takes sampling parameters.
const VERSION_2026_10_21: &str = "2026-10-21";
/// The request fields API version 2026-10-21 refuses.
const REMOVED_IN_2026_10_21: [&str; 3] = ["temperature", "top_p", "top_k"];

/// An Anthropic error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnthropicError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl AnthropicError {
    /// A 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            message: message.into(),
        }
    }

    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    /// The answer, naming `request_id` as Anthropic does.
    pub fn respond(self, request_id: &str) -> Response {
        let mut response = json_error(
            self.status,
            json!({
                "type": "error",
                "error": {"type": self.kind, "message": self.message},
                "request_id": request_id,
            }),
        );
        if let Ok(value) = HeaderValue::from_str(request_id) {
            response.headers_mut().insert("request-id", value);
        }
        response
    }
}

fn new_request_id() -> String {
    format!("req_kilat{}", Uuid::new_v4().simple())
}

/// `POST /v1/messages` (under `/anthropic`).
pub async fn messages(
    State(twin): State<AiTwin>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request_id = new_request_id();
    match read_request(&headers, body) {
        Ok(prompt) => {
            let dialect = AnthropicAnswer {
                id: format!("msg_kilat{}", Uuid::new_v4().simple()),
                request_id,
                model: prompt.model.clone(),
                prompt_tokens: prompt.prompt_tokens,
            };
            serve(&twin, prompt, dialect).await
        }
        Err(error) => error.respond(&request_id),
    }
}

/// Any other path under the prefix, as Anthropic answers it.
pub async fn unknown_path() -> Response {
    AnthropicError::new(StatusCode::NOT_FOUND, "not_found_error", "Not Found")
        .respond(&new_request_id())
}

/// Checks the key (`x-api-key`, or `Authorization: Bearer` as the SDKs send it since API
/// version 2026-10-21) and answers the `anthropic-version`.
fn check_headers(headers: &HeaderMap) -> Result<&'static str, AnthropicError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let bearer = header("authorization").and_then(|value| {
        let (scheme, key) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
    });
    match header("x-api-key").or(bearer) {
        None => {
            return Err(AnthropicError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "x-api-key header is required",
            ));
        }
        Some(key) if key != LOCAL_ANTHROPIC_API_KEY => {
            return Err(AnthropicError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "invalid x-api-key",
            ));
        }
        Some(_) => {}
    }
    match header("anthropic-version") {
        None => Err(AnthropicError::invalid(
            "anthropic-version: header is required",
        )),
        Some(version) => VERSIONS
            .into_iter()
            .find(|known| *known == version)
            .ok_or_else(|| {
                AnthropicError::invalid(format!(
                    "anthropic-version: {version:?} is not a valid version (use 2026-10-21 or \
                     2023-06-01)"
                ))
            }),
    }
}

fn read_request(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Prompt, AnthropicError> {
    let version = check_headers(headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AnthropicError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!(
                    "Request exceeds the maximum allowed number of bytes ({} in the local twin).",
                    super::MAX_BODY_BYTES
                ),
            )
        } else {
            AnthropicError::invalid(rejection.body_text())
        }
    })?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|error| AnthropicError::invalid(format!("Invalid JSON body: {error}")))?;
    let Value::Object(body) = value else {
        return Err(AnthropicError::invalid(
            "Input should be a valid dictionary or object",
        ));
    };
    read_body(&body, version)
}

fn field_required(name: &str) -> AnthropicError {
    AnthropicError::invalid(format!("{name}: Field required"))
}

/// The request's fields as the twin needs them, checked as Anthropic checks them under
/// `version`.
fn read_body(body: &Map<String, Value>, version: &str) -> Result<Prompt, AnthropicError> {
    if version == VERSION_2026_10_21
        && let Some(removed) = REMOVED_IN_2026_10_21
            .into_iter()
            .find(|name| body.contains_key(*name))
    {
        return Err(AnthropicError::invalid(format!(
            "{removed}: Extra inputs are not permitted"
        )));
    }
    let model = match body.get("model") {
        None | Some(Value::Null) => return Err(field_required("model")),
        Some(Value::String(model)) if !model.is_empty() => model.clone(),
        Some(Value::String(_)) => return Err(AnthropicError::invalid("model: Field required")),
        Some(_) => {
            return Err(AnthropicError::invalid(
                "model: Input should be a valid string",
            ));
        }
    };
    let max_tokens = match body.get("max_tokens") {
        None | Some(Value::Null) => return Err(field_required("max_tokens")),
        Some(Value::Number(number)) if !number.is_f64() => number
            .as_i64()
            .map(i128::from)
            .or_else(|| number.as_u64().map(i128::from))
            .unwrap_or(i128::MAX),
        Some(_) => {
            return Err(AnthropicError::invalid(
                "max_tokens: Input should be a valid integer",
            ));
        }
    };
    if max_tokens < 1 {
        return Err(AnthropicError::invalid(
            "max_tokens: Input should be greater than or equal to 1",
        ));
    }
    let max_tokens = u32::try_from(max_tokens)
        .ok()
        .filter(|&max_tokens| max_tokens <= MAX_OUTPUT_TOKENS)
        .ok_or_else(|| {
            AnthropicError::invalid(format!(
                "max_tokens: {max_tokens} > {MAX_OUTPUT_TOKENS}, which is the maximum allowed \
                 number of output tokens for {model} in the local twin"
            ))
        })?;
    let system = match body.get("system") {
        None | Some(Value::Null) => None,
        Some(Value::String(system)) => Some(system.clone()),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (at, block) in blocks.iter().enumerate() {
                texts.push(read_text_block(&format!("system.{at}"), block)?);
            }
            Some(texts.join("\n"))
        }
        Some(_) => {
            return Err(AnthropicError::invalid(
                "system: Input should be a valid string",
            ));
        }
    };
    let messages = match body.get("messages") {
        None | Some(Value::Null) => return Err(field_required("messages")),
        Some(Value::Array(messages)) => messages,
        Some(_) => {
            return Err(AnthropicError::invalid(
                "messages: Input should be a valid list",
            ));
        }
    };
    if messages.is_empty() {
        return Err(AnthropicError::invalid(
            "messages: at least one message is required",
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(AnthropicError::invalid(format!(
            "messages: the local twin takes at most {MAX_MESSAGES} messages, got {}",
            messages.len()
        )));
    }
    let mut texts = Vec::with_capacity(messages.len());
    let mut last_user_message = String::new();
    for (at, message) in messages.iter().enumerate() {
        let (role, text) = read_message(at, message)?;
        if at == 0 && role != "user" {
            return Err(AnthropicError::invalid(
                "messages: first message must use the \"user\" role",
            ));
        }
        if role == "user" {
            last_user_message.clone_from(&text);
        }
        texts.push(text);
    }
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(_) => {
            return Err(AnthropicError::invalid(
                "stream: Input should be a valid boolean",
            ));
        }
    };
    match body.get("temperature") {
        None | Some(Value::Null) => {}
        Some(Value::Number(number)) => {
            let temperature = number.as_f64().unwrap_or(f64::NAN);
            if temperature < 0.0 {
                return Err(AnthropicError::invalid(
                    "temperature: Input should be greater than or equal to 0",
                ));
            }
            if temperature > 1.0 {
                return Err(AnthropicError::invalid(
                    "temperature: Input should be less than or equal to 1",
                ));
            }
        }
        Some(_) => {
            return Err(AnthropicError::invalid(
                "temperature: Input should be a valid number",
            ));
        }
    }
    Ok(Prompt {
        prompt_tokens: answer::prompt_tokens(system.as_deref(), texts.iter().map(String::as_str)),
        model,
        last_user_message,
        max_tokens,
        stream,
    })
}

/// One message's role and text (text blocks joined by newlines).
fn read_message(at: usize, message: &Value) -> Result<(&str, String), AnthropicError> {
    let name = format!("messages.{at}");
    let Value::Object(message) = message else {
        return Err(AnthropicError::invalid(format!(
            "{name}: Input should be a valid dictionary"
        )));
    };
    let role = match message.get("role") {
        None | Some(Value::Null) => return Err(field_required(&format!("{name}.role"))),
        Some(Value::String(role)) if role == "user" || role == "assistant" => role.as_str(),
        Some(_) => {
            return Err(AnthropicError::invalid(format!(
                "{name}.role: Input should be 'user' or 'assistant'"
            )));
        }
    };
    let text = match message.get("content") {
        None | Some(Value::Null) => return Err(field_required(&format!("{name}.content"))),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (index, block) in blocks.iter().enumerate() {
                texts.push(read_text_block(&format!("{name}.content.{index}"), block)?);
            }
            texts.join("\n")
        }
        Some(_) => {
            return Err(AnthropicError::invalid(format!(
                "{name}.content: Input should be a valid list"
            )));
        }
    };
    Ok((role, text))
}

fn read_text_block(name: &str, block: &Value) -> Result<String, AnthropicError> {
    let Value::Object(block) = block else {
        return Err(AnthropicError::invalid(format!(
            "{name}: Input should be a valid dictionary"
        )));
    };
    match block.get("type") {
        Some(Value::String(kind)) if kind == "text" => {}
        None | Some(Value::Null) => return Err(field_required(&format!("{name}.type"))),
        Some(kind) => {
            return Err(AnthropicError::invalid(format!(
                "{name}.type: the local twin reads only \"text\" blocks, not {kind}"
            )));
        }
    }
    match block.get("text") {
        Some(Value::String(text)) => Ok(text.clone()),
        None | Some(Value::Null) => Err(field_required(&format!("{name}.text"))),
        Some(_) => Err(AnthropicError::invalid(format!(
            "{name}.text: Input should be a valid string"
        ))),
    }
}

/// One answer in Anthropic's words.
struct AnthropicAnswer {
    id: String,
    request_id: String,
    model: String,
    prompt_tokens: u32,
}

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Complete => "end_turn",
        Finish::MaxTokens => "max_tokens",
    }
}

/// One server-sent event named as its `type`.
fn event(data: &Value) -> String {
    let name = data["type"].as_str().unwrap_or("message");
    format!("event: {name}\ndata: {data}\n\n")
}

impl AnthropicAnswer {
    fn usage(&self, output_tokens: u32) -> Value {
        json!({
            "input_tokens": self.prompt_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "service_tier": "standard"
        })
    }

    /// The message object; `content` and `stop_reason` as given.
    fn message(&self, content: Value, stop_reason: Option<&str>, output_tokens: u32) -> Value {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": self.usage(output_tokens)
        })
    }
}

impl Dialect for AnthropicAnswer {
    fn id(&self) -> &str {
        &self.id
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        HeaderValue::from_str(&self.request_id)
            .map(|value| vec![(HeaderName::from_static("request-id"), value)])
            .unwrap_or_default()
    }

    fn refusal(&self, failure: &Failure) -> Response {
        if failure.kind == FailureKind::RateLimited {
            let response = AnthropicError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization (kilat-local-twin) \
                 of 50 requests per minute. Please try again later.",
            )
            .respond(&self.request_id);
            with_retry_after(response, failure.retry_after_secs)
        } else {
            let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            AnthropicError::new(status, "overloaded_error", "Overloaded").respond(&self.request_id)
        }
    }

    fn whole(&self, planned: &Planned) -> Value {
        self.message(
            json!([{"type": "text", "text": planned.text()}]),
            Some(stop_reason(planned.finish)),
            planned.completion_tokens(),
        )
    }

    fn opening(&self) -> Vec<String> {
        vec![
            event(&json!({
                "type": "message_start",
                "message": self.message(json!([]), None, 1),
            })),
            event(&json!({
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""}
            })),
            event(&json!({"type": "ping"})),
        ]
    }

    fn token(&self, text: &str) -> String {
        event(&json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text}
        }))
    }

    fn closing(&self, finish: Finish, completion_tokens: u32) -> Vec<String> {
        vec![
            event(&json!({"type": "content_block_stop", "index": 0})),
            event(&json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(finish), "stop_sequence": null},
                "usage": {"output_tokens": completion_tokens}
            })),
            event(&json!({"type": "message_stop"})),
        ]
    }

    fn error_event(&self) -> String {
        event(&json!({
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": self.request_id,
        }))
    }
}
