//! The model's chat template: the Jinja source in the GGUF metadata
//! (`tokenizer.chat_template`), rendered with minijinja (with Python string methods,
//! as Hugging Face renders it), so any model's template works; or the one
//! `--chat-template` names (a llama.cpp template name, or a Jinja file). A model that
//! carries none (base models' files often do not) is said so once and prompted in the
//! template of its kind, told by its special tokens or its architecture where
//! llama.cpp knows one, ChatML otherwise. A template minijinja cannot render falls
//! back to llama.cpp's built-in templates. [`ChatTemplate::origin`] says which was
//! used and why (`tdg prompt` shows it).

use std::fmt;

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use minijinja::{Environment, ErrorKind, context};

use super::ChatTemplateChoice;
use crate::chat::Message;

/// The template's name in the minijinja environment.
const NAME: &str = "chat";

/// Where the template a model is prompted with came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOrigin {
    /// The model's own (`tokenizer.chat_template` in its GGUF).
    Model,
    /// `--chat-template NAME`.
    AskedName(String),
    /// `--chat-template FILE`.
    AskedFile(String),
    /// The model carries none; llama.cpp's template `name`, told by `reason`.
    Guessed { name: &'static str, reason: String },
    /// The model carries none and nothing tells its kind: ChatML.
    Fallback { architecture: String },
}

impl fmt::Display for TemplateOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateOrigin::Model => write!(f, "the model's own"),
            TemplateOrigin::AskedName(name) => write!(f, "{name}, from --chat-template"),
            TemplateOrigin::AskedFile(path) => write!(f, "{path}, from --chat-template"),
            TemplateOrigin::Guessed { name, reason } => {
                write!(f, "{name}, by {reason}: the model carries no chat template")
            }
            TemplateOrigin::Fallback { architecture } => write!(
                f,
                "chatml: the model carries no chat template and llama.cpp knows none for its architecture ({architecture})"
            ),
        }
    }
}

/// How one model turns messages into its prompt text.
pub struct ChatTemplate {
    jinja: Option<Environment<'static>>,
    /// llama.cpp's built-in template to use (or fall back to) by name; `None` is the
    /// model's own as llama.cpp reads it.
    builtin: Option<String>,
    origin: TemplateOrigin,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    /// The template of `model`, or the one `asked` for, compiled once. An asked
    /// template that cannot be used is an error that names it.
    pub fn for_model(
        model: &LlamaModel,
        asked: Option<&ChatTemplateChoice>,
    ) -> Result<Self, String> {
        let vocab = model.vocab();
        let text = |token: LlamaToken| {
            String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned()
        };
        let (jinja, builtin, origin) = match asked {
            Some(ChatTemplateChoice::File { path, source }) => {
                let env = environment(source.clone()).map_err(|error| {
                    format!(
                        "the chat template {} does not compile: {error}",
                        path.display()
                    )
                })?;
                let origin = TemplateOrigin::AskedFile(path.display().to_string());
                (Some(env), None, origin)
            }
            Some(ChatTemplateChoice::Named(name)) => {
                known_builtin(model, name)?;
                (
                    None,
                    Some(name.clone()),
                    TemplateOrigin::AskedName(name.clone()),
                )
            }
            None => match model.meta_val_str("tokenizer.chat_template") {
                Ok(source) => match environment(source) {
                    Ok(env) => (Some(env), None, TemplateOrigin::Model),
                    Err(error) => {
                        tracing::warn!(
                            "the model's chat template does not compile ({error}); using llama.cpp's built-in template"
                        );
                        (None, None, TemplateOrigin::Model)
                    }
                },
                Err(_) => {
                    let origin = guess(model);
                    let name = match &origin {
                        TemplateOrigin::Guessed { name, .. } => name,
                        _ => "chatml",
                    };
                    (None, Some(name.to_string()), origin)
                }
            },
        };
        Ok(ChatTemplate {
            jinja,
            builtin,
            origin,
            bos_token: text(vocab.bos()),
            eos_token: text(vocab.eos()),
        })
    }

    /// Which template this is and why.
    pub fn origin(&self) -> &TemplateOrigin {
        &self.origin
    }

    /// Whether the model carries no template of its own and none was asked for: the
    /// one used is a guess, worth a warning.
    pub fn is_guess(&self) -> bool {
        matches!(
            self.origin,
            TemplateOrigin::Guessed { .. } | TemplateOrigin::Fallback { .. }
        )
    }

    /// The prompt text for `messages`, ending where the assistant's answer starts.
    pub fn render(&self, model: &LlamaModel, messages: &[Message]) -> Result<String, String> {
        if let Some(env) = &self.jinja {
            match self.render_jinja(env, messages) {
                Ok(text) => return Ok(text),
                Err(error) if matches!(self.origin, TemplateOrigin::AskedFile(_)) => {
                    return Err(format!("the chat template failed: {error:#}"));
                }
                Err(error) => tracing::warn!(
                    "the model's chat template failed ({error:#}); using llama.cpp's built-in template"
                ),
            }
        }
        builtin(model, self.builtin.as_deref(), messages)
    }

