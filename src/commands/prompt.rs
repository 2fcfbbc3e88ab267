//! `tdg prompt`: the exact messages `generate` would send for one chunk, built with
//! the current template, variables and settings; no model is called.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::PromptArgs;
use tdg::plugin::PluginHost;
use tdg::prompt::PromptBuilder;

use super::{env_var, working_dir};

pub fn run(host: &PluginHost, args: PromptArgs) -> Result<ExitCode> {
    let settings = args
        .generate
        .with_config_file(&working_dir()?)?
        .resolve_for_preview(env_var)?;
    let builder = PromptBuilder::new(
        host.prompt_plugin(&settings.prompt.prompt_plugin)?,
        &settings.prompt,
        settings.model.quote_answers,
    );
    let preview = tdg::prompt::preview(
        &builder,
        &settings.chunks_dir,
        args.file.as_deref(),
        args.chunk,
    )?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&preview.messages)?);
    } else {
        out!("{}", tdg::prompt::render_preview(&preview));
        if settings.model.provider == tdg::provider::settings::ProviderKind::Embedded {
            // The embedded model sees its chat template's rendering, not the messages.
            let model = &settings.model;
            match tdg::provider::embedded::render_prompt(
                &model.model,
                &model.embedded,
                &preview.messages,
            ) {
                Ok((text, template)) => {
                    out!("\n## text the model sees (after its chat template: {template})\n{text}\n")
                }
                // A template the user named must work: say so and fail.
                Err(error) if model.embedded.chat_template.is_some() => return Err(error.into()),
                Err(error) => tracing::warn!("cannot show the text the model sees: {error}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
