//! OpenAI's `POST /v1/chat/completions`: its key check, its request validation and error shape
//! (`{"error": {"message", "type", "param", "code"}}`), a whole `chat.completion` or a stream of
//! `chat.completion.chunk`s ending in `data: [DONE]`.

use axum::{
    body::Bytes,
    extract::{OriginalUri, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    LOCAL_OPENAI_API_KEY, MAX_MESSAGES, MAX_OUTPUT_TOKENS,
    answer::{self, Finish, Planned},
    serve::{Dialect, Prompt, json_error, serve, with_retry_after},
    state::{AiTwin, Failure, FailureKind},
};

const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// An OpenAI error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
    param: Option<String>,
    code: Option<&'static str>,
}

impl OpenAiError {
    /// A 400 `invalid_request_error`.
    pub fn invalid(
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&'static str>,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.map(str::to_string),
            code,
        }
    }

    fn missing(param: &str) -> Self {
        Self::invalid(
            format!("Missing required parameter: '{param}'."),
            Some(param),
            Some("missing_required_parameter"),
        )
    }

    fn invalid_type(param: &str, expected: &str, got: &Value) -> Self {
        Self::invalid(
            format!(
                "Invalid type for '{param}': expected {expected}, but got {} instead.",
                type_name(got)
            ),
            Some(param),
            Some("invalid_type"),
        )
    }

    fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        json_error(
            self.status,
            json!({"error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }}),
        )
    }
}

/// How OpenAI names a JSON value's type in its messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn new_request_id() -> String {
    format!("req_{}", Uuid::new_v4().simple())
}

/// `POST /chat/completions` (under `/openai/v1`).
pub async fn chat_completions(
    State(twin): State<AiTwin>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request_id = new_request_id();
    match read_request(&headers, body) {
        Ok((prompt, include_usage)) => {
            let dialect = OpenAiAnswer {
                id: format!("chatcmpl-{}", Uuid::new_v4().simple()),
                request_id,
                model: prompt.model.clone(),
                created: Utc::now().timestamp(),
                prompt_tokens: prompt.prompt_tokens,
                include_usage,
            };
            serve(&twin, prompt, dialect).await
        }
        Err(error) => {
            let mut response = error.into_response();
            insert_request_id(&mut response, &request_id);
            response
        }
    }
}

fn insert_request_id(response: &mut Response, request_id: &str) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
}

/// Any other path under the prefix, as OpenAI answers it.
pub async fn unknown_path(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    OpenAiError::invalid(format!("Invalid URL ({method} {})", uri.path()), None, None)
        .with_status(StatusCode::NOT_FOUND)
        .into_response()
}

fn check_key(headers: &HeaderMap) -> Result<(), OpenAiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, key) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        })
        .unwrap_or_default();
    let unauthorized = |message: String, code| OpenAiError {
        status: StatusCode::UNAUTHORIZED,
        message,
        kind: "invalid_request_error",
        param: None,
        code,
    };
    if key.is_empty() {
        return Err(unauthorized(
            "You didn't provide an API key. You need to provide your API key in an Authorization \
             header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). The local twin's key \
             is sk-kilat-local-twin."
                .into(),
            None,
        ));
    }
    if key != LOCAL_OPENAI_API_KEY {
        return Err(unauthorized(
            format!(
                "Incorrect API key provided: {}. The local twin accepts only its own key.",
                masked(key)
            ),
            Some("invalid_api_key"),
        ));
    }
    Ok(())
}

/// A key as OpenAI shows it in errors: its first 3 and last 4 characters.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