    fn render_jinja(
        &self,
        env: &Environment<'static>,
        messages: &[Message],
    ) -> Result<String, minijinja::Error> {
        env.get_template(NAME)?.render(context! {
            messages => minijinja::Value::from(minijinja::value::Serde(messages)),
            add_generation_prompt => true,
            bos_token => &self.bos_token,
            eos_token => &self.eos_token,
        })
    }
}

/// The template of a model that carries none: told by the special tokens of its
/// vocabulary (a chat format's turn markers), else by its architecture.
fn guess(model: &LlamaModel) -> TemplateOrigin {
    let architecture = model
        .meta_val_str("general.architecture")
        .unwrap_or_else(|_| "unknown".into());
    let vocab = model.vocab();
    let special = |piece: &str| {
        // One token when parsed as special text: the vocabulary has it as a marker.
        vocab.tokenize(piece.as_bytes(), false, true).len() == 1
    };
    /// Turn markers that only one chat format uses, and its llama.cpp name.
    const MARKERS: &[(&str, &str)] = &[
        ("<|start_header_id|>", "llama3"),
        ("<start_of_turn>", "gemma"),
        ("<|im_start|>", "chatml"),
        ("<|START_OF_TURN_TOKEN|>", "command-r"),
        ("[SYSTEM_PROMPT]", "mistral-v7"),
        ("[INST]", "mistral-v3"),
        ("<|assistant|>", "phi3"),
    ];
    if let Some((marker, name)) = MARKERS.iter().find(|(marker, _)| special(marker)) {
        return TemplateOrigin::Guessed {
            name,
            reason: format!("its special token {marker}"),
        };
    }
    let by_architecture = match architecture.as_str() {
        "llama" => Some("llama2"),
        "llama4" => Some("llama4"),
        a if a.starts_with("gemma") => Some("gemma"),
        a if a.starts_with("qwen") => Some("chatml"),
        "phi3" => Some("phi3"),
        "command-r" | "cohere2" => Some("command-r"),
        "deepseek2" => Some("deepseek2"),
        "exaone" => Some("exaone3"),
        "granite" | "granitemoe" => Some("granite"),
        "chatglm" => Some("chatglm4"),
        _ => None,
    };
    match by_architecture {
        Some(name) => TemplateOrigin::Guessed {
            name,
            reason: format!("its architecture ({architecture})"),
        },
        None => TemplateOrigin::Fallback { architecture },
    }
}

/// Checks that llama.cpp has a built-in template called `name`.
fn known_builtin(model: &LlamaModel, name: &str) -> Result<(), String> {
    let probe = [Message {
        role: "user".into(),
        content: "hello".into(),
    }];
    builtin(model, Some(name), &probe).map(|_| ()).map_err(|_| {
        format!(
            "llama.cpp knows no chat template named `{name}` (its names include chatml, llama2, llama3, llama4, gemma, mistral-v7, phi3, phi4, zephyr, command-r, deepseek3, granite); give one of them or a Jinja template file"
        )
    })
}

/// A minijinja environment like Hugging Face's for chat templates.
fn environment(source: String) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> Result<String, _> {
        Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
    });
    env.add_function("strftime_now", |format: String| {
        // A bad format must not panic (chrono's to_string would): it renders empty.
        use std::fmt::Write;
        let mut now = String::new();
        let _ = write!(now, "{}", chrono::Local::now().format(&format));
        now
    });
    env.add_template_owned(NAME, source)?;
    Ok(env)
}

/// llama.cpp's own rendering: the template called `name`, else the model's template
/// if llama.cpp recognises it, else ChatML.
fn builtin(model: &LlamaModel, name: Option<&str>, messages: &[Message]) -> Result<String, String> {
    let template = match name {
        Some(name) => LlamaChatTemplate::new(name),
        None => model
            .chat_template(None)
            .or_else(|_| LlamaChatTemplate::new("chatml")),
    }
    .map_err(|e| format!("no chat template: {e}"))?;
    let chat = messages
        .iter()
        .map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("a message cannot be passed to llama.cpp: {e}"))?;
    model
        .apply_chat_template(&template, &chat, true)
        .map_err(|e| format!("llama.cpp cannot apply the chat template: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, messages: &[Message]) -> String {
        let template = ChatTemplate {
            jinja: Some(environment(source.into()).unwrap()),
            builtin: None,
            origin: TemplateOrigin::Model,
            bos_token: "<s>".into(),
            eos_token: "</s>".into(),
        };
        template
            .render_jinja(template.jinja.as_ref().unwrap(), messages)
            .unwrap()
    }

    #[test]
    fn chatml_templates_render_with_python_methods() {
        let source = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'].strip() + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let messages = [
            Message {
                role: "system".into(),
                content: "Be brief. ".into(),
            },
            Message {
                role: "user".into(),
                content: "Hi".into(),
            },
        ];
        assert_eq!(
            render(source, &messages),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn templates_see_the_special_tokens() {
        let source =
            "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}";
        let messages = [Message {
            role: "user".into(),
            content: "Q".into(),
        }];
        assert_eq!(render(source, &messages), "<s>Q</s>");
    }
}
