//! The embedded engine: a GGUF model run in-process by llama.cpp (through the
//! `llama-cpp-2` crate), so that `tdg generate` works on a machine with no model
//! server. It is one more back-end of [`super::ModelClient`]: the pipeline,
//! checkpoint, resume, progress and cost see the same `chat` call as for HTTP.
//!
//! This module owns what exists with or without the `embedded` Cargo feature (the
//! options, the default model, mapping `--model` to a file); the engine itself is in
//! [`engine`] (one thread owning the model and its context), [`batch`] (continuous
//! batching of many chunks in one context), [`chat_template`] (the model's own Jinja
//! template) and [`grammar`] (decoding under the pair schema).

#[cfg(feature = "embedded")]
mod batch;
#[cfg(feature = "embedded")]
pub mod chat_template;
#[cfg(feature = "embedded")]
mod engine;
#[cfg(feature = "embedded")]
mod grammar;

use std::path::{Path, PathBuf};

#[cfg(feature = "embedded")]
pub use engine::Engine;
#[cfg(feature = "embedded")]
pub use engine::Vocabulary;

use super::ModelError;

/// The model used when none is given, as a Hugging Face file `ORG/REPO/FILE.gguf`:
/// Qwen2.5-1.5B-Instruct at Q4_K_M (1.1 GB). Instruction-tuned, its chat template is
/// in the GGUF, Apache-2.0, downloadable without a login, and small enough to run
/// on a laptop CPU while still following the answer format.
pub const DEFAULT_MODEL: &str = "Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf";

/// The chunks decoded together when `--concurrency` is not given: a CPU has
/// little to gain beyond a few sequences, and each one costs KV-cache memory.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// How the embedded engine runs (`--threads`, `--gpu-layers`, `--context-size`,
/// `--chat-template`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// CPU threads for decoding; `None` means the physical cores.
    pub threads: Option<u32>,
    /// Layers offloaded to a GPU (only with the `cuda`, `metal` or `vulkan` feature).
    pub gpu_layers: u32,
    /// Tokens of context each sequence gets (prompt and answer); `None` sizes it as
    /// [`PROMPT_ROOM`] plus `--max-tokens`, within the model's trained context.
    pub context_size: Option<u32>,
    /// The chat template asked for, instead of the one the model carries.
    pub chat_template: Option<ChatTemplateChoice>,
}

/// Room in each sequence's context for the prompt, besides the answer's
/// `--max-tokens`, when `--context-size` is not given.
pub const PROMPT_ROOM: u32 = 2048;

/// A chat template named by `--chat-template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTemplateChoice {
    /// One of llama.cpp's built-in templates, by name (`chatml`, `llama3`, `gemma`…).
    Named(String),
    /// A Jinja template file, as Hugging Face's `chat_template` is written.
    File { path: PathBuf, source: String },
}

impl ChatTemplateChoice {
    /// `--chat-template`'s value: a file when one is there (or the value looks like a
    /// path), else a template name.
    pub fn parse(value: &str) -> Result<Self, String> {
        let path = Path::new(value);
        let looks_like_path = value.contains(['/', '\\']) || path.extension().is_some();
        if path.is_file() || looks_like_path {
            let source = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "a readable Jinja template file or a template name; cannot read {value}: {e}"
                )
            })?;
            return Ok(ChatTemplateChoice::File {
                path: path.to_path_buf(),
                source,
            });
        }
        let name = value.trim();
        if name.is_empty() {
            return Err(
                "a template name (chatml, llama3, gemma, mistral-v7, phi3…) or a Jinja file".into(),
            );
        }
        Ok(ChatTemplateChoice::Named(name.to_string()))
    }
}

