//! What both APIs share once a request is read: the failure switches, the planned answer, the
//! token delay, the stream of tokens, and the record of what was sent — kept by a guard, so that
//! a client going away (the body dropped before its end) is recorded as cancelled.

use std::{collections::VecDeque, io, time::Duration};

use axum::{
    Json,
    body::{Body, Bytes},
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{
    answer::{self, Finish, Planned},
    state::{AiTwin, Failure, FailureKind, Outcome, ServedRequest},
};

/// A request as both APIs reduce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub model: String,
    /// By the twin's token rule ([`answer::prompt_tokens`]).
    pub prompt_tokens: u32,
    pub last_user_message: String,
    pub max_tokens: u32,
    pub stream: bool,
}

/// How one API writes an answer.
pub trait Dialect: Send + 'static {
    /// The answer's id.
    fn id(&self) -> &str;
    /// Headers every answer of this request carries (its request id).
    fn headers(&self) -> Vec<(HeaderName, HeaderValue)>;
    /// The refusal of the `overloaded` or `rate_limited` switch.
    fn refusal(&self, failure: &Failure) -> Response;
    /// The whole answer as one JSON body.
    fn whole(&self, planned: &Planned) -> serde_json::Value;
    /// The events before the first token.
    fn opening(&self) -> Vec<String>;
    /// The event carrying one token.
    fn token(&self, text: &str) -> String;
    /// The events after the last token.
    fn closing(&self, finish: Finish, completion_tokens: u32) -> Vec<String>;
    /// The provider's error event in the middle of a stream.
    fn error_event(&self) -> String;
}

/// Answers `prompt` in `dialect`, applying the twin's switches and delay, and records it.
pub async fn serve<D: Dialect>(twin: &AiTwin, prompt: Prompt, dialect: D) -> Response {
    let headers = dialect.headers();
    let mut response = answer(twin, prompt, dialect).await;
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
    response
}

async fn answer<D: Dialect>(twin: &AiTwin, prompt: Prompt, dialect: D) -> Response {
    let failure = twin.take_failure(&prompt.model, prompt.stream);
    let record = ServedRequest {
        id: dialect.id().to_string(),
        provider: twin.provider(),
        model: prompt.model.clone(),
        stream: prompt.stream,
        prompt_tokens: prompt.prompt_tokens,
        completion_tokens: 0,
        outcome: Outcome::Cancelled,
        cancelled: true,
        received_at: Utc::now(),
    };
    let refused = match failure.map(|failure| failure.kind) {
        Some(FailureKind::Overloaded) => Some(Outcome::Overloaded),
        Some(FailureKind::RateLimited) => Some(Outcome::RateLimited),
        _ => None,
    };
    if let (Some(outcome), Some(failure)) = (refused, failure) {
        twin.record(ServedRequest {
            prompt_tokens: 0,
            outcome,
            cancelled: false,
            ..record
        });
        return dialect.refusal(&failure);
    }
    let planned = answer::plan(
        twin.provider(),
        &prompt.last_user_message,
        prompt.max_tokens,
    );
    let delay = twin.token_delay();
    let mut delivery = Delivery {
        twin: twin.clone(),
        record,
        over: false,
    };
    if !prompt.stream {
        // As long as the stream would have taken; a client leaving meanwhile is recorded.
        tokio::time::sleep(delay.saturating_mul(planned.completion_tokens())).await;
        delivery.record.completion_tokens = planned.completion_tokens();
        delivery.end(outcome_of(planned.finish));
        return Json(dialect.whole(&planned)).into_response();
    }
    let (tokens, ending) = match failure {
        Some(failure) => {
            let ending = if failure.kind == FailureKind::Cut {
                Ending::Cut {
                    abrupt: failure.abrupt,
                }
            } else {
                Ending::Error
            };
            let keep = usize::try_from(failure.after_tokens).unwrap_or(usize::MAX);
            (planned.tokens.into_iter().take(keep).collect(), ending)
        }
        None => (planned.tokens, Ending::Finish(planned.finish)),
    };
    let stream = TokenStream {
        queue: dialect.opening().into(),
        dialect,
        tokens: tokens.into_iter(),
        ending,
        delay,
        closing: None,
        done: false,
        delivery,
    };
    let body = futures_util::stream::unfold(stream, |stream| stream.next_frame());
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache");
    if ending == (Ending::Cut { abrupt: false }) {
        // The body ends early but cleanly, and the connection is closed after it.
        response = response.header(header::CONNECTION, "close");
    }
    response
        .status(StatusCode::OK)
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn outcome_of(finish: Finish) -> Outcome {
    match finish {
        Finish::Complete => Outcome::Stop,
        Finish::MaxTokens => Outcome::Length,
    }
}

/// Records the request when dropped: as it ended if it did, else as cancelled.
struct Delivery {
    twin: AiTwin,
    record: ServedRequest,
    over: bool,
}

impl Delivery {
    fn end(&mut self, outcome: Outcome) {
        self.record.outcome = outcome;
        self.record.cancelled = false;
        self.over = true;
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.over {
            self.record.outcome = Outcome::Cancelled;
            self.record.cancelled = true;
        }
        self.twin.record(self.record.clone());
    }
}

/// How long an abrupt cut waits before dropping the connection.
const ABRUPT_CUT_PAUSE: Duration = Duration::from_millis(10);

/// How a stream ends after its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Finish(Finish),
    Cut { abrupt: bool },
    Error,
}

