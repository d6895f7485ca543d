//! The AI service: a signed-in person's chat message or generation request, checked (plan,
//! rate limit, monthly quota), sent to the provider, and its answer streamed back while the
//! tokens are counted. No HTTP here: the routes (`ai::routes`) adapt it.
//!
//! An answer is pumped by its own task, not by the response that carries it: when the person
//! stops (the browser aborts, the response is dropped) the task notices, drops the provider's
//! stream (which cancels the upstream request) and still settles the tokens produced, and keeps
//! what came of the answer in the conversation.

use std::{net::IpAddr, sync::Arc};

use app::{
    ai::{AiError, Template, parse_message},
    domain::PlanCatalogue,
    i18n::Locale,
};
use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    ChatMessage, ChatRequest, ChatStream, FinishReason, ProviderError, ProviderKind, Role,
    StreamEvent, Usage,
    anthropic::AnthropicClient,
    conversations::{self, TurnStatus},
    openai::OpenAiClient,
    quota::{self, Kind, Reserved, Standing},
};
use crate::ratelimit::{KeyKind, Policy, Quota, RateLimit, RateLimiter, Subject};

/// Text pieces buffered between the provider and a slow reader before the provider is made to
/// wait.
const ANSWER_BUFFER: usize = 64;

/// One of the configured providers.
pub enum Provider {
    OpenAi(OpenAiClient),
    Anthropic(AnthropicClient),
}

impl Provider {
    pub fn kind(&self) -> ProviderKind {
        match self {
            Provider::OpenAi(_) => ProviderKind::OpenAi,
            Provider::Anthropic(_) => ProviderKind::Anthropic,
        }
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        match self {
            Provider::OpenAi(client) => client.stream(request).await,
            Provider::Anthropic(client) => client.stream(request).await,
        }
    }
}

/// What the model is told to do with the person's input for `template`.
fn instructions(template: Template) -> &'static str {
    match template {
        Template::ProductDescription => {
            "Write a persuasive product description for an online shop from the notes the user \
             gives: a short headline, two short paragraphs, then three bullet points of benefits. \
             Do not invent prices or specifications that are not in the notes."
        }
        Template::EmailReply => {
            "Write a polite, clear reply to the email the user pastes. Answer its questions, keep \
             it short, and end with a friendly closing. Do not promise anything the email does \
             not support."
        }
        Template::SocialPost => {
            "Write an engaging social media post about what the user describes: at most 80 words, \
             one call to action, and up to three relevant hashtags."
        }
    }
}

/// What a person asks for.
pub enum Ask {
    /// A chat message, continuing `conversation` or starting one.
    Chat {
        conversation: Option<Uuid>,
        message: String,
    },
    Generate {
        template: Template,
        input: String,
    },
}

/// How an answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub status: TurnStatus,
    /// The answer reached its token limit.
    pub cut_at_limit: bool,
    /// Why it failed, when it did (`ProviderBusy`).
    pub error: Option<AiError>,
    /// What was counted for it.
    pub usage: Usage,
    /// The month after it (the usage meter); `None` if it could not be read.
    pub standing: Option<Standing>,
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerEvent {
    Text(String),
    End(Ending),
}

/// An answer on its way.
pub struct Started {
    /// The conversation the answer belongs to (a new one when none was named).
    pub conversation: Option<Uuid>,
    /// The rate limit's state, for the response headers.
    pub limit: RateLimit,
    pub events: mpsc::Receiver<AnswerEvent>,
}

/// A refused request: why, and the rate limit's state when it was counted (for the headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declined {
    pub error: AiError,
    pub limit: Option<RateLimit>,
}

impl From<AiError> for Declined {
    fn from(error: AiError) -> Self {
        Self { error, limit: None }
    }
}

pub struct Assistant {
    pub pool: PgPool,
    /// `None`: no provider is configured (answers 503).
    pub provider: Option<Provider>,
    pub model: String,
    /// The longest answer asked for.
    pub max_tokens: u32,
    pub time_zone: String,
    pub catalogue: PlanCatalogue,
    pub limiter: Arc<RateLimiter>,
    /// Per plan, in plan order.
    pub limits: [Quota; 4],
}

fn system_prompt(locale: Locale, task: Option<&str>) -> String {
    let language = match locale {
        Locale::Id => "Answer in Indonesian (Bahasa Indonesia)",
        Locale::En => "Answer in English",
    };
    let task = task.unwrap_or(
        "You are Kilat's helpful assistant for small businesses. Be accurate and concise; use \
         Markdown for lists and code.",
    );
    format!("{task} {language}, unless the user clearly writes in another language.")
}

impl Assistant {
    fn provider(&self) -> Result<&Provider, AiError> {
        self.provider.as_ref().ok_or(AiError::Off)
    }

    /// Where `user` stands this month.
    pub async fn standing(&self, user: Uuid) -> Result<Standing, AiError> {
        quota::standing(&self.pool, user, &self.catalogue, &self.time_zone)
            .await
            .map_err(unavailable)
    }

