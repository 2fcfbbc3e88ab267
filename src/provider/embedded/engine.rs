//! The engine thread. llama.cpp's model and context live on one thread that owns
//! them for the engine's life; `chat` calls reach it over a channel and are answered
//! on a oneshot each, so any number of pipeline workers can ask at once and the
//! [`super::batch`] scheduler decodes them together. Dropping a `chat` future (Ctrl+C
//! after the grace) closes its oneshot, and the scheduler frees that sequence at its
//! next step. Dropping the [`Engine`] closes the channel and waits for the thread to
//! free the model, so nothing of llama.cpp is left running when tdg exits.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use tokio::sync::{mpsc, oneshot};

use super::batch::{BATCH_TOKENS, DecodeConfig, Request, Scheduler};
use super::chat_template::ChatTemplate;
use super::{PROMPT_ROOM, grammar, model_path, physical_cores};
use crate::chat::Message;
use crate::provider::settings::ModelSettings;
use crate::provider::{AnswerQuotes, ChatResponse, ModelError};

/// A handle on the engine thread; shared behind an `Arc`.
pub struct Engine {
    /// `None` once dropped, which tells the thread to finish.
    requests: Option<mpsc::UnboundedSender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
    model: String,
    /// What a request's own grammar is made from: the answer's shape and token limit,
    /// when decoding is structured.
    structured_answer: Option<(crate::provider::AnswerSchema, u32)>,
}