/// A streamed answer, frame by frame. Dropped by the server when the client goes away.
struct TokenStream<D> {
    dialect: D,
    /// Frames to send before the next token.
    queue: VecDeque<String>,
    tokens: std::vec::IntoIter<String>,
    ending: Ending,
    delay: Duration,
    /// Once the tokens are sent: how the request ends when `queue` is sent.
    closing: Option<Outcome>,
    /// Nothing more to send.
    done: bool,
    delivery: Delivery,
}

impl<D: Dialect> TokenStream<D> {
    async fn next_frame(mut self) -> Option<(Result<Bytes, io::Error>, Self)> {
        if let Some(frame) = self.queue.pop_front() {
            if self.queue.is_empty()
                && let Some(outcome) = self.closing
            {
                self.delivery.end(outcome);
                self.done = true;
            }
            return Some((Ok(Bytes::from(frame)), self));
        }
        if self.done {
            return None;
        }
        if let Some(token) = self.tokens.next() {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            self.delivery.record.completion_tokens += 1;
            let frame = self.dialect.token(&token);
            return Some((Ok(Bytes::from(frame)), self));
        }
        let sent = self.delivery.record.completion_tokens;
        let (frames, outcome) = match self.ending {
            Ending::Finish(finish) => (self.dialect.closing(finish, sent), outcome_of(finish)),
            Ending::Error => (vec![self.dialect.error_event()], Outcome::ErrorMidStream),
            Ending::Cut { abrupt } => {
                self.delivery.end(Outcome::Cut);
                self.done = true;
                if !abrupt {
                    return None;
                }
                // The server writes what it has when the body waits: let what was sent reach the
                // client before the connection drops, as it would have.
                tokio::time::sleep(ABRUPT_CUT_PAUSE).await;
                let error = io::Error::other("the AI twin's cut switch dropped the connection");
                return Some((Err(error), self));
            }
        };
        self.queue = frames.into();
        self.closing = Some(outcome);
        let frame = self.queue.pop_front()?;
        if self.queue.is_empty() {
            self.delivery.end(outcome);
            self.done = true;
        }
        Some((Ok(Bytes::from(frame)), self))
    }
}

/// A JSON error answer with `status`.
pub fn json_error(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

/// Adds `retry-after` to a rate-limit refusal.
pub fn with_retry_after(mut response: Response, seconds: u32) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}
