//! One provider twin's runtime state: its token delay, its failure switches and the record of
//! the requests it served.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::ai::ProviderKind;

/// How long each token takes unless told otherwise: enough for a stream to be seen arriving.
pub const DEFAULT_TOKEN_DELAY: Duration = Duration::from_millis(10);
/// The longest token delay the control endpoint accepts.
pub const MAX_TOKEN_DELAY_MS: u64 = 1_000;
/// How many served requests are kept; the oldest are forgotten first.
pub const REQUESTS_KEPT: usize = 1_000;
/// The most switches one twin holds (one per model, and one for every model).
const SWITCHES_KEPT: usize = 100;

/// What a failure switch makes the twin do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Clears the switch (of the same `model`).
    None,
    /// OpenAI 503, Anthropic 529 `overloaded_error`.
    Overloaded,
    /// 429 with `retry-after`, in the provider's error shape.
    RateLimited,
    /// A stream stops after `after_tokens` tokens without its final events.
    Cut,
    /// A stream sends the provider's error event after `after_tokens` tokens.
    ErrorMidStream,
}

impl FailureKind {
    /// Whether only streamed requests take (and use up) the switch.
    fn streams_only(self) -> bool {
        matches!(self, Self::Cut | Self::ErrorMidStream)
    }
}

/// A failure switch, as set with `POST /_twin/failure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub kind: FailureKind,
    /// How many requests fail; absent: every one until the switch is cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// `cut` and `error_mid_stream`: the tokens sent before.
    #[serde(default)]
    pub after_tokens: u32,
    /// `rate_limited`: the `retry-after` header, in seconds.
    #[serde(default = "Switch::default_retry_after")]
    pub retry_after_secs: u32,
    /// `cut`: drop the connection mid-body instead of ending the body early but cleanly.
    #[serde(default)]
    pub abrupt: bool,
    /// Only requests for this model; absent: any model without a switch of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Switch {
    fn default_retry_after() -> u32 {
        1
    }

    /// A switch of `kind` for every request and model, until cleared.
    pub fn new(kind: FailureKind) -> Self {
        Self {
            kind,
            times: None,
            after_tokens: 0,
            retry_after_secs: Self::default_retry_after(),
            abrupt: false,
            model: None,
        }
    }

    pub fn times(self, times: u32) -> Self {
        Self {
            times: Some(times),
            ..self
        }
    }

    pub fn after_tokens(self, after_tokens: u32) -> Self {
        Self {
            after_tokens,
            ..self
        }
    }

    pub fn for_model(self, model: impl Into<String>) -> Self {
        Self {
            model: Some(model.into()),
            ..self
        }
    }

    /// Why the switch cannot be set, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        if self.times == Some(0) {
            Some("`times` must be at least 1 (to clear a switch, send {\"kind\": \"none\"})")
        } else if self.retry_after_secs > 3_600 {
            Some("`retry_after_secs` must be at most 3600")
        } else if self.after_tokens > super::MAX_OUTPUT_TOKENS {
            Some("`after_tokens` must be at most 4096")
        } else if self.model.as_deref().is_some_and(str::is_empty) {
            Some("`model` must not be empty (leave it out for every model)")
        } else {
            None
        }
    }
}

/// How a served request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The whole answer (`stop` / `end_turn`).
    Stop,
    /// Cut at `max_tokens` (`length` / `max_tokens`).
    Length,
    /// The `cut` switch ended the stream.
    Cut,
    /// The `error_mid_stream` switch ended the stream.
    ErrorMidStream,
    /// Refused by the `overloaded` switch.
    Overloaded,
    /// Refused by the `rate_limited` switch.
    RateLimited,
    /// The client went away before the end.
    Cancelled,
}

/// A request the twin served (one that passed authentication and validation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedRequest {
    /// The answer's id (`chatcmpl-…` / `msg_…`).
    pub id: String,
    #[serde(serialize_with = "provider_name")]
    pub provider: ProviderKind,
    pub model: String,
    pub stream: bool,
    /// The prompt tokens billed: 0 for a refused request.
    pub prompt_tokens: u32,
    /// The answer's tokens actually sent (handed to the connection).
    pub completion_tokens: u32,
    pub outcome: Outcome,
    /// The client went away before the end (`outcome` is then `cancelled`).
    pub cancelled: bool,
    pub received_at: DateTime<Utc>,
}

fn provider_name<S: Serializer>(provider: &ProviderKind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(provider.as_str())
}

/// A switch a request took: what to do to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub after_tokens: u32,
    pub retry_after_secs: u32,
    pub abrupt: bool,
}

struct Inner {
    token_delay: Duration,
    switches: Vec<Switch>,
    /// Newest last; at most [`REQUESTS_KEPT`].
    served: VecDeque<ServedRequest>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            token_delay: DEFAULT_TOKEN_DELAY,
            switches: Vec::new(),
            served: VecDeque::new(),
        }
    }
}

/// One provider's twin state. Cheap to clone.
#[derive(Clone)]
pub struct AiTwin {
    provider: ProviderKind,
    inner: Arc<Mutex<Inner>>,
}

impl AiTwin {
    pub fn new(provider: ProviderKind) -> Self {
        Self {
            provider,
            inner: Arc::default(),
        }
    }

    pub fn provider(&self) -> ProviderKind {
        self.provider
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("AI twin lock")
    }

    pub fn token_delay(&self) -> Duration {
        self.lock().token_delay
    }

