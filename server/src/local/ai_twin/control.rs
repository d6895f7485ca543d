//! The twin's `/_twin/` control endpoints (documented in [`super`]). Refusals come in the
//! provider's own error shape, so a test reading them needs nothing new.

use std::time::Duration;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Query, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    anthropic::AnthropicError,
    openai::OpenAiError,
    state::{AiTwin, MAX_TOKEN_DELAY_MS, Switch},
};
use crate::ai::ProviderKind;

pub fn routes() -> Router<AiTwin> {
    Router::new()
        .route("/_twin/failure", post(set_failure).get(failures))
        .route("/_twin/delay", post(set_delay).get(delay))
        .route("/_twin/requests", get(requests))
        .route("/_twin/reset", post(reset))
}

fn refuse(twin: &AiTwin, message: String) -> Response {
    match twin.provider() {
        ProviderKind::OpenAi => OpenAiError::invalid(message, None, None).into_response(),
        ProviderKind::Anthropic => {
            AnthropicError::invalid(message).respond("req_kilat_twin_control")
        }
    }
}

fn switches_answer(twin: &AiTwin) -> Response {
    Json(json!({ "switches": twin.switches() })).into_response()
}

async fn failures(State(twin): State<AiTwin>) -> Response {
    switches_answer(&twin)
}

async fn set_failure(State(twin): State<AiTwin>, body: Bytes) -> Response {
    let switch: Switch = match serde_json::from_slice(&body) {
        Ok(switch) => switch,
        Err(error) => {
            return refuse(
                &twin,
                format!(
                    "expected {{\"kind\": \"overloaded\"|\"rate_limited\"|\"cut\"|\
                     \"error_mid_stream\"|\"none\", \"times\"?, \"after_tokens\"?, \
                     \"retry_after_secs\"?, \"abrupt\"?, \"model\"?}}: {error}"
                ),
            );
        }
    };
    if let Some(problem) = switch.problem() {
        return refuse(&twin, problem.into());
    }
    match twin.set_switch(switch) {
        Ok(()) => switches_answer(&twin),
        Err(problem) => refuse(&twin, problem.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    ms_per_token: u64,
}

fn delay_answer(twin: &AiTwin) -> Response {
    let ms = u64::try_from(twin.token_delay().as_millis()).unwrap_or(u64::MAX);
    Json(json!({ "ms_per_token": ms })).into_response()
}

async fn delay(State(twin): State<AiTwin>) -> Response {
    delay_answer(&twin)
}

async fn set_delay(State(twin): State<AiTwin>, body: Bytes) -> Response {
    match serde_json::from_slice::<Delay>(&body) {
        Ok(delay) if delay.ms_per_token <= MAX_TOKEN_DELAY_MS => {
            twin.set_token_delay(Duration::from_millis(delay.ms_per_token));
            delay_answer(&twin)
        }
        _ => refuse(
            &twin,
            format!("expected {{\"ms_per_token\": N}} with N from 0 to {MAX_TOKEN_DELAY_MS}"),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsFilter {
    model: Option<String>,
}

async fn requests(State(twin): State<AiTwin>, Query(filter): Query<RequestsFilter>) -> Response {
    Json(twin.served(filter.model.as_deref())).into_response()
}

async fn reset(State(twin): State<AiTwin>) -> Response {
    twin.reset();
    Json(json!({
        "switches": twin.switches(),
        "ms_per_token": u64::try_from(twin.token_delay().as_millis()).unwrap_or(u64::MAX),
    }))
    .into_response()
}