    /// Checks and starts an answer for `user` (from `ip`, in `locale`).
    pub async fn ask(
        self: &Arc<Self>,
        user: Uuid,
        ip: IpAddr,
        locale: Locale,
        ask: Ask,
    ) -> Result<Started, Declined> {
        let provider = self.provider()?;
        let (kind, conversation, new_message, messages) = match ask {
            Ask::Chat {
                conversation,
                message,
            } => {
                let message = parse_message(&message)?;
                let mut history = Vec::new();
                if let Some(id) = conversation {
                    history = conversations::history(&self.pool, user, id)
                        .await
                        .map_err(unavailable)?
                        .ok_or(AiError::ConversationNotFound)?;
                }
                let mut messages = vec![ChatMessage::system(system_prompt(locale, None))];
                messages.extend(history);
                messages.push(ChatMessage::user(message.clone()));
                (Kind::Chat, conversation, Some(message), messages)
            }
            Ask::Generate { template, input } => {
                let input = parse_message(&input)?;
                let messages = vec![
                    ChatMessage::system(system_prompt(locale, Some(instructions(template)))),
                    ChatMessage::user(input),
                ];
                (Kind::Generate, None, None, messages)
            }
        };

        let prompt_bound = quota::prompt_bound(&messages);
        let reservation = match quota::reserve(
            &self.pool,
            user,
            prompt_bound,
            self.max_tokens,
            &self.catalogue,
            &self.time_zone,
        )
        .await
        .map_err(unavailable)?
        {
            Reserved::Held(reservation, _) => reservation,
            Reserved::NoAi(_) => return Err(AiError::NoAi.into()),
            Reserved::QuotaReached(standing) => {
                let left = (standing.resets_at - Utc::now()).num_seconds().max(1);
                return Err(AiError::QuotaReached {
                    resets_at: standing.resets_at.timestamp(),
                    retry_after_secs: u64::try_from(left).unwrap_or(1),
                }
                .into());
            }
        };
        let release = || async {
            if let Err(error) = quota::release(&self.pool, user, reservation.id).await {
                tracing::warn!(%error, "could not release an AI reservation (it expires by itself)");
            }
        };

        let policy = [Policy::new(
            "ai",
            KeyKind::User,
            self.limits[reservation.plan.index()],
        )];
        let limit = self.limiter.check(&policy, &Subject::user(ip, user)).await;
        if !limit.allowed {
            release().await;
            return Err(Declined {
                error: AiError::RateLimited {
                    retry_after_secs: limit.retry_after_secs(),
                },
                limit: Some(limit),
            });
        }

        let answer_tokens = reservation.tokens.saturating_sub(prompt_bound);
        let request = ChatRequest {
            model: self.model.clone(),
            messages,
            max_tokens: u32::try_from(answer_tokens)
                .unwrap_or(u32::MAX)
                .min(self.max_tokens),
            temperature: None,
        };
        // The question is kept while the provider opens its answer: neither waits for the
        // other before the first byte. A question whose answer never started stays in its
        // conversation, where the person can ask again.
        let keep = async {
            match (kind, new_message) {
                (Kind::Chat, Some(message)) => self
                    .keep_question(user, conversation, &message)
                    .await
                    .map(Some),
                _ => Ok(None),
            }
        };
        let (opened, kept) = tokio::join!(provider.stream(&request), keep);
        let started = match (opened, kept) {
            (Ok(stream), Ok(conversation)) => Ok((stream, conversation)),
            (_, Err(error)) => Err(unavailable(error)),
            (Err(error), Ok(_)) => Err(provider_refusal(&error)),
        };
        let (stream, conversation) = match started {
            Ok(started) => started,
            Err(error) => {
                release().await;
                return Err(Declined {
                    error,
                    limit: Some(limit),
                });
            }
        };

        let (sender, events) = mpsc::channel(ANSWER_BUFFER);
        let pump = Pump {
            assistant: self.clone(),
            user,
            reservation: reservation.id,
            kind,
            conversation,
            provider: provider.kind(),
            prompt_bound,
        };
        tokio::spawn(pump.run(stream, sender));
        Ok(Started {
            conversation,
            limit,
            events,
        })
    }