fn read_request(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Prompt, bool), OpenAiError> {
    check_key(headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OpenAiError::invalid(
                format!(
                    "Request too large: the body is over {} bytes, the most the local twin reads.",
                    super::MAX_BODY_BYTES
                ),
                None,
                Some("request_too_large"),
            )
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            OpenAiError::invalid(rejection.body_text(), None, None)
        }
    })?;
    let value: Value = serde_json::from_slice(&body).map_err(|_| {
        OpenAiError::invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but \
             what was sent was not valid JSON.)",
            None,
            None,
        )
    })?;
    let Value::Object(body) = value else {
        return Err(OpenAiError::invalid_type("body", "an object", &value));
    };
    read_body(&body)
}

/// The request's fields as the twin needs them, checked as OpenAI checks them.
fn read_body(body: &Map<String, Value>) -> Result<(Prompt, bool), OpenAiError> {
    let model = match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => model.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(OpenAiError::invalid(
                "you must provide a model parameter",
                None,
                None,
            ));
        }
        Some(other) => return Err(OpenAiError::invalid_type("model", "a string", other)),
    };
    let messages = match body.get("messages") {
        None | Some(Value::Null) => return Err(OpenAiError::missing("messages")),
        Some(Value::Array(messages)) => messages,
        Some(other) => {
            return Err(OpenAiError::invalid_type(
                "messages",
                "an array of objects",
                other,
            ));
        }
    };
    if messages.is_empty() {
        return Err(OpenAiError::invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an \
             empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(OpenAiError::invalid(
            format!(
                "Invalid 'messages': array too long. Expected an array with maximum length \
                 {MAX_MESSAGES}, but got an array with length {} instead.",
                messages.len()
            ),
            Some("messages"),
            Some("array_above_max_length"),
        ));
    }
    let mut texts = Vec::with_capacity(messages.len());
    let mut last_user_message = String::new();
    for (at, message) in messages.iter().enumerate() {
        let (role, text) = read_message(at, message)?;
        if role == "user" {
            last_user_message.clone_from(&text);
        }
        texts.push(text);
    }
    let max_tokens = read_max_tokens(body)?;
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(other) => return Err(OpenAiError::invalid_type("stream", "a boolean", other)),
    };
    let include_usage = match body.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(_)) if !stream => {
            return Err(OpenAiError::invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                Some("stream_options"),
                None,
            ));
        }
        Some(Value::Object(options)) => match options.get("include_usage") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(include)) => *include,
            Some(other) => {
                return Err(OpenAiError::invalid_type(
                    "stream_options.include_usage",
                    "a boolean",
                    other,
                ));
            }
        },
        Some(other) => {
            return Err(OpenAiError::invalid_type(
                "stream_options",
                "an object",
                other,
            ));
        }
    };
    match body.get("n") {
        None | Some(Value::Null) => {}
        Some(n) if n.as_u64() == Some(1) => {}
        Some(Value::Number(_)) => {
            return Err(OpenAiError::invalid(
                "The local twin gives one choice: 'n' must be 1.",
                Some("n"),
                Some("invalid_value"),
            ));
        }
        Some(other) => return Err(OpenAiError::invalid_type("n", "an integer", other)),
    }
    match body.get("temperature") {
        None | Some(Value::Null) => {}
        Some(Value::Number(number)) => {
            let temperature = number.as_f64().unwrap_or(f64::NAN);
            if temperature < 0.0 {
                return Err(OpenAiError::invalid(
                    format!(
                        "Invalid 'temperature': decimal below minimum value. Expected a value >= \
                         0, but got {number} instead."
                    ),
                    Some("temperature"),
                    Some("decimal_below_min_value"),
                ));
            }
            if temperature > 2.0 {
                return Err(OpenAiError::invalid(
                    format!(
                        "Invalid 'temperature': decimal above maximum value. Expected a value <= \
                         2, but got {number} instead."
                    ),
                    Some("temperature"),
                    Some("decimal_above_max_value"),
                ));
            }
        }
        Some(other) => {
            return Err(OpenAiError::invalid_type("temperature", "a decimal", other));
        }
    }
    let prompt = Prompt {
        model,
        prompt_tokens: answer::prompt_tokens(None, texts.iter().map(String::as_str)),
        last_user_message,
        max_tokens,
        stream,
    };
    Ok((prompt, include_usage))
}

