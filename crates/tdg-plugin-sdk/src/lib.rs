//! Write [tdg](https://github.com/) plugins in Rust.
//!
//! tdg's prompt builder, answer parser and output formats are WebAssembly components
//! that fill the roles of a WIT contract. This crate holds that contract (the
//! `wit/v0.3` folder it is generated from) and turns it into one trait per role
//! ([`Prompt`], [`Parser`], [`Format`]) and one macro, [`export_plugin!`], that
//! exports a component's roles. A plugin is then only its logic:
//!
//! ```
//! use tdg_plugin_sdk::{Format, Options, PluginError, TrainingExample};
//!
//! struct Completions;
//!
//! impl Format for Completions {
//!     const NAME: &str = "completions";
//!     const DESCRIPTION: &str = "prompt/completion pairs";
//!     const FILE_SUFFIX: &str = "_completions";
//!     const OPTIONS: &[&str] = &["prefix=TEXT"];
//!
//!     fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
//!         let prompt = format!("{}{}", options.last("prefix").unwrap_or(""), example.question);
//!         Ok(serde_json::json!({ "prompt": prompt, "completion": example.answer }).to_string())
//!     }
//! }
//!
//! tdg_plugin_sdk::export_plugin!(format: Completions);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (the crate type is
//! `cdylib`); the `.wasm` file is the component.

mod bindings;
mod chat;
mod options;
mod roles;
pub mod text;

pub use bindings::format_plugin::exports::tdg::plugin::format::{
    FormatInfo, Provenance, ReasoningStyle, TrainingExample,
};
pub use bindings::loader_plugin::exports::tdg::plugin::loader::{
    DocumentPart, LoaderFormat, LoaderInfo,
};
pub use bindings::parser_plugin::exports::tdg::plugin::parser::{ParseError, ParseRequest};
pub use bindings::prompt_plugin::exports::tdg::plugin::prompt::PromptRequest;
pub use bindings::prompt_plugin::tdg::plugin::host::{
    LogLevel, TemplateError, log, render_template,
};
pub use bindings::prompt_plugin::tdg::plugin::types::{
    Chunk, Document, Example, KeyValue, Message, PluginError, QuestionCount, Settings, Task, Turn,
};
pub use chat::ChatTurn;
pub use options::{Options, unknown_option};
pub use roles::{Format, Loader, Parser, Prompt};

/// The contract package's name, as the WIT's `package` line spells it.
pub const CONTRACT_PACKAGE: &str = "tdg:plugin";
/// The version of the contract this SDK builds plugins for.
pub const CONTRACT_VERSION: &str = "0.3.0";
/// The contract itself, the WIT file plugins in other languages generate bindings
/// from (for example `componentize-py -d DIR`, after writing it to `DIR/tdg.wit`).
pub const WIT: &str = include_str!("../wit/v0.3/tdg.wit");
/// The question types tdg knows, as `--question-types` names them and a pair's
/// `question_type` spells them.
pub const QUESTION_TYPES: [&str; 4] = ["factual", "analytical", "explanatory", "inferential"];

impl PluginError {
    /// An error whose message the host shows to the user, after the plugin's name
    /// and role: say what went wrong and what to do.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl Example {
    /// A question and its answer: no type, no reasoning, no follow-ups.
    pub fn new(question: impl Into<String>, answer: impl Into<String>) -> Self {
        Self {
            question: question.into(),
            answer: answer.into(),
            question_type: None,
            reasoning: None,
            follow_ups: Vec::new(),
        }
    }

    /// Every exchange of the example in order: the first, then the follow-ups.
    pub fn exchanges(&self) -> impl Iterator<Item = (&str, &str)> {
        chat::exchanges(&self.question, &self.answer, &self.follow_ups)
    }
}

impl DocumentPart {
    /// A part with `text`, no page and no metadata.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            page: None,
            metadata: Vec::new(),
        }
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push(KeyValue {
            key: key.into(),
            value: value.into(),
        });
        self
    }
}

