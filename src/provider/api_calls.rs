//! What the providers' batch APIs ([`crate::batch`]) need of a client: the body a live
//! request would send for a conversation, reading an answer body in the provider's
//! dialect, and plain API calls (upload a file, create, poll, download, cancel) with
//! the provider's authentication, transient faults retried and every URL and server
//! message kept free of secrets, as live calls are.

use std::time::Duration;

use serde_json::Value;

use super::{ChatResponse, Message, ModelClient, ModelError, openai::StructuredForm, refusal};
use crate::provider::settings::ProviderKind;

/// The largest file tdg downloads from a batch API (results of up to 100,000 requests).
pub const MAX_BATCH_FILE_BYTES: usize = 1 << 30;

/// An API call's method and body.
pub enum ApiRequest {
    Get,
    /// A POST with a JSON body.
    Post(Value),
    /// A multipart upload of a file with a `purpose` field (OpenAI's `/v1/files`).
    Upload {
        purpose: &'static str,
        file_name: String,
        bytes: Vec<u8>,
    },
}

impl ModelClient {
    /// The provider this client speaks to.
    pub fn provider(&self) -> ProviderKind {
        self.settings.provider
    }

    /// The body a live request for `messages` sends, in the provider's dialect, with
    /// structured output as live requests ask for it.
    pub fn live_request_body(&self, messages: &[Message]) -> Value {
        self.call(messages, self.structured_form()).body
    }

    /// Reads an answer body in the provider's dialect, as a live answer is read.
    pub fn read_answer(&self, body: &Value) -> Result<ChatResponse, String> {
        match self.settings.provider {
            ProviderKind::OpenAi => super::openai::response(body),
            ProviderKind::Claude => super::claude::response(body),
            ProviderKind::Gemini => super::gemini::response(body),
            ProviderKind::Local => super::ollama::response(body),
            ProviderKind::Embedded => Err("the embedded engine answers in-process".to_string()),
        }
    }

    /// One API call to `path` on the first server (or to `path` itself when it is a
    /// whole URL, as Anthropic's `results_url` is), with the provider's credentials.
    /// Transient faults and rate limits are retried as for live calls; the body is
    /// read up to [`MAX_BATCH_FILE_BYTES`].
    pub async fn api_call(&self, path: &str, request: &ApiRequest) -> Result<Vec<u8>, ModelError> {
        let target = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.fleet.primary())
        };
        let url = crate::redact::url(&target);
        let mut attempt = 0;
        loop {
            match self.api_call_once(&target, &url, request).await {
                Ok(body) => return Ok(body),
                Err(error) if error.is_transient() && attempt < self.settings.retry.max_retries => {
                    let retry_after = match &error {
                        ModelError::Transient { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let wait = self.settings.retry.delay(attempt, retry_after);
                    tracing::debug!("{error}; retrying in {wait:?}");
                    tokio::time::sleep(wait.min(Duration::from_secs(300))).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn api_call_once(
        &self,
        target: &str,
        url: &str,
        request: &ApiRequest,
    ) -> Result<Vec<u8>, ModelError> {
        let mut builder = match request {
            ApiRequest::Get => self.http.get(target),
            ApiRequest::Post(body) => self.http.post(target).json(body),
            ApiRequest::Upload {
                purpose,
                file_name,
                bytes,
            } => {
                let file = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(file_name.clone())
                    .mime_str("application/jsonl")
                    .map_err(|e| ModelError::BadAnswer {
                        url: url.to_string(),
                        reason: e.to_string(),
                    })?;
                let form = reqwest::multipart::Form::new()
                    .text("purpose", *purpose)
                    .part("file", file);
                self.http.post(target).multipart(form)
            }
        };
        for (name, value) in &self.call(&[], StructuredForm::Plain).headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.map_err(|e| self.send_error(url, e))?;
        let status = response.status().as_u16();
        let retry_after = super::retry::retry_after(response.headers());
        let body = self.read_body(url, response, MAX_BATCH_FILE_BYTES).await?;
        if !(200..300).contains(&status) {
            return Err(refusal::status_error(
                &self.settings,
                url,
                status,
                &body,
                retry_after,
                |text| self.redact(text),
            ));
        }
        Ok(body)
    }

    /// `text` without the client's secrets.
    pub fn without_secrets(&self, text: &str) -> String {
        self.redact(text)
    }
}