/// One message's role and text (text parts joined by newlines).
fn read_message(at: usize, message: &Value) -> Result<(String, String), OpenAiError> {
    let name = format!("messages[{at}]");
    let Value::Object(message) = message else {
        return Err(OpenAiError::invalid_type(&name, "an object", message));
    };
    let role = match message.get("role") {
        None | Some(Value::Null) => return Err(OpenAiError::missing(&format!("{name}.role"))),
        Some(Value::String(role)) if ROLES.contains(&role.as_str()) => role.clone(),
        Some(Value::String(role)) => {
            return Err(OpenAiError::invalid(
                format!(
                    "Invalid value: '{role}'. Supported values are: 'system', 'assistant', \
                     'user', 'function', 'tool', and 'developer'."
                ),
                Some(&format!("{name}.role")),
                Some("invalid_value"),
            ));
        }
        Some(other) => {
            return Err(OpenAiError::invalid_type(
                &format!("{name}.role"),
                "a string",
                other,
            ));
        }
    };
    let content_name = format!("{name}.content");
    let text = match message.get("content") {
        None | Some(Value::Null) if role == "assistant" => String::new(),
        None | Some(Value::Null) => return Err(OpenAiError::missing(&content_name)),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::with_capacity(parts.len());
            for (index, part) in parts.iter().enumerate() {
                texts.push(read_text_part(&format!("{content_name}[{index}]"), part)?);
            }
            texts.join("\n")
        }
        Some(other) => {
            return Err(OpenAiError::invalid_type(
                &content_name,
                "one of a string or array of objects",
                other,
            ));
        }
    };
    Ok((role, text))
}

fn read_text_part(name: &str, part: &Value) -> Result<String, OpenAiError> {
    let Value::Object(part) = part else {
        return Err(OpenAiError::invalid_type(name, "an object", part));
    };
    match part.get("type") {
        Some(Value::String(kind)) if kind == "text" => {}
        Some(Value::String(kind)) => {
            return Err(OpenAiError::invalid(
                format!("Invalid value: '{kind}'. The local twin reads only 'text' content parts."),
                Some(&format!("{name}.type")),
                Some("invalid_value"),
            ));
        }
        None | Some(Value::Null) => return Err(OpenAiError::missing(&format!("{name}.type"))),
        Some(other) => {
            return Err(OpenAiError::invalid_type(
                &format!("{name}.type"),
                "a string",
                other,
            ));
        }
    }
    match part.get("text") {
        Some(Value::String(text)) => Ok(text.clone()),
        None | Some(Value::Null) => Err(OpenAiError::missing(&format!("{name}.text"))),
        Some(other) => Err(OpenAiError::invalid_type(
            &format!("{name}.text"),
            "a string",
            other,
        )),
    }
}

/// `max_completion_tokens` (the newer name) or `max_tokens`; by default the twin's cap.
fn read_max_tokens(body: &Map<String, Value>) -> Result<u32, OpenAiError> {
    for name in ["max_completion_tokens", "max_tokens"] {
        let number = match body.get(name) {
            None | Some(Value::Null) => continue,
            Some(Value::Number(number)) if !number.is_f64() => number,
            Some(other) => return Err(OpenAiError::invalid_type(name, "an integer", other)),
        };
        let value = number
            .as_i64()
            .map(i128::from)
            .or_else(|| number.as_u64().map(i128::from))
            .unwrap_or(i128::MAX);
        if value < 1 {
            return Err(OpenAiError::invalid(
                format!(
                    "Invalid '{name}': integer below minimum value. Expected a value >= 1, but \
                     got {value} instead."
                ),
                Some(name),
                Some("integer_below_min_value"),
            ));
        }
        return u32::try_from(value)
            .ok()
            .filter(|&max_tokens| max_tokens <= MAX_OUTPUT_TOKENS)
            .ok_or_else(|| {
                OpenAiError::invalid(
                    format!(
                        "{name} is too large: {value}. This model supports at most \
                         {MAX_OUTPUT_TOKENS} completion tokens, whereas you provided {value}."
                    ),
                    Some(name),
                    Some("invalid_value"),
                )
            });
    }
    Ok(MAX_OUTPUT_TOKENS)
}

