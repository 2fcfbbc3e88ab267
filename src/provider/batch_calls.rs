//! What the providers' batch APIs ([`crate::batch`]) need of a client: the body a live
//! request would send for a conversation, reading an answer body in the provider's
//! dialect, and plain API calls (upload a file, create, poll, download, cancel) with
//! the provider's authentication, transient faults retried and every URL and server
//! message kept free of secrets, as live calls are.

use std::time::Duration;

use serde_json::Value;

use super::{ChatResponse, Message, ModelClient, ModelError, openai::StructuredForm};
use crate::provider::settings::ProviderKind;

/// The largest answer tdg reads whole from a batch API (a batch's state, Gemini's
/// inline answers); results files are read a line at a time ([`ModelClient::api_lines`]).
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
        self.api_call_with(path, request, self.settings.retry.max_retries)
            .await
    }

    /// [`Self::api_call`] asked once, never again: for a call that must not be
    /// repeated blindly (creating a batch whose answer was lost may have created it).
    pub async fn api_call_once(
        &self,
        path: &str,
        request: &ApiRequest,
    ) -> Result<Vec<u8>, ModelError> {
        self.api_call_with(path, request, 0).await
    }

    async fn api_call_with(
        &self,
        path: &str,
        request: &ApiRequest,
        retries: u32,
    ) -> Result<Vec<u8>, ModelError> {
        let target = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.fleet.primary())
        };
        let url = crate::redact::url(&target);
        let mut attempt = 0;
        loop {
            match self.send_api_call(&target, &url, request).await {
                Ok(body) => return Ok(body),
                Err(error) if error.is_transient() && attempt < retries => {
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

    /// A GET of a JSON Lines file (a batch's results), read in pieces and handed to
    /// `each` a line at a time, so that the file is never held whole. A line longer
    /// than [`super::MAX_RESPONSE_BYTES`] is an error. Not retried: a caller that gets
    /// an error reads the file again later, from its start.
    pub async fn api_lines(
        &self,
        path: &str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), ModelError> {
        let target = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.fleet.primary())
        };
        let url = crate::redact::url(&target);
        let mut request = self.http.get(&target);
        for (name, value) in &self.call(&[], StructuredForm::Plain).headers {
            request = request.header(*name, value);
        }
        let mut response = request.send().await.map_err(|e| self.send_error(&url, e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = super::retry::retry_after(response.headers());
            let body = self
                .read_body(&url, response, super::MAX_RESPONSE_BYTES)
                .await?;
            return Err(self.status_error(&url, status, &body, retry_after));
        }
        let mut lines = LineSplitter::default();
        loop {
            let piece = match response.chunk().await {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(error) => {
                    return Err(ModelError::Transient {
                        url,
                        status: None,
                        reason: format!(
                            "the file was cut off: {}",
                            self.redact(&crate::net::error_chain(&error.without_url()))
                        ),
                        retry_after: None,
                    });
                }
            };
            if !lines.push(&piece, &mut each) {
                return Err(ModelError::BadAnswer {
                    url,
                    reason: format!(
                        "a line is longer than the {} MiB tdg accepts",
                        super::MAX_RESPONSE_BYTES >> 20
                    ),
                });
            }
        }
        lines.finish(&mut each);
        Ok(())
    }

    async fn send_api_call(
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
            return Err(self.status_error(url, status, &body, retry_after));
        }
        Ok(body)
    }

    /// `text` without the client's secrets.
    pub fn without_secrets(&self, text: &str) -> String {
        self.redact(text)
    }
}

/// Cuts a byte stream into lines, whatever the pieces it comes in.
#[derive(Default)]
struct LineSplitter {
    /// The start of a line whose end has not come yet.
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Hands every line `piece` completes to `each`; false once an unfinished line
    /// is longer than [`super::MAX_RESPONSE_BYTES`].
    fn push(&mut self, piece: &[u8], each: &mut impl FnMut(&[u8])) -> bool {
        self.pending.extend_from_slice(piece);
        let mut start = 0;
        while let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') {
            each(&self.pending[start..start + end]);
            start += end + 1;
        }
        self.pending.drain(..start);
        self.pending.len() <= super::MAX_RESPONSE_BYTES
    }

    /// Hands over the last line, if the stream did not end with a newline.
    fn finish(self, each: &mut impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            each(&self.pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_whole_whatever_the_pieces() {
        let text = b"{\"a\": 1}\n{\"b\": 2}\n\n{\"c\": 3}";
        for cut in 1..text.len() {
            let mut lines = Vec::new();
            let mut each = |line: &[u8]| lines.push(String::from_utf8(line.to_vec()).unwrap());
            let mut splitter = LineSplitter::default();
            for piece in text.chunks(cut) {
                assert!(splitter.push(piece, &mut each));
            }
            splitter.finish(&mut each);
            assert_eq!(
                lines,
                ["{\"a\": 1}", "{\"b\": 2}", "", "{\"c\": 3}"],
                "pieces of {cut}"
            );
        }
    }
}
