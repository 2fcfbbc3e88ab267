//! Calling the model: one HTTP dialect per provider ([`openai`], [`claude`],
//! [`gemini`], [`ollama`]) behind one [`ModelClient`], with retries; or the
//! [`embedded`] llama.cpp engine, in-process, behind the same client.
//!
//! Transient faults (429, 500, 502, 503, 504, 529, timeouts, connection resets,
//! truncated bodies) are retried with exponential backoff and jitter, honouring
//! `Retry-After` and the providers' rate-limit reset headers. Permanent errors (a
//! refused key, an unknown model, an invalid request) and a server that stays
//! unreachable stop the run: asking again for every chunk would only fail again
//! ([`refusal`] reads which is which; [`health`] bounds rate limits and timeouts).
//! An answer's body is read up to [`MAX_RESPONSE_BYTES`], and every URL and server
//! message in an error goes through [`crate::redact`].

mod answer_quotes;
pub mod batch_calls;
mod claude;
mod context_cut;
pub mod embedded;
mod error;
mod fleet;
mod gemini;
mod health;
mod http_client;
mod models;
mod ollama;
mod openai;
mod refusal;
mod retry;
pub(crate) mod schema;
pub mod settings;
mod throttle;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::chat::Message;

pub use answer_quotes::AnswerQuotes;
pub use context_cut::ContextCut;
pub use error::ModelError;
pub use fleet::Fleet;
pub use health::Patience;
use openai::StructuredForm;
pub use retry::RetryPolicy;
pub use schema::{AnswerSchema, ExampleShape, TypeSet, pair_char_budget, qa_schema};
use settings::{ModelSettings, ProviderKind};
pub use throttle::{RateCaps, Throttle};

/// The largest answer body tdg reads: past it, reading stops and the chunk fails.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// What the model answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatResponse {
    pub text: String,
    /// The model's reasoning, when the provider returned it apart from the text
    /// (Ollama's `message.thinking`, `reasoning_content`, Anthropic's thinking
    /// blocks, Gemini's thought parts); trimmed, never empty.
    pub reasoning: Option<String>,
    pub tokens_in: u64,
    /// Every token the model wrote, its reasoning's included: what is billed.
    pub tokens_out: u64,
    /// Of `tokens_out`, the reasoning's, when the provider counts them apart
    /// (OpenAI's `reasoning_tokens`, Gemini's `thoughtsTokenCount`).
    pub tokens_reasoning: Option<u64>,
    /// The embedded engine had less room for the answer than `--max-tokens`.
    pub context_cut: Option<ContextCut>,
}

