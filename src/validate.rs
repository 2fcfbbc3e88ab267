//! `tdg validate`: an LLM judge scores each pair against its source text.
//!
//! For every pair a Q&A file keeps, the judge model scores factual accuracy,
//! completeness and consistency, each 0 to 10; the overall score is
//! 0.5·accuracy + 0.3·completeness + 0.2·consistency, and a pair passes at 8.
//!
//! - It uses the same client as `generate`: concurrency, the adaptive throttle and
//!   retries. Each judgment is recorded in the checkpoint as it arrives, so a second
//!   run judges only what has no score yet (exact resume).
//! - A judgment that cannot be read is asked again (`--parse-retries`), and if it still
//!   cannot be read it is recorded as a failure, with the raw answer: never a default
//!   score.
//! - `--min-score` drops pairs below it from the Q&A files; they stay in the checkpoint.
//! - Q&A files the checkpoint does not know (the original tool's) are imported first,
//!   as `generate --resume` imports them, so their pairs are judged and counted.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::chat::Message;
use crate::checkpoint::{
    Access, CheckpointStore, JudgeScores, Judgment, PairToJudge, RunRecord, StoreError,
};
use crate::outputs::qa_files::{self, ViewError};
use crate::provider::settings::ModelSettings;
use crate::provider::{ModelClient, ModelError};

const JUDGE_SYSTEM: &str = "You are a strict fact-checker for question-answer training data. You compare an answer \
with its source text and score it honestly.";

/// How a validation runs.
#[derive(Debug, Clone)]
pub struct ValidateSettings {
    pub qa_dir: PathBuf,
    pub model: ModelSettings,
    pub concurrency: usize,
    /// How often an unreadable judgment is asked for again.
    pub parse_retries: u32,
    /// Drop pairs scored below this from the Q&A files.
    pub min_score: Option<f64>,
    /// Judge every pair again, even those with a score.
    pub rejudge: bool,
}

/// What a validation did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ValidateReport {
    /// Pairs judged in this run, with a score.
    pub judged: u64,
    /// Of those, the ones that pass.
    pub passed: u64,
    /// Judgments that could not be read.
    pub failed: u64,
    /// Pairs judged by an earlier run and not asked again.
    pub already_judged: u64,
    /// All scored pairs in the checkpoint, and how many pass.
    pub total_scored: u64,
    pub total_passed: u64,
    pub interrupted: bool,
}