    pub fn set_token_delay(&self, delay: Duration) {
        self.lock().token_delay = delay;
    }

    /// Sets `switch`, replacing the one for the same model; `kind: none` clears it. Refuses a
    /// new switch when [`SWITCHES_KEPT`] are set.
    pub fn set_switch(&self, switch: Switch) -> Result<(), &'static str> {
        let mut inner = self.lock();
        inner
            .switches
            .retain(|existing| existing.model != switch.model);
        if switch.kind == FailureKind::None {
            return Ok(());
        }
        if inner.switches.len() >= SWITCHES_KEPT {
            return Err("too many switches are set: reset the twin or clear some");
        }
        inner.switches.push(switch);
        Ok(())
    }

    pub fn switches(&self) -> Vec<Switch> {
        self.lock().switches.clone()
    }

    /// Forgets switches and served requests and restores the default token delay.
    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }

    /// Served requests, oldest first; only those for `model` when given.
    pub fn served(&self, model: Option<&str>) -> Vec<ServedRequest> {
        self.lock()
            .served
            .iter()
            .filter(|served| model.is_none_or(|model| served.model == model))
            .cloned()
            .collect()
    }

    pub(super) fn record(&self, served: ServedRequest) {
        let mut inner = self.lock();
        inner.served.push_back(served);
        while inner.served.len() > REQUESTS_KEPT {
            inner.served.pop_front();
        }
    }

    /// The switch a request for `model` takes, if any: the model's own first, else the one for
    /// every model. A switch for streams only is left for a streamed request.
    pub(super) fn take_failure(&self, model: &str, stream: bool) -> Option<Failure> {
        let mut inner = self.lock();
        let applies = |switch: &Switch| stream || !switch.kind.streams_only();
        let at = inner
            .switches
            .iter()
            .position(|switch| switch.model.as_deref() == Some(model))
            .or_else(|| {
                inner
                    .switches
                    .iter()
                    .position(|switch| switch.model.is_none())
            })
            .filter(|&at| applies(&inner.switches[at]))?;
        let switch = &mut inner.switches[at];
        let failure = Failure {
            kind: switch.kind,
            after_tokens: switch.after_tokens,
            retry_after_secs: switch.retry_after_secs,
            abrupt: switch.abrupt,
        };
        switch.times = switch.times.map(|times| times.saturating_sub(1));
        if switch.times == Some(0) {
            inner.switches.remove(at);
        }
        Some(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(model: &str) -> ServedRequest {
        ServedRequest {
            id: "chatcmpl-1".into(),
            provider: ProviderKind::OpenAi,
            model: model.into(),
            stream: false,
            prompt_tokens: 1,
            completion_tokens: 1,
            outcome: Outcome::Stop,
            cancelled: false,
            received_at: Utc::now(),
        }
    }

    #[test]
    fn a_switch_fails_as_many_requests_as_it_was_told_then_clears() {
        let twin = AiTwin::new(ProviderKind::OpenAi);
        twin.set_switch(Switch::new(FailureKind::Overloaded).times(2))
            .unwrap();
        assert!(twin.take_failure("m", false).is_some());
        assert!(twin.take_failure("m", true).is_some());
        assert_eq!(twin.take_failure("m", false), None);
        assert!(twin.switches().is_empty());
    }

    #[test]
    fn a_model_switch_comes_first_and_leaves_other_models_alone() {
        let twin = AiTwin::new(ProviderKind::Anthropic);
        twin.set_switch(Switch::new(FailureKind::RateLimited).for_model("a"))
            .unwrap();
        assert_eq!(twin.take_failure("b", false), None);
        twin.set_switch(Switch::new(FailureKind::Overloaded))
            .unwrap();
        assert_eq!(
            twin.take_failure("a", false).map(|f| f.kind),
            Some(FailureKind::RateLimited)
        );
        assert_eq!(
            twin.take_failure("b", false).map(|f| f.kind),
            Some(FailureKind::Overloaded)
        );
        twin.set_switch(Switch {
            model: Some("a".into()),
            ..Switch::new(FailureKind::None)
        })
        .unwrap();
        assert_eq!(
            twin.take_failure("a", false).map(|f| f.kind),
            Some(FailureKind::Overloaded)
        );
    }

    #[test]
    fn stream_switches_wait_for_a_streamed_request() {
        let twin = AiTwin::new(ProviderKind::OpenAi);
        twin.set_switch(Switch::new(FailureKind::Cut).after_tokens(3).times(1))
            .unwrap();
        assert_eq!(twin.take_failure("m", false), None);
        let failure = twin.take_failure("m", true).expect("the cut");
        assert_eq!((failure.kind, failure.after_tokens), (FailureKind::Cut, 3));
        assert_eq!(twin.take_failure("m", true), None);
    }

    #[test]
    fn served_requests_are_bounded_newest_last_and_filtered_by_model() {
        let twin = AiTwin::new(ProviderKind::OpenAi);
        for n in 0..REQUESTS_KEPT + 5 {
            twin.record(served(&format!("m{}", n % 2)));
        }
        let all = twin.served(None);
        assert_eq!(all.len(), REQUESTS_KEPT);
        assert_eq!(twin.served(Some("m1")).len(), REQUESTS_KEPT / 2);
        twin.set_token_delay(Duration::ZERO);
        twin.reset();
        assert!(twin.served(None).is_empty());
        assert_eq!(twin.token_delay(), DEFAULT_TOKEN_DELAY);
    }
}
