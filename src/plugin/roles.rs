//! The four plugin roles and a typed handle for each: [`PromptPlugin`],
//! [`ParserPlugin`], [`FormatPlugin`] and [`LoaderPlugin`]. A handle is only made for a component that
//! exports the role's interface with the contract's types.

use wasmtime::component::InstancePre;

use super::bindings::{format, loader, parser, prompt, types};
use super::sandbox::PluginState;
use super::{CONTRACT_PACKAGE, LoadedPlugin, PluginError};

/// A job a plugin can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Builds the chat messages for a chunk.
    Prompt,
    /// Turns a model's answer into question/answer pairs.
    Parser,
    /// Turns a training example into an output record.
    Format,
    /// Reads a document's bytes into text, for `tdg chunk` (since contract 0.2.1).
    Loader,
}

impl Role {
    /// Every role, in the order of the flow.
    pub const ALL: [Role; 4] = [Role::Loader, Role::Prompt, Role::Parser, Role::Format];

    /// The role's name, as in the WIT interface.
    pub fn name(self) -> &'static str {
        match self {
            Role::Prompt => "prompt",
            Role::Parser => "parser",
            Role::Format => "format",
            Role::Loader => "loader",
        }
    }

    /// The export a component needs to fill this role.
    pub fn interface_name(self) -> String {
        format!(
            "{CONTRACT_PACKAGE}/{}@{}",
            self.name(),
            super::CONTRACT_VERSION
        )
    }

    /// The WIT world a plugin targets to fill this role.
    pub fn world_name(self) -> String {
        format!("{}-plugin", self.name())
    }

    pub(crate) fn is_filled_by(self, pre: &InstancePre<PluginState>) -> bool {
        match self {
            Role::Prompt => prompt::GuestIndices::new(pre).is_ok(),
            Role::Parser => parser::GuestIndices::new(pre).is_ok(),
            Role::Format => format::GuestIndices::new(pre).is_ok(),
            Role::Loader => loader::GuestIndices::new(pre).is_ok(),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Finds a role's exports in `plugin`, and checks their types with one trial
/// instantiation, so that a wrong plugin is rejected when it is loaded.
fn check_role<I>(
    plugin: &LoadedPlugin,
    role: Role,
    indices: impl FnOnce(&InstancePre<PluginState>) -> wasmtime::Result<I>,
    typecheck: impl FnOnce(
        &I,
        &mut wasmtime::Store<PluginState>,
        &wasmtime::component::Instance,
    ) -> wasmtime::Result<()>,
) -> Result<I, PluginError> {
    let indices = indices(&plugin.pre).map_err(|_| PluginError::MissingRole {
        name: plugin.name.clone(),
        role,
        exports: plugin.exports.clone(),
    })?;
    let mut shape_error = None;
    plugin.call(role, |store, instance| {
        if let Err(error) = typecheck(&indices, store, instance) {
            shape_error = Some(format!("{error:#}"));
        }
        Ok(())
    })?;
    match shape_error {
        Some(message) => Err(PluginError::WrongShape {
            name: plugin.name.clone(),
            role,
            message,
        }),
        None => Ok(indices),
    }
}

/// A plugin that fills the prompt role.
pub struct PromptPlugin {
    plugin: LoadedPlugin,
    indices: prompt::GuestIndices,
}

impl PromptPlugin {
    pub(crate) fn new(plugin: LoadedPlugin) -> Result<Self, PluginError> {
        let indices = check_role(
            &plugin,
            Role::Prompt,
            prompt::GuestIndices::new,
            |indices, store, instance| indices.load(store, instance).map(drop),
        )?;
        Ok(PromptPlugin { plugin, indices })
    }

    /// The plugin's name in messages.
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// Builds the messages for one chunk.
    pub fn build_prompt(
        &self,
        request: &prompt::PromptRequest,
    ) -> Result<Vec<types::Message>, PluginError> {
        let result = self.plugin.call(Role::Prompt, |store, instance| {
            self.indices
                .load(&mut *store, instance)?
                .call_build_prompt(&mut *store, request)
        })?;
        result.map_err(|error| PluginError::Reported {
            name: self.plugin.name.clone(),
            role: Role::Prompt,
            message: error.message,
        })
    }
}

/// A plugin that fills the parser role.
pub struct ParserPlugin {
    plugin: LoadedPlugin,
    indices: parser::GuestIndices,
}

impl ParserPlugin {
    pub(crate) fn new(plugin: LoadedPlugin) -> Result<Self, PluginError> {
        let indices = check_role(
            &plugin,
            Role::Parser,
            parser::GuestIndices::new,
            |indices, store, instance| indices.load(store, instance).map(drop),
        )?;
        Ok(ParserPlugin { plugin, indices })
    }

    /// The plugin's name in messages.
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// Parses one model answer to a prompt that asked for `asked`. The outer error is
    /// the plugin failing; the inner one is the plugin's verdict that the answer holds
    /// no examples. What a parser returns is held to the task: reasoning only for
    /// `reasoning`, follow-ups only for `conversation`, types only as asked.
    pub fn parse(
        &self,
        response: &str,
        asked: &crate::task::Asked,
    ) -> Result<Result<Vec<types::Example>, parser::ParseError>, PluginError> {
        let request = parser::ParseRequest {
            expected: asked.examples,
            question_types: asked.question_types.clone(),
            task: asked.task.into(),
            turns: asked.turns,
        };
        let parsed = self.plugin.call(Role::Parser, |store, instance| {
            self.indices
                .load(&mut *store, instance)?
                .call_parse(&mut *store, response, &request)
        })?;
        Ok(parsed.map(|examples| {
            examples
                .into_iter()
                .map(|example| held_to(example, asked))
                .collect()
        }))
    }
}

/// `example` as the host keeps it for `asked`: its type checked, its reasoning
/// trimmed and kept only for the `reasoning` task, its follow-ups (trimmed, up to the
/// first with an empty side) only for `conversation`.
fn held_to(example: types::Example, asked: &crate::task::Asked) -> types::Example {
    use crate::task::Task;
    let reasoning = match asked.task {
        Task::Reasoning => example
            .reasoning
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty()),
        Task::Qa | Task::Conversation => None,
    };
    let follow_ups = match asked.task {
        Task::Conversation => example
            .follow_ups
            .into_iter()
            .map(|turn| types::Turn {
                question: turn.question.trim().to_string(),
                answer: turn.answer.trim().to_string(),
            })
            .take_while(|turn| !turn.question.is_empty() && !turn.answer.is_empty())
            .collect(),
        Task::Qa | Task::Reasoning => Vec::new(),
    };
    types::Example {
        question_type: checked_type(example.question_type, &asked.question_types),
        reasoning,
        follow_ups,
        ..example
    }
}

/// A pair's type as a parser returned it, lower-case, if it is one of the types asked
/// (or, when none were, one tdg knows): what a third-party parser returns is checked,
/// as the built-in checks what the model wrote. Anything else leaves the pair
/// unlabelled.
fn checked_type(label: Option<String>, asked: &[String]) -> Option<String> {
    let label = label?.trim().to_lowercase();
    let allowed = if asked.is_empty() {
        crate::question_types::QUESTION_TYPES.contains(&label.as_str())
    } else {
        asked.contains(&label)
    };
    allowed.then_some(label)
}

/// A plugin that fills the format role.
pub struct FormatPlugin {
    plugin: LoadedPlugin,
    indices: format::GuestIndices,
    info: format::FormatInfo,
}

impl FormatPlugin {
    pub(crate) fn new(plugin: LoadedPlugin) -> Result<Self, PluginError> {
        let indices = check_role(
            &plugin,
            Role::Format,
            format::GuestIndices::new,
            |indices, store, instance| indices.load(store, instance).map(drop),
        )?;
        let info = plugin.call(Role::Format, |store, instance| {
            indices.load(&mut *store, instance)?.call_info(&mut *store)
        })?;
        Ok(FormatPlugin {
            plugin,
            indices,
            info,
        })
    }

    /// The plugin's name in messages.
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// How the format names its files, and what it is.
    pub fn info(&self) -> &format::FormatInfo {
        &self.info
    }

    /// Turns one example into one record, checked to be JSON.
    pub fn format_example(
        &self,
        example: &format::TrainingExample,
        options: &[types::KeyValue],
    ) -> Result<serde_json::Value, PluginError> {
        let result = self.plugin.call(Role::Format, |store, instance| {
            self.indices
                .load(&mut *store, instance)?
                .call_format_example(&mut *store, example, options)
        })?;
        let text = result.map_err(|error| PluginError::Reported {
            name: self.plugin.name.clone(),
            role: Role::Format,
            message: error.message,
        })?;
        serde_json::from_str(&text).map_err(|e| PluginError::BadOutput {
            name: self.plugin.name.clone(),
            role: Role::Format,
            what: "a record",
            message: e.to_string(),
        })
    }
}

/// A plugin that fills the loader role. Its calls run under the loader limits
/// ([`PluginLimits::for_loaders`](super::PluginLimits::for_loaders)): a document is
/// larger than a chunk.
pub struct LoaderPlugin {
    plugin: LoadedPlugin,
    indices: loader::GuestIndices,
    info: loader::LoaderInfo,
}

impl LoaderPlugin {
    pub(crate) fn new(plugin: LoadedPlugin) -> Result<Self, PluginError> {
        let indices = check_role(
            &plugin,
            Role::Loader,
            loader::GuestIndices::new,
            |indices, store, instance| indices.load(store, instance).map(drop),
        )?;
        let limits = plugin.host.limits().for_loaders();
        let info = plugin.call_within(Role::Loader, limits, |store, instance| {
            indices.load(&mut *store, instance)?.call_info(&mut *store)
        })?;
        Ok(LoaderPlugin {
            plugin,
            indices,
            info,
        })
    }

    /// The plugin's name in messages.
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// What the loader reads.
    pub fn info(&self) -> &loader::LoaderInfo {
        &self.info
    }

    /// Reads one document into its parts.
    pub fn load(
        &self,
        file_name: &str,
        bytes: &[u8],
        options: &[types::KeyValue],
    ) -> Result<Vec<loader::DocumentPart>, PluginError> {
        let limits = self.plugin.host.limits().for_loaders();
        let result = self
            .plugin
            .call_within(Role::Loader, limits, |store, instance| {
                self.indices.load(&mut *store, instance)?.call_load(
                    &mut *store,
                    file_name,
                    bytes,
                    options,
                )
            })?;
        result.map_err(|error| PluginError::Reported {
            name: self.plugin.name.clone(),
            role: Role::Loader,
            message: error.message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parser_s_type_is_kept_only_when_asked_or_known() {
        let mix = vec!["factual".to_string()];
        assert_eq!(
            checked_type(Some(" Factual".into()), &mix),
            Some("factual".into())
        );
        assert_eq!(checked_type(Some("inferential".into()), &mix), None);
        assert_eq!(
            checked_type(Some("inferential".into()), &[]),
            Some("inferential".into())
        );
        assert_eq!(checked_type(Some("trivia".into()), &[]), None);
        assert_eq!(checked_type(None, &[]), None);
    }
}
