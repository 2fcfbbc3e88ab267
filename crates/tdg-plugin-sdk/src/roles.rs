//! One trait per role of the contract. A plugin implements the traits of the roles
//! it fills and names them in [`export_plugin!`](crate::export_plugin); the
//! functions at the bottom are what that macro's format export calls, so the
//! option check every format gets lives here, once.

use crate::{
    DocumentPart, Example, FormatInfo, LoaderFormat, LoaderInfo, Message, Options, ParseError,
    ParseRequest, PluginError, PromptRequest, TrainingExample,
};

/// The prompt role: builds the chat messages sent to the model for one chunk.
pub trait Prompt {
    /// Returns the messages to send, in order (usually one `system` and one
    /// `user`). [`render_template`](crate::render_template) renders minijinja
    /// templates in the host.
    fn build_prompt(request: PromptRequest) -> Result<Vec<Message>, PluginError>;
}

/// The parser role: turns a model's raw answer into examples.
pub trait Parser {
    /// Parses the model's answer. `request.expected` is how many examples were asked
    /// for, a hint. Return questions and answers trimmed and non-empty; the text of a
    /// [`ParseError`] is sent back to the model when tdg asks again.
    ///
    /// `request.question_types` are the names of the question types asked for (empty
    /// when no mix was asked). Give an example the `question_type` the model labelled
    /// it with, lower-case, when it is one of them (or, with none asked, one of
    /// [`QUESTION_TYPES`](crate::QUESTION_TYPES)); else none. Never refuse an example
    /// over its type.
    ///
    /// With [`Task::Reasoning`](crate::Task), give each example its `reasoning`: from
    /// a `<think>...</think>` block before the answer (where the host also puts a
    /// trace the provider returned apart), or from the answer's own fields. With
    /// [`Task::Conversation`](crate::Task), give it its `follow_ups`.
    fn parse(response: String, request: ParseRequest) -> Result<Vec<Example>, ParseError>;
}

/// The format role: turns one training example into one record of a training file.
pub trait Format {
    /// The plugin's name, as users write it after `--format`; used in messages.
    const NAME: &'static str;
    /// A one-line description, for `tdg plugins`.
    const DESCRIPTION: &'static str;
    /// What is appended to a Q&A file's stem, for example `_trainingdata`.
    const FILE_SUFFIX: &'static str;
    /// The file extension without a dot.
    const EXTENSION: &'static str = "jsonl";
    /// Whether a record holds every turn of a conversation (since contract 0.3);
    /// when not, tdg says once that only each conversation's first exchange is
    /// written.
    const WRITES_TURNS: bool = false;
    /// The `--format-opt` forms this format takes, as shown to users: `KEY` or
    /// `KEY=VALUE` (for example `system=TEXT`). Any other key is refused with the
    /// standard [`unknown_option`](crate::unknown_option) error before
    /// [`format_example`](Format::format_example) is called.
    const OPTIONS: &'static [&'static str] = &[];

    /// Turns one example into one record: a JSON value, as text, which the host
    /// writes as one line of a JSON Lines file.
    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError>;
}

/// The loader role (since contract 0.2.1): reads one document's bytes into text, for
/// `tdg chunk`.
pub trait Loader {
    /// A one-line description, for `tdg plugins`.
    const DESCRIPTION: &'static str;
    /// The formats it reads: each a name, lower-case, as users give it to `--format`
    /// (`pdf`), and the extensions it claims, lower-case and without a dot.
    const FORMATS: &'static [(&'static str, &'static [&'static str])];

    /// Reads one document. Return one part for most formats, one per page (with its
    /// 1-based `page`) for paged ones; headings as Markdown headings and tables as
    /// Markdown tables where the format gives them. `options` are the host's reading
    /// options (`html-full=true`); ignore keys you do not know.
    fn load(
        file_name: String,
        bytes: Vec<u8>,
        options: &Options,
    ) -> Result<Vec<DocumentPart>, PluginError>;
}

#[doc(hidden)]
pub fn loader_info<L: Loader>() -> LoaderInfo {
    LoaderInfo {
        description: L::DESCRIPTION.into(),
        formats: L::FORMATS
            .iter()
            .map(|(name, extensions)| LoaderFormat {
                name: (*name).into(),
                extensions: extensions.iter().map(|e| (*e).into()).collect(),
            })
            .collect(),
    }
}

#[doc(hidden)]
pub fn loader_load<L: Loader>(
    file_name: String,
    bytes: Vec<u8>,
    options: Vec<crate::KeyValue>,
) -> Result<Vec<DocumentPart>, PluginError> {
    L::load(file_name, bytes, &Options::new(options))
}

#[doc(hidden)]
pub fn format_info<F: Format>() -> FormatInfo {
    FormatInfo {
        description: F::DESCRIPTION.into(),
        file_suffix: F::FILE_SUFFIX.into(),
        extension: F::EXTENSION.into(),
        writes_turns: F::WRITES_TURNS,
    }
}

#[doc(hidden)]
pub fn format_example<F: Format>(
    example: TrainingExample,
    options: Vec<crate::KeyValue>,
) -> Result<String, PluginError> {
    let options = Options::new(options);
    options.check(F::NAME, F::OPTIONS)?;
    F::format_example(example, &options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyValue;

    /// Echoes the question after the last `prefix=` option.
    struct Prefixed;

    impl Format for Prefixed {
        const NAME: &'static str = "prefixed";
        const DESCRIPTION: &'static str = "the question, prefixed";
        const FILE_SUFFIX: &'static str = "_prefixed";
        const OPTIONS: &'static [&'static str] = &["prefix=TEXT"];

        fn format_example(
            example: TrainingExample,
            options: &Options,
        ) -> Result<String, PluginError> {
            Ok(format!(
                "{}{}",
                options.last("prefix").unwrap_or(""),
                example.question
            ))
        }
    }

    fn example() -> TrainingExample {
        TrainingExample {
            source_text: "text".into(),
            ..crate::chat::test_example("Q?", "A.")
        }
    }

    fn option(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn info_comes_from_the_constants_with_jsonl_by_default() {
        let info = format_info::<Prefixed>();
        assert_eq!(info.description, "the question, prefixed");
        assert_eq!(info.file_suffix, "_prefixed");
        assert_eq!(info.extension, "jsonl");
    }

    #[test]
    fn known_options_reach_the_format() {
        let options = vec![option("prefix", "1: "), option("prefix", "2: ")];
        assert_eq!(
            format_example::<Prefixed>(example(), options).unwrap(),
            "2: Q?"
        );
    }

    #[test]
    fn an_unknown_option_is_refused_before_the_format_runs() {
        let options = vec![option("prefix", "1: "), option("prefx", "2: ")];
        let error = format_example::<Prefixed>(example(), options).unwrap_err();
        assert_eq!(
            error.message,
            "unknown option `prefx`; the prefixed format accepts `prefix=TEXT`"
        );
    }
}
