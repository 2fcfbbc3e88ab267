//! The model's chat template: the Jinja source in the GGUF metadata
//! (`tokenizer.chat_template`), rendered with minijinja (with Python string methods,
//! as Hugging Face renders it), so any model's template works. A model without one,
//! or a template minijinja cannot render, falls back to llama.cpp's built-in
//! templates (which recognise the common ones, ChatML otherwise).

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use minijinja::{Environment, ErrorKind, context};

use crate::chat::Message;

/// The template's name in the minijinja environment.
const NAME: &str = "chat";

/// How one model turns messages into its prompt text.
pub struct ChatTemplate {
    jinja: Option<Environment<'static>>,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    /// The template of `model`, compiled once.
    pub fn from_model(model: &LlamaModel) -> Self {
        let vocab = model.vocab();
        let text = |token: LlamaToken| {
            String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned()
        };
        let jinja = model
            .meta_val_str("tokenizer.chat_template")
            .ok()
            .and_then(|source| match environment(source) {
                Ok(env) => Some(env),
                Err(error) => {
                    tracing::warn!(
                        "the model's chat template does not compile ({error}); using llama.cpp's built-in template"
                    );
                    None
                }
            });
        ChatTemplate {
            jinja,
            bos_token: text(vocab.bos()),
            eos_token: text(vocab.eos()),
        }
    }

    /// The prompt text for `messages`, ending where the assistant's answer starts.
    pub fn render(&self, model: &LlamaModel, messages: &[Message]) -> Result<String, String> {
        if let Some(env) = &self.jinja {
            match self.render_jinja(env, messages) {
                Ok(text) => return Ok(text),
                Err(error) => tracing::warn!(
                    "the model's chat template failed ({error:#}); using llama.cpp's built-in template"
                ),
            }
        }
        builtin(model, messages)
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

/// llama.cpp's own rendering: the model's template if llama.cpp recognises it,
/// else ChatML.
fn builtin(model: &LlamaModel, messages: &[Message]) -> Result<String, String> {
    let template = model
        .chat_template(None)
        .or_else(|_| LlamaChatTemplate::new("chatml"))
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
