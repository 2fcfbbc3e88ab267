//! The `default-prompt` plugin: tdg's built-in prompt builder and answer parser.
//!
//! - *prompt*: renders `templates/qa_prompt.jinja` (or the user's template) through
//!   the host's minijinja, with the chunk, its document, and the user's settings.
//! - *parser*: recovers question/answer pairs from what real models send (see
//!   [`parse`]), each with the question type the model labelled it with when that is
//!   a type asked for (see [`question_type`]).

mod parse;
mod prompt;
mod question_type;

struct DefaultPrompt;

tdg_plugin_sdk::export_plugin!(prompt: DefaultPrompt, parser: DefaultPrompt);