impl Engine {
    /// Loads the model of `settings` and starts the engine thread with a context for
    /// `slots` sequences at once. Fails (naming the file) if the model cannot be loaded.
    pub fn start(settings: &ModelSettings, slots: usize) -> Result<Engine, ModelError> {
        let path = model_path(&settings.model)?;
        let model = path.display().to_string();
        let engine_error = |reason: String| ModelError::Engine {
            model: model.clone(),
            reason,
        };
        let grammar = if settings.structured {
            Some(
                grammar::answer_grammar(settings.answer, settings.max_tokens, None)
                    .map_err(engine_error)?,
            )
        } else {
            None
        };
        let config = DecodeConfig {
            model: model.clone(),
            temperature: settings.temperature as f32,
            max_tokens: settings.max_tokens.max(1),
            grammar,
            answer: settings.structured.then_some(settings.answer),
            slots: slots.max(1),
            slot_context: 0,
            trained_context: 0,
        };
        let options = settings.embedded.clone();
        let (requests, inbox) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tdg-llama".into())
            .spawn(move || run(path, config, options, inbox, ready_tx))
            .map_err(|e| engine_error(format!("cannot start the engine thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Engine {
                requests: Some(requests),
                thread: Some(thread),
                model,
                structured_answer: settings
                    .structured
                    .then_some((settings.answer, settings.max_tokens)),
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(engine_error(
                "the engine thread stopped while loading".into(),
            )),
        }
    }

    /// Asks the model; answered when this request's sequence finishes. With `quotes`
    /// (and structured decoding), each answer is one of its pool's sentences.
    pub async fn chat(
        &self,
        messages: &[Message],
        quotes: Option<&AnswerQuotes>,
    ) -> Result<ChatResponse, ModelError> {
        let grammar = match (quotes, self.structured_answer) {
            (Some(quotes), Some((answer, max_tokens))) => Some(
                grammar::answer_grammar(answer, max_tokens, Some(quotes)).map_err(|reason| {
                    ModelError::Rejected {
                        model: self.model.clone(),
                        reason,
                    }
                })?,
            ),
            _ => None,
        };
        let (reply, answer) = oneshot::channel();
        let request = Request {
            messages: messages.to_vec(),
            grammar,
            quotes: quotes.cloned(),
            reply,
        };
        let requests = self.requests.as_ref().ok_or_else(|| self.stopped())?;
        requests.send(request).map_err(|_| self.stopped())?;
        answer.await.map_err(|_| self.stopped())?
    }

    /// The model file's path.
    pub fn model(&self) -> &str {
        &self.model
    }

    fn stopped(&self) -> ModelError {
        ModelError::Engine {
            model: self.model.clone(),
            reason: "the engine thread stopped".into(),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// llama.cpp's process-wide initialisation (once; its logs go to `tracing`).
fn backend() -> Result<&'static LlamaBackend, ModelError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| ModelError::Engine {
            model: "llama.cpp".into(),
            reason: reason.clone(),
        })
}

fn load_model(path: &Path, params: &LlamaModelParams) -> Result<LlamaModel, ModelError> {
    LlamaModel::load_from_file(backend()?, path, params).map_err(|e| ModelError::Engine {
        model: path.display().to_string(),
        reason: format!("llama.cpp cannot load it ({e}); is it a GGUF model file?"),
    })
}

/// The engine thread's body: load, report readiness, then schedule until every
/// handle is gone.
fn run(
    path: PathBuf,
    mut config: DecodeConfig,
    options: super::EmbeddedOptions,
    inbox: mpsc::UnboundedReceiver<Request>,
    ready: std::sync::mpsc::Sender<Result<(), ModelError>>,
) {
    let params = LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers);
    let model = match load_model(&path, &params) {
        Ok(model) => model,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    let template = match ChatTemplate::for_model(&model, options.chat_template.as_ref()) {
        Ok(template) => template,
        Err(reason) => {
            let _ = ready.send(Err(ModelError::Engine {
                model: config.model.clone(),
                reason,
            }));
            return;
        }
    };
    if template.is_guess() {
        tracing::warn!(
            "{}: prompted in {} (if that is not its format, give --chat-template NAME|FILE)",
            config.model,
            template.origin()
        );
    }
    let trained = model.n_ctx_train().max(256);
    config.trained_context = trained;
    config.slot_context = match options.context_size {
        Some(asked) if asked > trained => {
            let _ = ready.send(Err(ModelError::Engine {
                model: config.model.clone(),
                reason: format!(
                    "--context-size {asked} is more than the {trained} tokens the model was trained on; give at most {trained}"
                ),
            }));
            return;
        }
        Some(asked) => asked,
        None => (PROMPT_ROOM + config.max_tokens).min(trained).div_ceil(256) * 256,
    }
    .min(trained);
    let threads = options.threads.unwrap_or_else(physical_cores).max(1) as i32;
    let total = config.slot_context * config.slots as u32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(total))
        .with_n_batch(BATCH_TOKENS)
        .with_n_ubatch(BATCH_TOKENS)
        .with_n_seq_max(config.slots as u32)
        .with_kv_unified(false)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let backend = match backend() {
        Ok(backend) => backend,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    let context = match model.new_context(backend, params) {
        Ok(context) => context,
        Err(e) => {
            let _ = ready.send(Err(ModelError::Engine {
                model: config.model.clone(),
                reason: format!(
                    "llama.cpp cannot make a context of {total} tokens ({e}); try a lower --concurrency, --context-size or --max-tokens"
                ),
            }));
            return;
        }
    };
    tracing::debug!(
        "embedded engine: {} sequences of {} tokens, {threads} threads",
        config.slots,
        config.slot_context
    );
    let _ = ready.send(Ok(()));
    Scheduler::new(&model, context, template, config).run(inbox);
}

/// The exact text the model at `path` sees for `messages` (its vocabulary and
/// template only; the weights are not loaded), and which template made it and why.
pub(super) fn render_prompt(
    path: &Path,
    asked: Option<&super::ChatTemplateChoice>,
    messages: &[Message],
) -> Result<(String, String), ModelError> {
    let params = LlamaModelParams::default().with_vocab_only(true);
    let model = load_model(path, &params)?;
    let engine_error = |reason: String| ModelError::Engine {
        model: path.display().to_string(),
        reason,
    };
    let template = ChatTemplate::for_model(&model, asked).map_err(engine_error)?;
    let text = template.render(&model, messages).map_err(engine_error)?;
    Ok((text, template.origin().to_string()))
}

/// A model's tokenizer alone (its vocabulary; the weights are not loaded), for
/// `tdg chunk --size-unit tokens --model MODEL`: chunks sized in the tokens of the
/// model they are meant for.
pub struct Vocabulary {
    model: LlamaModel,
}

impl Vocabulary {
    pub(super) fn load(path: &Path) -> Result<Self, ModelError> {
        let params = LlamaModelParams::default().with_vocab_only(true);
        Ok(Vocabulary {
            model: load_model(path, &params)?,
        })
    }

    /// How many tokens `text` is, without a beginning-of-sequence token, special
    /// tokens' names read as text.
    pub fn count(&self, text: &str) -> usize {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .len()
    }
}