impl Message {
    /// A message with `role` (`system`, `user` or `assistant`) and `content`.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// What [`export_plugin!`] expands to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::{format_plugin, loader_plugin, parser_plugin, prompt_plugin};
    pub use crate::roles::{format_example, format_info, loader_info, loader_load};
}

/// Exports a component's roles, each implemented by a type: one of
///
/// ```ignore
/// tdg_plugin_sdk::export_plugin!(format: MyFormat);
/// tdg_plugin_sdk::export_plugin!(prompt: MyPrompt);
/// tdg_plugin_sdk::export_plugin!(parser: MyParser);
/// tdg_plugin_sdk::export_plugin!(prompt: MyPrompt, parser: MyParser);
/// tdg_plugin_sdk::export_plugin!(loader: MyLoader);
/// ```
///
/// Use it once, at the top of the plugin crate. The component then exports exactly
/// those roles, and `tdg plugins inspect` lists them.
#[macro_export]
macro_rules! export_plugin {
    (prompt: $prompt:ty, parser: $parser:ty $(,)?) => {
        $crate::export_plugin!(prompt: $prompt);
        $crate::export_plugin!(parser: $parser);
    };
    (parser: $parser:ty, prompt: $prompt:ty $(,)?) => {
        $crate::export_plugin!(prompt: $prompt);
        $crate::export_plugin!(parser: $parser);
    };
    (prompt: $prompt:ty $(,)?) => {
        const _: () = {
            struct __TdgPrompt;
            impl $crate::__private::prompt_plugin::exports::tdg::plugin::prompt::Guest
                for __TdgPrompt
            {
                fn build_prompt(
                    request: $crate::PromptRequest,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::Message>, $crate::PluginError>
                {
                    <$prompt as $crate::Prompt>::build_prompt(request)
                }
            }
            $crate::__private::prompt_plugin::__export_prompt_plugin!(
                __TdgPrompt with_types_in $crate::__private::prompt_plugin
            );
        };
    };
    (parser: $parser:ty $(,)?) => {
        const _: () = {
            struct __TdgParser;
            impl $crate::__private::parser_plugin::exports::tdg::plugin::parser::Guest
                for __TdgParser
            {
                fn parse(
                    response: ::std::string::String,
                    request: $crate::ParseRequest,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::Example>, $crate::ParseError>
                {
                    <$parser as $crate::Parser>::parse(response, request)
                }
            }
            $crate::__private::parser_plugin::__export_parser_plugin!(
                __TdgParser with_types_in $crate::__private::parser_plugin
            );
        };
    };
    (format: $format:ty $(,)?) => {
        const _: () = {
            struct __TdgFormat;
            impl $crate::__private::format_plugin::exports::tdg::plugin::format::Guest
                for __TdgFormat
            {
                fn info() -> $crate::FormatInfo {
                    $crate::__private::format_info::<$format>()
                }
                fn format_example(
                    example: $crate::TrainingExample,
                    options: ::std::vec::Vec<$crate::KeyValue>,
                ) -> ::core::result::Result<::std::string::String, $crate::PluginError> {
                    $crate::__private::format_example::<$format>(example, options)
                }
            }
            $crate::__private::format_plugin::__export_format_plugin!(
                __TdgFormat with_types_in $crate::__private::format_plugin
            );
        };
    };
    (loader: $loader:ty $(,)?) => {
        const _: () = {
            struct __TdgLoader;
            impl $crate::__private::loader_plugin::exports::tdg::plugin::loader::Guest
                for __TdgLoader
            {
                fn info() -> $crate::LoaderInfo {
                    $crate::__private::loader_info::<$loader>()
                }
                fn load(
                    file_name: ::std::string::String,
                    bytes: ::std::vec::Vec<u8>,
                    options: ::std::vec::Vec<$crate::KeyValue>,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::DocumentPart>, $crate::PluginError>
                {
                    $crate::__private::loader_load::<$loader>(file_name, bytes, options)
                }
            }
            $crate::__private::loader_plugin::__export_loader_plugin!(
                __TdgLoader with_types_in $crate::__private::loader_plugin
            );
        };
    };
}
