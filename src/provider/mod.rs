//! Calling the model: one HTTP dialect per provider ([`openai`], [`claude`],
//! [`gemini`], [`ollama`]) behind one [`ModelClient`], with retries; or the
//! [`embedded`] llama.cpp engine, in-process, behind the same client.
//!
//! Transient faults (429, 500, 502, 503, 504, 529, timeouts, connection resets,
//! truncated bodies) are retried with exponential backoff and jitter, honouring
//! `Retry-After` and the providers' rate-limit reset headers. Permanent errors (a
//! refused key, an unknown model, an invalid request) and a server that stays
//! unreachable stop the run: asking again for every chunk would only fail again.

mod claude;
pub mod embedded;
mod fleet;
mod gemini;
mod ollama;
mod openai;
mod retry;
mod throttle;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::generate::settings::{ModelSettings, ProviderKind};
pub use fleet::Fleet;
pub use retry::RetryPolicy;
pub use throttle::{RateCaps, Throttle};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// What the model answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatResponse {
    pub text: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// One HTTP request in a provider's dialect.
struct HttpCall {
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

/// Why the model gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    /// A fault that may pass: retried, and if it persists the chunk fails.
    #[error("{url}: {reason}")]
    Transient {
        url: String,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },

    /// The server cannot be reached.
    #[error(
        "cannot reach the model server at {url}: {reason}. Check that the server is running and that --base-url (or OLLAMA_BASE_URL) points at it"
    )]
    Unreachable { url: String, reason: String },

    /// The server refused the request in a way that asking again will not fix.
    #[error("{url} answered HTTP {status}: {message}. {hint}")]
    Permanent {
        url: String,
        status: u16,
        message: String,
        hint: String,
    },

    /// The server answered 200, but not in its API's shape.
    #[error("{url} answered in an unexpected shape: {reason}")]
    BadAnswer { url: String, reason: String },

    /// The embedded engine cannot run (a missing or unreadable model, a failed
    /// decode): every chunk would fail the same way.
    #[error("embedded model {model}: {reason}")]
    Engine { model: String, reason: String },

    /// The embedded engine cannot take this one request (a prompt too long).
    #[error("embedded model {model}: {reason}")]
    Rejected { model: String, reason: String },
}

impl ModelError {
    /// Whether asking again may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ModelError::Transient { .. } | ModelError::Unreachable { .. }
        )
    }

    /// Whether the whole run must stop (every other chunk would fail the same way).
    pub fn stops_run(&self) -> bool {
        matches!(
            self,
            ModelError::Permanent { .. }
                | ModelError::Unreachable { .. }
                | ModelError::Engine { .. }
        )
    }
}

/// The JSON schema of the answer asked for with `--structured`, with the array
/// bounded to `pairs` items when the number asked is known (unbounded, a small model
/// writes many near-repeats).
pub fn qa_schema(pairs: Option<u32>) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "qa_pairs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                    "required": ["question", "answer"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["qa_pairs"],
        "additionalProperties": false,
    });
    if let Some(pairs) = pairs {
        schema["properties"]["qa_pairs"]["minItems"] = json!(pairs);
        schema["properties"]["qa_pairs"]["maxItems"] = json!(pairs);
    }
    schema
}

/// A client for one model on one or more servers, shared by every worker.
#[derive(Clone)]
pub struct ModelClient {
    settings: ModelSettings,
    http: reqwest::Client,
    throttle: Arc<Throttle>,
    fleet: Arc<Fleet>,
    /// The in-process engine, for `--provider embedded`.
    #[cfg(feature = "embedded")]
    engine: Option<Arc<embedded::Engine>>,
}

impl ModelClient {
    /// A client for `settings`, sized for `concurrency` requests at once.
    pub fn new(settings: ModelSettings, concurrency: usize) -> Result<Self, ModelError> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(concurrency.max(1))
            .user_agent(concat!("tdg/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ModelError::Unreachable {
                url: settings.base_urls.join(", "),
                reason: e.to_string(),
            })?;
        let throttle = Arc::new(Throttle::new(
            concurrency,
            settings.rate_caps,
            settings.max_tokens,
        ));
        let fleet = Arc::new(Fleet::new(&settings.base_urls));
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

    /// The URL requests go to (the first server's), or the embedded model's file.
    pub fn endpoint(&self) -> String {
        #[cfg(feature = "embedded")]
        if let Some(engine) = &self.engine {
            return engine.model().to_string();
        }
        format!("{}{}", self.fleet.primary(), self.call(&[], false).path)
    }

