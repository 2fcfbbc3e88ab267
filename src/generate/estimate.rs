//! `tdg generate --dry-run`: what a run would cost, without calling a model.
//!
//! Every ready chunk file is read and every prompt built (through the prompt plugin,
//! so custom templates count), to count documents, chunks and input tokens; output
//! tokens are estimated from the pairs asked for. Tokens are estimated at four
//! characters each, the usual rule of thumb for English text.

use crate::chunks;
use crate::generate::settings::GenerateSettings;
use crate::plugin::PluginHost;
use crate::prompt::PromptBuilder;

/// Characters per token, for estimates.
const CHARS_PER_TOKEN: f64 = 4.0;
/// Tokens of output per question-answer pair asked for, for estimates.
pub const TOKENS_PER_PAIR: u64 = 80;

/// What a run would do.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Estimate {
    pub documents: usize,
    pub chunks: u64,
    /// Chunks with empty text, which are not sent.
    pub empty_chunks: u64,
    /// Files that are not ready or cannot be read, with why.
    pub skipped_files: Vec<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// In US dollars, when prices are given.
    pub cost: Option<f64>,
}

/// Estimates a run of `settings` without calling a model.
pub fn estimate(settings: &GenerateSettings, host: &PluginHost) -> anyhow::Result<Estimate> {
    let prompt = PromptBuilder::new(
        host.prompt_plugin(&settings.prompt.prompt_plugin)?,
        &settings.prompt,
        settings.model.quote_answers,
    );
    let files = chunks::list_chunk_files(&settings.chunks_dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", settings.chunks_dir.display()))?;
    let per_answer = (u64::from(settings.prompt.questions_per_chunk) * TOKENS_PER_PAIR)
        .min(u64::from(settings.model.max_tokens));
    let mut estimate = Estimate::default();
    for path in files {
        let file = match chunks::load_chunk_file(&path) {
            Ok(file) => file,
            Err(error) => {
                estimate.skipped_files.push(error.to_string());
                continue;
            }
        };
        estimate.documents += 1;
        for chunk in &file.chunks {
            // Under --shard, only the chunks this shard will ask about.
            if settings
                .shard
                .is_some_and(|shard| !shard.holds_chunk(&file.stem, chunk))
            {
                continue;
            }
            if chunk.text.trim().is_empty() {
                estimate.empty_chunks += 1;
                continue;
            }
            let messages = prompt.build(&file, chunk)?;
            let chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
            estimate.chunks += 1;
            estimate.tokens_in += (chars as f64 / CHARS_PER_TOKEN).ceil() as u64;
            estimate.tokens_out += per_answer;
        }
    }
    estimate.cost = settings.cost.cost(estimate.tokens_in, estimate.tokens_out);
    Ok(estimate)
}

/// The estimate in words.
pub fn render(estimate: &Estimate, settings: &GenerateSettings) -> String {
    let mut out = format!(
        "dry run{}: {} documents, {} chunks to ask about ({} empty chunks skipped)\n\
         estimated tokens: {} in, {} out ({} questions per chunk, about {TOKENS_PER_PAIR} tokens each)\n",
        settings
            .shard
            .map(|shard| format!(" of shard {shard}"))
            .unwrap_or_default(),
        estimate.documents,
        estimate.chunks,
        estimate.empty_chunks,
        estimate.tokens_in,
        estimate.tokens_out,
        settings.prompt.questions_per_chunk,
    );
    match estimate.cost {
        Some(cost) => out.push_str(&format!(
            "estimated cost: ${cost:.4} (at ${} in / ${} out per million tokens{})\n",
            settings.cost.price_in.unwrap_or(0.0),
            settings.cost.price_out.unwrap_or(0.0),
            if settings.cost.batch {
                ", half that through the batch API"
            } else {
                ""
            }
        )),
        None => out.push_str(
            "estimated cost: give --price-in and --price-out (US dollars per million tokens)\n",
        ),
    }
    for skipped in &estimate.skipped_files {
        out.push_str(&format!("skipped: {skipped}\n"));
    }
    out
}
