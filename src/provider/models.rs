//! The models a server offers, for the message about an unknown model: Ollama's
//! `/api/tags`, OpenAI's and Anthropic's `/v1/models`, Gemini's `/v1beta/models`.

use serde_json::Value;

use super::openai::StructuredForm;
use super::settings::ProviderKind;
use super::{ModelClient, ModelError};

impl ModelClient {
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
        for (header, value) in &self.call(&[], StructuredForm::Plain).headers {
            request = request.header(*header, value);
        }
        let failed = |reason: String| ModelError::BadAnswer {
            url: crate::redact::url(&url),
            reason: self.redact(&reason),
        };
        let response = request
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        let json: Value = response
            .json()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
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
}