    /// The models the server offers (for the message about an unknown model): Ollama's
    /// `/api/tags`, OpenAI's and Anthropic's `/v1/models`, Gemini's `/v1beta/models`.
    pub async fn available_models(&self) -> Result<Vec<String>, ModelError> {
        let (path, list, name) = match self.settings.provider {
            ProviderKind::Local => ("/api/tags", "/models", "name"),
            ProviderKind::OpenAi | ProviderKind::Claude => ("/v1/models", "/data", "id"),
            ProviderKind::Gemini => ("/v1beta/models", "/models", "name"),
            ProviderKind::Embedded => return Ok(vec![self.settings.model.clone()]),
        };
        let url = format!("{}{path}", self.fleet.primary());
        let mut request = self.http.get(&url);
        for (header, value) in &self.call(&[], false).headers {
            request = request.header(*header, value);
        }
        let failed = |reason: String| ModelError::BadAnswer {
            url: url.clone(),
            reason,
        };
        let response = request.send().await.map_err(|e| failed(e.to_string()))?;
        let json: Value = response.json().await.map_err(|e| failed(e.to_string()))?;
        let models = json
            .pointer(list)
            .and_then(Value::as_array)
            .ok_or_else(|| failed("no model list".into()))?;
        Ok(models
            .iter()
            .filter_map(|model| model.get(name).and_then(Value::as_str))
            .map(|model| model.trim_start_matches("models/").to_string())
            .collect())
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
        #[cfg(feature = "embedded")]
        if let Some(engine) = &self.engine {
            return engine.chat(messages).await;
        }
        let prompt_chars = messages.iter().map(|m| m.content.len()).sum();
        let mut attempt = 0;
        let mut rate_limited = 0u32;
        loop {
            let permit = self.throttle.acquire(prompt_chars).await;
            let (pick, base) = self.fleet.pick();
            let started = Instant::now();
            let result = self.chat_once(&base, messages).await;
            let elapsed = started.elapsed();
            let reachable = !matches!(result, Err(ModelError::Unreachable { .. }));
            self.fleet.finish(pick, elapsed, reachable);
            match result {
                Ok((response, exhausted)) => {
                    let used = response.tokens_in + response.tokens_out;
                    self.throttle.on_success(&permit, used, response.tokens_out);
                    if let Some(wait) = exhausted {
                        self.throttle.pause_for(wait);
                    }
                    return Ok(response);
                }
                Err(ModelError::Transient {
                    status: Some(429),
                    retry_after,
                    url,
                    ..
                }) => {
                    drop(permit);
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

    fn call(&self, messages: &[Message], structured: bool) -> HttpCall {
        match self.settings.provider {
            ProviderKind::OpenAi => openai::request(&self.settings, messages, structured),
            ProviderKind::Claude => claude::request(&self.settings, messages),
            ProviderKind::Gemini => gemini::request(&self.settings, messages, structured),
            ProviderKind::Local => ollama::request(&self.settings, messages, structured),
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
    ) -> Result<(ChatResponse, Option<Duration>), ModelError> {
        let call = self.call(messages, self.settings.structured);
        let url = format!("{base}{}", call.path);
        let mut request = self.http.post(&url).json(&call.body);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| self.send_error(&url, e))?;
        let status = response.status().as_u16();
        let retry_after = retry::retry_after(response.headers());
        let exhausted = retry::exhausted_for(response.headers());
        let body = response.bytes().await.map_err(|e| ModelError::Transient {
            url: url.clone(),
            status: None,
            reason: format!("the answer was cut off: {}", error_chain(&e)),
            retry_after: None,
        })?;
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

    fn send_error(&self, url: &str, error: reqwest::Error) -> ModelError {
        let reason = self.redact(&error_chain(&error));
        if error.is_connect() {
            ModelError::Unreachable {
                url: url.to_string(),
                reason,
            }
        } else if error.is_timeout() {
            ModelError::Transient {
                url: url.to_string(),
                status: None,
                reason: format!(
                    "no answer within {:?} (--request-timeout)",
                    self.settings.request_timeout
                ),
                retry_after: None,
            }
        } else {
            ModelError::Transient {
                url: url.to_string(),
                status: None,
                reason,
                retry_after: None,
            }
        }
    }

    fn status_error(
        &self,
        url: &str,
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> ModelError {
        let message = self.redact(&server_message(body));
        match status {
            408 | 409 | 425 | 429 | 500..=599 => ModelError::Transient {
                url: url.to_string(),
                status: Some(status),
                reason: format!("HTTP {status}: {message}"),
                retry_after,
            },
            401 | 403 => ModelError::Permanent {
                url: url.to_string(),
                status,
                message,
                hint: match self.settings.provider.key_variables() {
                    [] => "Check --api-key.".to_string(),
                    vars => format!("Check the API key in {} or --api-key.", vars.join(" / ")),
                },
            },
            404 => ModelError::Permanent {
                url: url.to_string(),
                status,
                message,
                hint: format!(
                    "Check that the model `{}` exists on this server (--model) and that --base-url is the API's base address.",
                    self.settings.model
                ),
            },
            _ => ModelError::Permanent {
                url: url.to_string(),
                status,
                message,
                hint: "The server rejected the request; check --model and the generation settings."
                    .into(),
            },
        }
    }

    fn redact(&self, text: &str) -> String {
        match &self.settings.api_key {
            Some(key) => key.redact(text),
            None => text.to_string(),
        }
    }
}

/// rustls needs a process-wide crypto provider; tdg uses ring.
fn install_tls_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An error with its causes, which reqwest keeps in the chain.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The server's own words from an error body: `error.message`, `error`, or the text.
fn server_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<Value>(&text).ok().and_then(|json| {
        json.pointer("/error/message")
            .or_else(|| json.get("error"))
            .or_else(|| json.get("message"))
            .and_then(|v| v.as_str().map(str::to_string))
    });
    let message = from_json.unwrap_or_else(|| text.trim().to_string());
    let mut short: String = message.chars().take(500).collect();
    if short.is_empty() {
        short = "(no message)".into();
    }
    short
}