/// The local `.gguf` file that `--model` names: a path as it is, or a Hugging Face
/// file (`ORG/REPO/FILE.gguf[@REVISION]`) from the shared Hugging Face cache,
/// downloaded there on first use ([`crate::hub`]).
pub fn model_path(spec: &str) -> Result<PathBuf, ModelError> {
    let path = PathBuf::from(spec);
    if path.is_file() {
        return Ok(path);
    }
    let engine_error = |reason: String| ModelError::Engine {
        model: spec.to_string(),
        reason,
    };
    let hub = crate::hub::HubSettings::from_env().map_err(|e| engine_error(e.to_string()))?;
    let progress = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        crate::progress::ProgressMode::Bar
    } else {
        crate::progress::ProgressMode::Lines(std::time::Duration::from_secs(10))
    };
    // The download is async; this may be called from inside tdg's runtime, so it
    // runs on a thread of its own with a runtime of its own.
    let owned = spec.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| (crate::failure::Retry::Helps, e.to_string()))?;
        runtime
            .block_on(crate::hub::resolve_model(&owned, &hub, progress))
            .map_err(|e| (e.retry(), e.to_string()))
    })
    .join()
    .map_err(|_| engine_error("the model download stopped unexpectedly".into()))?
    .map_err(|(retry, reason)| match retry {
        crate::failure::Retry::Helps => ModelError::ModelFileUnavailable {
            model: spec.to_string(),
            reason,
        },
        crate::failure::Retry::Futile => engine_error(reason),
    })
}

/// The physical CPU cores (llama.cpp gains nothing from hyper-threads), at least 1.
pub fn physical_cores() -> u32 {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let Ok(cpuinfo) = std::fs::read_to_string("/proc/cpuinfo") else {
        return logical;
    };
    let mut cores = std::collections::HashSet::new();
    let mut physical_id = "";
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "physical id" => physical_id = value.trim(),
            "core id" => {
                cores.insert((physical_id, value.trim()));
            }
            _ => {}
        }
    }
    match cores.len() as u32 {
        0 => logical,
        n => n.min(logical),
    }
}

/// The text the model sees for `messages`, after its chat template (`tdg prompt`),
/// and which template that is and why.
#[cfg(feature = "embedded")]
pub fn render_prompt(
    spec: &str,
    options: &EmbeddedOptions,
    messages: &[super::Message],
) -> Result<(String, String), ModelError> {
    engine::render_prompt(&model_path(spec)?, options.chat_template.as_ref(), messages)
}

/// Without the `embedded` feature there is no engine to render with.
#[cfg(not(feature = "embedded"))]
pub fn render_prompt(
    spec: &str,
    _options: &EmbeddedOptions,
    _messages: &[super::Message],
) -> Result<(String, String), ModelError> {
    Err(not_built(spec))
}

/// The tokenizer of the model `spec` (a path or a Hub file), weights left unloaded.
#[cfg(feature = "embedded")]
pub fn vocabulary(spec: &str) -> Result<engine::Vocabulary, ModelError> {
    engine::Vocabulary::load(&model_path(spec)?)
}

/// Without the `embedded` feature there is no tokenizer to load.
#[cfg(not(feature = "embedded"))]
pub fn vocabulary(spec: &str) -> Result<std::convert::Infallible, ModelError> {
    Err(not_built(spec))
}

/// The error for `--provider embedded` in a build without the engine.
#[cfg(not(feature = "embedded"))]
pub fn not_built(spec: &str) -> ModelError {
    ModelError::Engine {
        model: spec.to_string(),
        reason: "this tdg was built without the `embedded` feature; rebuild it with default features (needs cmake, a C++ compiler and libclang) or choose another --provider".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_file_is_named() {
        let error = model_path("/nowhere/model.gguf").unwrap_err();
        assert!(error.to_string().contains("/nowhere/model.gguf"), "{error}");
        assert!(error.stops_run());
    }

    #[test]
    fn physical_cores_are_counted() {
        let cores = physical_cores();
        let logical = std::thread::available_parallelism().unwrap().get() as u32;
        assert!(cores >= 1 && cores <= logical, "{cores} of {logical}");
    }
}