    /// Keeps the person's message: in `conversation`, or in a new one it titles.
    async fn keep_question(
        &self,
        user: Uuid,
        conversation: Option<Uuid>,
        message: &str,
    ) -> Result<Uuid, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let id = match conversation {
            Some(id) => id,
            None => conversations::start(&mut *tx, user, message).await?,
        };
        conversations::add_turn(
            &mut *tx,
            user,
            id,
            Role::User,
            message,
            TurnStatus::Complete,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}

fn unavailable(error: sqlx::Error) -> AiError {
    tracing::error!(%error, "the AI service could not reach the database");
    AiError::Unavailable
}

/// What the person is told when the provider would not start an answer. The provider's own
/// words go to the log only.
fn provider_refusal(error: &ProviderError) -> AiError {
    match error {
        ProviderError::Unauthorized | ProviderError::BadRequest(_) => {
            tracing::error!(%error, "the AI provider refused a request: check AI_MODEL and the API key");
        }
        _ => tracing::warn!(%error, "the AI provider could not start an answer"),
    }
    AiError::ProviderBusy
}

/// Everything the answer's task needs after the request has gone.
struct Pump {
    assistant: Arc<Assistant>,
    user: Uuid,
    reservation: Uuid,
    kind: Kind,
    conversation: Option<Uuid>,
    provider: ProviderKind,
    prompt_bound: u64,
}

impl Pump {
    async fn run(self, mut stream: ChatStream, sender: mpsc::Sender<AnswerEvent>) {
        let mut text = String::new();
        let mut status = TurnStatus::Complete;
        let mut error = None;
        let mut cut_at_limit = false;
        loop {
            tokio::select! {
                biased;
                () = sender.closed() => {
                    status = TurnStatus::Stopped;
                    break;
                }
                event = stream.next() => match event {
                    Some(Ok(StreamEvent::Text(piece))) => {
                        text.push_str(&piece);
                        if sender.send(AnswerEvent::Text(piece)).await.is_err() {
                            status = TurnStatus::Stopped;
                            break;
                        }
                    }
                    Some(Ok(StreamEvent::Done { finish_reason })) => {
                        cut_at_limit = finish_reason == Some(FinishReason::MaxTokens);
                    }
                    Some(Ok(StreamEvent::Usage(_))) => {}
                    Some(Err(failure)) => {
                        tracing::warn!(error = %failure, "an AI answer failed mid-stream");
                        status = TurnStatus::Failed;
                        error = Some(AiError::ProviderBusy);
                        break;
                    }
                    None => break,
                }
            }
        }
        let usage = counted(stream.usage(), stream.text_deltas(), self.prompt_bound);
        // Stops the provider now if the answer was cut short here.
        drop(stream);

        let assistant = &self.assistant;
        if let Err(failure) = quota::settle(
            &assistant.pool,
            self.user,
            self.reservation,
            self.provider,
            &assistant.model,
            self.kind,
            usage,
        )
        .await
        {
            tracing::error!(error = %failure, ?usage, "could not record an AI answer's usage");
        }
        if let Some(conversation) = self.conversation
            && !text.is_empty()
            && let Err(failure) = conversations::add_turn(
                &assistant.pool,
                self.user,
                conversation,
                Role::Assistant,
                &text,
                status,
                Some(&assistant.model),
            )
            .await
        {
            tracing::error!(error = %failure, "could not keep an AI answer in its conversation");
        }
        if sender.is_closed() {
            return;
        }
        let standing = assistant.standing(self.user).await.ok();
        let _ = sender
            .send(AnswerEvent::End(Ending {
                status,
                cut_at_limit,
                error,
                usage,
                standing,
            }))
            .await;
    }
}

/// The tokens an answer is counted for: the provider's own numbers when it gave them, and for
/// what it did not report (an answer stopped or cut before its usage came) a token per text
/// piece received — exact for providers that stream a token a piece (OpenAI), a floor for those
/// that pack several (Anthropic) — and the prompt at a token per four bytes of its bound.
fn counted(reported: Option<Usage>, deltas: usize, prompt_bound: u64) -> Usage {
    let produced = u32::try_from(deltas).unwrap_or(u32::MAX);
    let estimated_prompt = u32::try_from(prompt_bound.div_ceil(4)).unwrap_or(u32::MAX);
    match reported {
        Some(usage) => Usage {
            prompt_tokens: if usage.prompt_tokens == 0 {
                estimated_prompt
            } else {
                usage.prompt_tokens
            },
            completion_tokens: usage.completion_tokens.max(produced),
        },
        None => Usage {
            prompt_tokens: estimated_prompt,
            completion_tokens: produced,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_usage_wins_and_a_stopped_answer_is_still_counted() {
        let reported = Usage {
            prompt_tokens: 12,
            completion_tokens: 30,
        };
        assert_eq!(counted(Some(reported), 30, 400), reported);
        // Anthropic stopped early: the prompt came, the output count did not keep up.
        let early = Usage {
            prompt_tokens: 12,
            completion_tokens: 1,
        };
        assert_eq!(counted(Some(early), 7, 400).completion_tokens, 7);
        // Nothing reported: estimates.
        assert_eq!(
            counted(None, 3, 400),
            Usage {
                prompt_tokens: 100,
                completion_tokens: 3
            }
        );
    }

    #[test]
    fn the_system_prompt_names_the_language() {
        assert!(system_prompt(Locale::Id, None).contains("Indonesian"));
        assert!(system_prompt(Locale::En, Some("Do X.")).starts_with("Do X."));
    }
}
