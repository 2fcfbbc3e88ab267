//! One face over the providers' batch APIs, dispatching to each dialect: submit request lines, ask a batch's
//! state, read its results, cancel it. Each provider's dialect is in its own module
//! ([`super::openai`], [`super::anthropic`], [`super::gemini`]); the HTTP calls go
//! through [`ModelClient::api_call`], with the client's credentials and retries.

use serde_json::Value;

use super::lines::{BatchResults, BatchStatus, RequestLine, Results, not_there};
use crate::chat::Message;
use crate::provider::settings::ProviderKind;
use crate::provider::{ChatResponse, ModelClient, ModelError};

/// A provider's batch API.
#[derive(Clone)]
pub struct BatchApi {
    client: ModelClient,
}

impl BatchApi {
    /// The batch API of `client`'s provider; none for the embedded engine and Ollama,
    /// which have none.
    pub fn of(client: ModelClient) -> Result<Self, String> {
        match client.provider() {
            ProviderKind::OpenAi | ProviderKind::Claude | ProviderKind::Gemini => {
                Ok(BatchApi { client })
            }
            other => Err(format!(
                "the {other} provider has no batch API: --batch-api works with openai, claude and gemini"
            )),
        }
    }

    /// The client batches are sent with.
    pub fn client(&self) -> &ModelClient {
        &self.client
    }

    /// The provider's name, as recorded with each batch.
    pub fn provider(&self) -> ProviderKind {
        self.client.provider()
    }

    /// Where this API sends batches, as the ledger records it.
    pub fn place(&self) -> super::ledger::BatchPlace {
        let settings = self.client.settings();
        super::ledger::BatchPlace {
            provider: self.provider().name().to_string(),
            model: settings.model.clone(),
            base_url: settings.base_urls.first().cloned().unwrap_or_default(),
        }
    }

    /// The most requests and bytes one batch may hold: OpenAI 50,000 requests and
    /// 200 MB per input file; Anthropic 100,000 requests or 256 MB; Gemini's inline
    /// requests, 20 MB.
    pub fn limits(&self) -> (usize, usize) {
        match self.provider() {
            ProviderKind::OpenAi => (50_000, 200_000_000),
            ProviderKind::Claude => (100_000, 256_000_000),
            _ => (50_000, 20_000_000),
        }
    }

    /// The line for a chunk's conversation.
    pub fn line(&self, custom_id: String, messages: &[Message]) -> RequestLine {
        RequestLine {
            custom_id,
            body: self.client.live_request_body(messages),
        }
    }

    /// How many bytes `line` takes in a batch (its JSON, with the wrapping).
    pub fn line_bytes(line: &RequestLine) -> usize {
        line.body.to_string().len() + line.custom_id.len() + 96
    }

    /// Creates a batch of `lines`, marked with `tag` where the provider keeps one
    /// (OpenAI's metadata); returns its id.
    pub async fn submit(&self, lines: &[RequestLine], tag: &str) -> Result<String, ModelError> {
        match self.provider() {
            ProviderKind::OpenAi => super::openai::submit(&self.client, lines, tag).await,
            ProviderKind::Claude => super::anthropic::submit(&self.client, lines).await,
            _ => super::gemini::submit(&self.client, lines).await,
        }
    }

    /// The batch created with `tag`, if the provider has one: how a run that was
    /// stopped while creating a batch learns whether it was created. `since` is when
    /// the submission was recorded (Unix seconds), before the batch can have been
    /// created: the lookup reads the provider's list back to about then. Only OpenAI
    /// keeps a tag (the batch's metadata); for the others this is always none.
    pub async fn find(&self, tag: &str, since: Option<i64>) -> Result<Option<String>, ModelError> {
        match self.provider() {
            ProviderKind::OpenAi => super::openai::find(&self.client, tag, since).await,
            _ => Ok(None),
        }
    }

    /// The batch's state now. A batch the provider does not know is a wrong setting
    /// (another key, project or server), said as such, not as a wrong model.
    pub async fn status(&self, id: &str) -> Result<BatchStatus, ModelError> {
        let status = match self.provider() {
            ProviderKind::OpenAi => super::openai::status(&self.client, id).await,
            ProviderKind::Claude => super::anthropic::status(&self.client, id).await,
            _ => super::gemini::status(&self.client, id).await,
        };
        status.map_err(|error| match error {
            ModelError::Permanent {
                url,
                status: 404,
                message,
                ..
            } => ModelError::Permanent {
                url,
                status: 404,
                message,
                hint: format!(
                    "The provider does not know batch {id}: it was deleted, or it was made with another API key, project or --base-url than this run's (`tdg batch status --qa-dir DIR` lists where each batch was sent)."
                ),
            },
            other => other,
        })
    }

    /// The results of an ended batch, in any order. Results the provider no longer
    /// keeps (an output file deleted or expired, an archived batch: HTTP 404 or 410
    /// where the batch itself is still known) are no error: [`BatchResults::gone`]
    /// says why, and the chunks without a line are asked again.
    pub async fn results(&self, status: &BatchStatus) -> Result<BatchResults, ModelError> {
        let mut results = BatchResults::default();
        match &status.results {
            Results::None => results.gone = status.gone.clone(),
            Results::Files {
                output,
                errors,
                batch_error,
            } => {
                for (kind, file) in [("output", output), ("error", errors)] {
                    let Some(file) = file else { continue };
                    match super::openai::file_lines(&self.client, file).await {
                        Ok(lines) => results.lines.extend(lines),
                        Err(error) => match not_there(&error) {
                            Some(says) => {
                                results.gone = Some(format!(
                                    "its {kind} file {file} is gone ({says}): OpenAI removes a batch's files once they expire (`output_expires_after`) or are deleted"
                                ))
                            }
                            None => return Err(error),
                        },
                    }
                }
                if let Some(error) = batch_error {
                    tracing::warn!("batch {} failed: {error}", status.id);
                }
            }
            Results::Url(url) => match super::anthropic::results(&self.client, url).await {
                Ok(lines) => results.lines = lines,
                Err(error) => match not_there(&error) {
                    Some(says) => {
                        results.gone = Some(match &status.gone {
                            Some(why) => format!("{why} (its results_url answers {says})"),
                            None => format!(
                                "its results_url answers {says}: Anthropic keeps a batch's results for 29 days, then archives the batch"
                            ),
                        })
                    }
                    None => return Err(error),
                },
            },
            Results::Inline(answers) => results.lines = super::gemini::results(answers),
        }
        Ok(results)
    }

    /// Asks the provider to cancel the batch; answers already made stay readable.
    pub async fn cancel(&self, id: &str) -> Result<(), ModelError> {
        match self.provider() {
            ProviderKind::OpenAi => super::openai::cancel(&self.client, id).await,
            ProviderKind::Claude => super::anthropic::cancel(&self.client, id).await,
            _ => super::gemini::cancel(&self.client, id).await,
        }
    }

    /// Reads an answer body as a live answer is read.
    pub fn read_answer(&self, body: &Value) -> Result<ChatResponse, String> {
        self.client.read_answer(body)
    }
}