/// One answer in OpenAI's words.
struct OpenAiAnswer {
    id: String,
    request_id: String,
    model: String,
    created: i64,
    prompt_tokens: u32,
    include_usage: bool,
}

fn finish_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Complete => "stop",
        Finish::MaxTokens => "length",
    }
}

impl OpenAiAnswer {
    fn usage(&self, completion_tokens: u32) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": u64::from(self.prompt_tokens) + u64::from(completion_tokens),
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            }
        })
    }

    /// One `data:` event of a `chat.completion.chunk`; with `include_usage` every chunk has a
    /// `usage`, null but in the last.
    fn chunk(&self, choices: Value, usage: Option<Value>) -> String {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": null,
            "choices": choices,
        });
        if self.include_usage {
            chunk["usage"] = usage.unwrap_or(Value::Null);
        }
        format!("data: {chunk}\n\n")
    }
}

impl Dialect for OpenAiAnswer {
    fn id(&self) -> &str {
        &self.id
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![(
            HeaderName::from_static("openai-version"),
            HeaderValue::from_static("2020-10-01"),
        )];
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            headers.push((HeaderName::from_static("x-request-id"), value));
        }
        headers
    }

    fn refusal(&self, failure: &Failure) -> Response {
        if failure.kind == FailureKind::RateLimited {
            let seconds = failure.retry_after_secs;
            let error = OpenAiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "Rate limit reached for {} in organization org-kilat-local-twin on requests \
                     per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {seconds}s.",
                    self.model
                ),
                kind: "requests",
                param: None,
                code: Some("rate_limit_exceeded"),
            };
            with_retry_after(error.into_response(), seconds)
        } else {
            OpenAiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "The engine is currently overloaded, please try again later.".into(),
                kind: "server_error",
                param: None,
                code: None,
            }
            .into_response()
        }
    }

    fn whole(&self, planned: &Planned) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": planned.text(),
                    "refusal": null,
                    "annotations": []
                },
                "logprobs": null,
                "finish_reason": finish_reason(planned.finish)
            }],
            "usage": self.usage(planned.completion_tokens()),
            "service_tier": "default",
            "system_fingerprint": null
        })
    }

    fn opening(&self) -> Vec<String> {
        vec![self.chunk(
            json!([{
                "index": 0,
                "delta": {"role": "assistant", "content": "", "refusal": null},
                "logprobs": null,
                "finish_reason": null
            }]),
            None,
        )]
    }

    fn token(&self, text: &str) -> String {
        self.chunk(
            json!([{
                "index": 0,
                "delta": {"content": text},
                "logprobs": null,
                "finish_reason": null
            }]),
            None,
        )
    }

    fn closing(&self, finish: Finish, completion_tokens: u32) -> Vec<String> {
        let mut frames = vec![self.chunk(
            json!([{
                "index": 0,
                "delta": {},
                "logprobs": null,
                "finish_reason": finish_reason(finish)
            }]),
            None,
        )];
        if self.include_usage {
            frames.push(self.chunk(json!([]), Some(self.usage(completion_tokens))));
        }
        frames.push("data: [DONE]\n\n".into());
        frames
    }

    fn error_event(&self) -> String {
        let error = json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": null,
            "code": null
        }});
        format!("data: {error}\n\n")
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn a_wrong_key_is_shown_masked() {
        assert_eq!(masked("sk-wrong-key-1234"), "sk-**********1234");
        assert_eq!(masked("short"), "*****");
    }
}