/// Why a validation cannot run or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("{} holds no tdg checkpoint and no *_qa.json files: validate judges the pairs of a run", .0.display())]
    NoCheckpoint(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    View(#[from] ViewError),
    #[error("the validation stopped: {0}")]
    Model(ModelError),
}

impl ValidateError {
    /// Whether running the validation again may help: as the judge's model error
    /// says, or a checkpoint that could not be written.
    pub fn retry(&self) -> crate::failure::Retry {
        use crate::failure::Retry;
        match self {
            ValidateError::NoCheckpoint(_) => Retry::Futile,
            ValidateError::Store(error) => error.retry(),
            ValidateError::View(_) => Retry::Helps,
            ValidateError::Model(error) => error.retry(),
        }
    }
}

/// The stored settings of the run in `qa_dir` (provider, model, base URLs), for
/// judging with the same model by default.
pub fn run_settings(qa_dir: &Path) -> Option<RunRecord> {
    let store = CheckpointStore::open_existing(qa_dir, Access::ReadOnly).ok()?;
    store.latest_run_record().ok().flatten()
}

/// The checkpoint of `qa_dir`, with the Q&A files it does not know imported. A
/// directory with neither is an error, and no checkpoint is created there.
fn open_with_imports(qa_dir: &Path) -> Result<CheckpointStore, ValidateError> {
    let mut store = match CheckpointStore::open_existing(qa_dir, Access::ReadWrite) {
        Ok(store) => store,
        Err(StoreError::NoCheckpoint { .. }) => {
            let has_qa_files =
                crate::qa_file::list_qa_files(qa_dir).is_ok_and(|files| !files.is_empty());
            if !has_qa_files {
                return Err(ValidateError::NoCheckpoint(qa_dir.to_path_buf()));
            }
            CheckpointStore::open(qa_dir)?
        }
        Err(error) => return Err(error.into()),
    };
    let (documents, pairs) =
        crate::checkpoint::original_import::import_qa_files(&mut store, qa_dir)?;
    if documents > 0 {
        tracing::info!(
            "imported {pairs} pairs of {documents} Q&A files the checkpoint did not know (the original tool's)"
        );
    }
    Ok(store)
}

/// Judges the pairs of `settings.qa_dir`.
pub async fn validate(
    settings: &ValidateSettings,
    cancel: CancellationToken,
) -> Result<ValidateReport, ValidateError> {
    let store = open_with_imports(&settings.qa_dir)?;
    let all = store.pairs_to_judge()?;
    let judged = if settings.rejudge {
        Default::default()
    } else {
        store.judged_pairs()?
    };
    let (done, todo): (Vec<PairToJudge>, Vec<PairToJudge>) = all.into_iter().partition(|pair| {
        judged.contains(&(pair.stem.clone(), pair.position, pair.question.clone()))
    });
    let mut report = ValidateReport {
        already_judged: done.len() as u64,
        ..Default::default()
    };
    let client = ModelClient::new(settings.model.clone(), settings.concurrency)
        .map_err(ValidateError::Model)?;
    tracing::info!(
        "judging {} pairs with {} model {} ({} judged before)",
        todo.len(),
        settings.model.provider,
        settings.model.model,
        done.len()
    );

    let store = Mutex::new(store);
    let mut stop = None;
    let mut judgments = futures_util::stream::iter(todo)
        .map(|pair| {
            let client = &client;
            let cancel = &cancel;
            async move {
                tokio::select! {
                    _ = cancel.cancelled() => None,
                    judgment = judge(client, pair, settings.parse_retries) => Some(judgment),
                }
            }
        })
        .buffer_unordered(settings.concurrency.max(1));
    while let Some(result) = judgments.next().await {
        match result {
            None => report.interrupted = true,
            Some(Err(error)) => {
                cancel.cancel();
                stop.get_or_insert(error);
            }
            Some(Ok(judgment)) => {
                match judgment.scores {
                    Some(scores) => {
                        report.judged += 1;
                        if scores.overall() >= crate::quality::JUDGE_PASS {
                            report.passed += 1;
                        }
                    }
                    None => {
                        report.failed += 1;
                        tracing::warn!(
                            "{} chunk {}: the judgment could not be read: {}",
                            judgment.stem,
                            judgment.position,
                            judgment.error.as_deref().unwrap_or("no scores")
                        );
                    }
                }
                let store = store.lock().unwrap_or_else(|p| p.into_inner());
                store.record_judgment(&judgment)?;
            }
        }
    }
    drop(judgments);
    let store = store.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(min) = settings.min_score {
        let mut filter = store.quality_filter();
        filter.min_judge_score = Some(min);
        store.set_quality_filter(&filter)?;
    }
    qa_files::rewrite_all(&store, &settings.qa_dir)?;
    let (scored, passed, _) = store.judge_figures()?;
    report.total_scored = scored;
    report.total_passed = passed;
    if let Some(error) = stop {
        return Err(ValidateError::Model(error));
    }
    Ok(report)
}

/// Asks the judge about one pair: scores, or a recorded failure to read them. Only
/// an error that stops the run (a refused key, a dead server) is an `Err`.
async fn judge(
    client: &ModelClient,
    pair: PairToJudge,
    parse_retries: u32,
) -> Result<Judgment, ModelError> {
    let mut messages = vec![
        Message {
            role: "system".into(),
            content: JUDGE_SYSTEM.into(),
        },
        Message {
            role: "user".into(),
            content: judge_prompt(&pair),
        },
    ];
    let mut judgment = Judgment {
        stem: pair.stem,
        position: pair.position,
        question: pair.question,
        scores: None,
        raw_response: None,
        error: None,
    };
    for _ in 0..=parse_retries {
        let response = match client.chat(&messages).await {
            Ok(response) => response,
            Err(error) if error.stops_run() => return Err(error),
            Err(error) => {
                judgment.error = Some(error.to_string());
                return Ok(judgment);
            }
        };
        judgment.raw_response = Some(response.text.clone());
        match read_scores(&response.text) {
            Ok(scores) => {
                judgment.scores = Some(scores);
                judgment.error = None;
                return Ok(judgment);
            }
            Err(reason) => {
                judgment.error = Some(reason.clone());
                messages.push(Message {
                    role: "assistant".into(),
                    content: response.text,
                });
                messages.push(Message {
                    role: "user".into(),
                    content: format!("{reason} Reply with only the JSON object with \"accuracy\", \"completeness\" and \"consistency\" from 0 to 10."),
                });
            }
        }
    }
    Ok(judgment)
}

fn judge_prompt(pair: &PairToJudge) -> String {
    format!(
        "Source text:\n\"\"\"\n{}\n\"\"\"\n\nQuestion: {}\nAnswer: {}\n\n\
         Score the answer against the source text, each from 0 to 10:\n\
         - accuracy: is every claim in the answer supported by the source text?\n\
         - completeness: does the answer fully answer the question?\n\
         - consistency: does the answer agree with itself and with the source text?\n\n\
         Respond with only JSON: {{\"accuracy\": N, \"completeness\": N, \"consistency\": N, \"explanation\": \"...\"}}",
        pair.source_text, pair.question, pair.answer
    )
}

/// The three scores of a judgment, or why they cannot be read.
pub fn read_scores(text: &str) -> Result<JudgeScores, String> {
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        return Err("The judgment holds no JSON object.".into());
    };
    let value: Value = serde_json::from_str(&text[start..=end.max(start)])
        .map_err(|e| format!("The judgment's JSON could not be read ({e})."))?;
    let score = |key: &str| -> Result<f64, String> {
        let field = value
            .get(key)
            .ok_or_else(|| format!("The judgment has no \"{key}\"."))?;
        let number = match field {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        number
            .filter(|n| (0.0..=10.0).contains(n))
            .ok_or_else(|| format!("The judgment's \"{key}\" is not a number from 0 to 10."))
    };
    Ok(JudgeScores {
        accuracy: score("accuracy")?,
        completeness: score("completeness")?,
        consistency: score("consistency")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_read_and_weighted() {
        let scores = read_scores("Here: {\"accuracy\": 9, \"completeness\": \"8\", \"consistency\": 10, \"explanation\": \"ok\"}").unwrap();
        assert_eq!(
            scores,
            JudgeScores {
                accuracy: 9.0,
                completeness: 8.0,
                consistency: 10.0
            }
        );
        assert!((scores.overall() - 8.9).abs() < 1e-9);
    }

    #[test]
    fn an_unreadable_judgment_is_an_error_never_a_default() {
        assert!(read_scores("Looks fine to me.").is_err());
        assert!(
            read_scores("{\"accuracy\": 9, \"completeness\": 8}")
                .unwrap_err()
                .contains("consistency")
        );
        assert!(
            read_scores("{\"accuracy\": 11, \"completeness\": 8, \"consistency\": 8}")
                .unwrap_err()
                .contains("0 to 10")
        );
    }
}