/// A trace as [`ChatResponse::reasoning`] keeps it: trimmed, `None` when empty.
fn trace(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

/// One HTTP request in a provider's dialect.
struct HttpCall {
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

/// A client for one model on one or more servers, shared by every worker.
#[derive(Clone)]
pub struct ModelClient {
    settings: ModelSettings,
    http: reqwest::Client,
    throttle: Arc<Throttle>,
    fleet: Arc<Fleet>,
    health: Arc<health::Health>,
    /// The form `--structured` output is asked in ([`StructuredForm`]); a server
    /// that refuses one moves every worker to the next.
    structured_form: Arc<AtomicU8>,
    /// Whether the server has taken the current form once; until it has, one
    /// request at a time asks in it, so a refusal moves every worker to the next
    /// form before the others ask in the refused one too.
    structured_settled: Arc<AtomicBool>,
    /// Held by the one request that tries an unsettled form.
    structured_probe: Arc<tokio::sync::Mutex<()>>,
    /// Set when the model refused to return its reasoning (`--task reasoning` on a
    /// model that does not think): every later request asks without it.
    thinking_refused: Arc<AtomicBool>,
    /// The secrets in the key and the base URLs, kept out of every message.
    secrets: Arc<Vec<String>>,
    /// The in-process engine, for `--provider embedded`.
    #[cfg(feature = "embedded")]
    engine: Option<Arc<embedded::Engine>>,
}

impl ModelClient {
    /// A client for `settings`, sized for `concurrency` requests at once.
    pub fn new(settings: ModelSettings, concurrency: usize) -> Result<Self, ModelError> {
        let http =
            http_client::build(&settings, concurrency).map_err(|e| ModelError::Unreachable {
                url: settings
                    .base_urls
                    .iter()
                    .map(|url| crate::redact::url(url))
                    .collect::<Vec<_>>()
                    .join(", "),
                reason: e.without_url().to_string(),
            })?;
        let throttle = Arc::new(Throttle::new(
            concurrency,
            settings.rate_caps,
            settings.max_tokens,
        ));
        let fleet = Arc::new(Fleet::new(&settings.base_urls));
        let mut secrets: Vec<String> = settings
            .base_urls
            .iter()
            .flat_map(|url| crate::redact::secrets_in_url(url))
            .collect();
        secrets.extend(settings.api_key.iter().map(|key| key.expose().to_string()));
        #[cfg(feature = "embedded")]
        let engine = match settings.provider {
            ProviderKind::Embedded => {
                Some(Arc::new(embedded::Engine::start(&settings, concurrency)?))
            }
            _ => None,
        };
        #[cfg(not(feature = "embedded"))]
        if settings.provider == ProviderKind::Embedded {
            return Err(embedded::not_built(&settings.model));
        }
        Ok(ModelClient {
            health: Arc::new(health::Health::new(settings.patience)),
            structured_form: Arc::new(AtomicU8::new(StructuredForm::JsonSchema as u8)),
            structured_settled: Arc::new(AtomicBool::new(false)),
            structured_probe: Arc::new(tokio::sync::Mutex::new(())),
            thinking_refused: Arc::new(AtomicBool::new(false)),
            secrets: Arc::new(secrets),
            settings,
            http,
            throttle,
            fleet,
            #[cfg(feature = "embedded")]
            engine,
        })
    }

    /// The settings this client sends with.
    pub fn settings(&self) -> &ModelSettings {
        &self.settings
    }

    /// The URL requests go to (the first server's), without its secrets, or the
    /// embedded model's file.
    pub fn endpoint(&self) -> String {
        #[cfg(feature = "embedded")]
        if let Some(engine) = &self.engine {
            return engine.model().to_string();
        }
        let path = self.call(&[], StructuredForm::Plain).path;
        crate::redact::url(&format!("{}{path}", self.fleet.primary()))
    }

    /// The shared throttle, for reports.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Asks the model. Waits for the throttle, picks a server, and retries
    /// transient faults; a 429 slows everyone down and is asked again without
    /// counting as a failed attempt, so a rate-limited run pauses instead of
    /// failing chunks.
    pub async fn chat(&self, messages: &[Message]) -> Result<ChatResponse, ModelError> {
        self.chat_quoting(messages, None).await
    }

    /// [`Self::chat`], with each answer quoted from `quotes` where the provider decodes
    /// under a grammar (the embedded engine); other providers ignore them.
    pub async fn chat_quoting(
        &self,
        messages: &[Message],
        quotes: Option<&AnswerQuotes>,
    ) -> Result<ChatResponse, ModelError> {
        #[cfg(feature = "embedded")]
        if let Some(engine) = &self.engine {
            return engine.chat(messages, quotes).await;
        }
        #[cfg(not(feature = "embedded"))]
        let _ = quotes;
        let prompt_chars = messages.iter().map(|m| m.content.len()).sum();
        let mut attempt = 0;
        let mut rate_limited = 0u32;
        loop {
            // Until the server has taken a structured form, requests ask in it one
            // at a time (the form is read again after the wait: it may have moved).
            let probe = if self.structured_form() != StructuredForm::Plain
                && !self.structured_settled.load(Ordering::Acquire)
            {
                Some(self.structured_probe.lock().await)
            } else {
                None
            };
            let permit = self.throttle.acquire(prompt_chars).await;
            let (pick, base) = self.fleet.pick();
            let started = Instant::now();
            let form = self.structured_form();
            let result = self.chat_once(&base, messages, form).await;
            let elapsed = started.elapsed();
            let reachable = !matches!(result, Err(ModelError::Unreachable { .. }));
            self.fleet.finish(pick, elapsed, reachable);
            match result {
                Ok((response, exhausted)) => {
                    if probe.is_some() && form == self.structured_form() {
                        self.structured_settled.store(true, Ordering::Release);
                    }
                    drop(probe);
                    self.health.on_success();
                    let used = response.tokens_in + response.tokens_out;
                    self.throttle.on_success(&permit, used, response.tokens_out);
                    if let Some(wait) = exhausted {
                        self.throttle.pause_for(wait);
                    }
                    return Ok(response);
                }
                Err(ModelError::ThinkingRefused { url, message, .. })
                    if !self.thinking_refused.swap(true, Ordering::AcqRel) =>
                {
                    drop(permit);
                    drop(probe);
                    tracing::warn!(
                        "{url} does not return this model's reasoning (it answered: {message}); asking without it: the prompt's reasoning field is each pair's reasoning"
                    );
                }
                Err(ModelError::ThinkingRefused { .. })
                    if self.thinking_refused.load(Ordering::Acquire) && attempt == 0 =>
                {
                    // Sent before another worker learned of the refusal: ask again.
                    drop(permit);
                    drop(probe);
                    attempt += 1;
                }
                Err(ModelError::SchemaRefused { url, message, .. })
                    if form != StructuredForm::Plain =>
                {
                    drop(permit);
                    self.fall_back_from(form, &url, &message);
                    drop(probe);
                }
                Err(ModelError::Transient {
                    status: Some(429),
                    retry_after,
                    url,
                    reason,
                }) => {
                    drop(permit);
                    drop(probe);
                    self.health.on_rate_limited(&url, &reason)?;
                    self.throttle.on_rate_limited(retry_after, elapsed);
                    rate_limited += 1;
                    if rate_limited.is_multiple_of(20) {
                        tracing::warn!(
                            "{url} keeps answering 429 (rate limited): pausing and asking again ({} requests in flight at most)",
                            self.throttle.limit()
                        );
                    }
                }
                Err(error) if error.is_transient() && attempt < self.settings.retry.max_retries => {
                    drop(permit);
                    drop(probe);
                    let retry_after = match &error {
                        ModelError::Transient { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let wait = self.settings.retry.delay(attempt, retry_after);
                    tracing::debug!(
                        "{error}; retrying in {wait:?} (attempt {} of {})",
                        attempt + 1,
                        self.settings.retry.max_retries
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The form `--structured` output is asked in now (`Plain` without it).
    fn structured_form(&self) -> StructuredForm {
        if !self.settings.structured {
            return StructuredForm::Plain;
        }
        StructuredForm::from_u8(self.structured_form.load(Ordering::Relaxed))
    }

    /// The server refused `form`: every worker moves to the next form, and the
    /// first to do so says so, once.
    fn fall_back_from(&self, form: StructuredForm, url: &str, message: &str) {
        let next = form.fallback();
        let moved = self
            .structured_form
            .compare_exchange(form as u8, next as u8, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        if moved {
            // The next form is tried by one request first, too.
            self.structured_settled.store(false, Ordering::Release);
            tracing::warn!(
                "{url} does not take {} (it answered: {message}); asking for {} instead",
                form.describe(),
                next.describe()
            );
        }
    }

    fn call(&self, messages: &[Message], form: StructuredForm) -> HttpCall {
        let structured = form != StructuredForm::Plain;
        let settings = if self.settings.reasoning && self.thinking_refused.load(Ordering::Acquire) {
            &ModelSettings {
                reasoning: false,
                ..self.settings.clone()
            }
        } else {
            &self.settings
        };
        match settings.provider {
            ProviderKind::OpenAi => openai::request(settings, messages, form),
            ProviderKind::Claude => claude::request(settings, messages),
            ProviderKind::Gemini => gemini::request(settings, messages, structured),
            ProviderKind::Local => ollama::request(settings, messages, structured),
            // Never sent: the embedded engine is called in-process.
            ProviderKind::Embedded => HttpCall {
                path: String::new(),
                headers: Vec::new(),
                body: Value::Null,
            },
        }
    }

    /// One request to the server at `base`, no retries. Also says how long to
    /// pause if the answer's rate-limit headers say nothing is left.
    async fn chat_once(
        &self,
        base: &str,
        messages: &[Message],
        form: StructuredForm,
    ) -> Result<(ChatResponse, Option<Duration>), ModelError> {
        let call = self.call(messages, form);
        let target = format!("{base}{}", call.path);
        let url = crate::redact::url(&target);
        let mut request = self.http.post(&target).json(&call.body);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        let response = match self.settings.patience.first_byte_timeout {
            Some(limit) => match tokio::time::timeout(limit, request.send()).await {
                Ok(sent) => sent,
                Err(_) => {
                    let reason = format!("no answer within {limit:?} (--first-byte-timeout)");
                    return Err(self.health.on_timeout(&url, reason));
                }
            },
            None => request.send().await,
        };
        let response = response.map_err(|e| self.send_error(&url, e))?;
        let status = response.status().as_u16();
        let retry_after = retry::retry_after(response.headers());
        let exhausted = retry::exhausted_for(response.headers());
        let body = self.read_body(&url, response, MAX_RESPONSE_BYTES).await?;
        if !(200..300).contains(&status) {
            return Err(self.status_error(&url, status, &body, retry_after));
        }
        let json: Value = serde_json::from_slice(&body).map_err(|e| ModelError::Transient {
            url: url.clone(),
            status: None,
            reason: format!("the answer is not complete JSON ({e})"),
            retry_after: None,
        })?;
        let parsed = match self.settings.provider {
            ProviderKind::OpenAi => openai::response(&json),
            ProviderKind::Claude => claude::response(&json),
            ProviderKind::Gemini => gemini::response(&json),
            ProviderKind::Local => ollama::response(&json),
            ProviderKind::Embedded => Err("the embedded engine answers in-process".to_string()),
        };
        parsed
            .map(|response| (response, exhausted))
            .map_err(|reason| ModelError::BadAnswer {
                url,
                reason: reason.to_string(),
            })
    }

    /// Reads an answer's body, up to `limit` bytes.
    async fn read_body(
        &self,
        url: &str,
        mut response: reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, ModelError> {
        let too_large = || ModelError::BadAnswer {
            url: url.to_string(),
            reason: format!(
                "the answer is larger than the {} MiB tdg accepts; it stopped reading there",
                limit >> 20
            ),
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(piece)) => {
                    if body.len() + piece.len() > limit {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&piece);
                }
                Ok(None) => return Ok(body),
                Err(error) if error.is_timeout() => {
                    let reason = format!(
                        "no complete answer within {:?} (--request-timeout)",
                        self.settings.request_timeout
                    );
                    return Err(self.health.on_timeout(url, reason));
                }
                Err(error) => {
                    return Err(ModelError::Transient {
                        url: url.to_string(),
                        status: None,
                        reason: format!(
                            "the answer was cut off: {}",
                            self.redact(&crate::net::error_chain(&error.without_url()))
                        ),
                        retry_after: None,
                    });
                }
            }
        }
    }

    fn send_error(&self, url: &str, error: reqwest::Error) -> ModelError {
        let error = error.without_url();
        let reason = self.redact(&crate::net::error_chain(&error));
        if error.is_connect() {
            ModelError::Unreachable {
                url: url.to_string(),
                reason,
            }
        } else if error.is_timeout() {
            let reason = format!(
                "no answer within {:?} (--request-timeout)",
                self.settings.request_timeout
            );
            self.health.on_timeout(url, reason)
        } else {
            ModelError::Transient {
                url: url.to_string(),
                status: None,
                reason,
                retry_after: None,
            }
        }
    }

    /// The error for an answer with HTTP `status` and `body` from `url`, the server's
    /// message redacted.
    fn status_error(
        &self,
        url: &str,
        status: u16,
        body: &[u8],
        retry_after: Option<std::time::Duration>,
    ) -> ModelError {
        refusal::status_error(&self.settings, url, status, body, retry_after, |text| {
            self.redact(text)
        })
    }

    fn redact(&self, text: &str) -> String {
        crate::redact::text(text, &self.secrets)
    }
}
