//! `tdg stats` and the end-of-run report: per document and in total, the chunks that
//! succeeded, failed and were skipped, the pairs and their mix of question types, the
//! success rate, the tokens, the mean time per chunk, the most common causes of
//! failure, and how many pairs a reviewer accepted, rejected and edited.
//!
//! The figures come from the checkpoint; a Q&A directory without one (the original
//! tool's output) is read from its Q&A files, which hold no tokens or times.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::{
    Access, CheckpointStore, DocumentFigures, ReviewCounts, StoreError, UNLABELLED,
};
use crate::qa_file::QA_FILE_SUFFIX;

/// One row of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DocumentStats {
    pub document: String,
    pub total_chunks: u64,
    pub chunks_completed: u64,
    pub chunks_failed: u64,
    pub chunks_skipped: u64,
    pub pairs: u64,
    /// The pairs by question type (`factual`, ...; `unlabelled` for pairs without one).
    pub question_types: BTreeMap<String, u64>,
    /// Completed chunks over the chunks asked about (skipped ones are not).
    pub success_rate: f64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Of `tokens_out`, the reasoning's (`--task reasoning`): counted by the provider
    /// where it says, else estimated by the reasoning's share of the answer.
    pub tokens_reasoning: u64,
    /// `None` when the source does not record times.
    pub mean_seconds_per_chunk: Option<f64>,
}

/// A failure cause and how many chunks it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCause {
    pub cause: String,
    pub chunks: u64,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// `checkpoint` or `qa-files`.
    pub source: &'static str,
    pub documents: Vec<DocumentStats>,
    pub total: DocumentStats,
    pub failure_causes: Vec<FailureCause>,
    /// What the quality gate dropped, and the grounding of what it kept (checkpoint only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<QualityStats>,
}

/// The quality gate's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QualityStats {
    /// Pairs dropped, by reason (`echo`, `restates-question`, `ungrounded`, `duplicate`).
    pub dropped: std::collections::BTreeMap<String, u64>,
    /// Kept pairs per grounding range.
    pub grounding: Vec<GroundingBucket>,
    /// The judge's figures, once `tdg validate` ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeStats>,
    /// The pairs a reviewer decided on (`tdg review`): reviewed, accepted, rejected
    /// and edited.
    pub review: ReviewCounts,
    /// Conversations kept but cut before a follow-up that failed the gate.
    pub conversations_cut: u64,
}

/// What the judge (`tdg validate`) found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JudgeStats {
    /// Pairs with a score.
    pub scored: u64,
    /// Of those, the ones scoring 8 or more.
    pub passed: u64,
    pub pass_rate: f64,
    /// Judgments that could not be read (no score).
    pub failed: u64,
}

/// Kept pairs whose grounding falls in `[from, to)` (the last range includes 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroundingBucket {
    pub from: f64,
    pub to: f64,
    pub pairs: u64,
}

/// Why the statistics cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("{} holds no tdg checkpoint and no *_qa.json files", .0.display())]
    Empty(std::path::PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Read(String),
}

/// How many failure causes are listed.
const TOP_CAUSES: usize = 5;

/// Reads the statistics of the Q&A directory `qa_dir`.
///
/// It never creates a checkpoint: without one (or with an empty file), the figures
/// come from the Q&A files.
pub fn collect(qa_dir: &Path) -> Result<Stats, StatsError> {
    match CheckpointStore::open_existing(qa_dir, Access::ReadOnly) {
        Ok(store) => from_checkpoint(&store),
        Err(StoreError::NoCheckpoint { .. }) => from_qa_files(qa_dir),
        Err(error) => Err(error.into()),
    }
}

/// The figures of a checkpoint.
fn from_checkpoint(store: &CheckpointStore) -> Result<Stats, StatsError> {
    let mut figures = store.document_figures()?;
    let causes = store.failure_causes(TOP_CAUSES)?;
    let summary = store.quality_summary()?;
    // Pairs are what the Q&A files hold: the kept ones, less those a reviewer rejected.
    for figure in &mut figures {
        let left_out = |counts: &BTreeMap<String, u64>| counts.get(&figure.stem).copied();
        figure.pairs = figure.pairs.saturating_sub(
            left_out(&summary.dropped_per_document).unwrap_or(0)
                + left_out(&summary.rejected_per_document).unwrap_or(0),
        );
    }
    let (scored, passed, failed) = store.judge_figures()?;
    let judge = (scored + failed > 0).then(|| JudgeStats {
        scored,
        passed,
        pass_rate: if scored > 0 {
            passed as f64 / scored as f64
        } else {
            0.0
        },
        failed,
    });
    let quality = QualityStats {
        judge,
        review: summary.review,
        conversations_cut: summary.conversations_cut,
        dropped: summary
            .dropped
            .iter()
            .map(|(reason, n)| (reason.name().to_string(), *n))
            .collect(),
        grounding: (0..5)
            .map(|i| GroundingBucket {
                from: i as f64 / 5.0,
                to: (i + 1) as f64 / 5.0,
                pairs: summary.grounding[i],
            })
            .collect(),
    };
    let mut documents: Vec<DocumentStats> = figures.iter().map(|f| row(&f.stem, f, true)).collect();
    for doc in &mut documents {
        doc.question_types = summary
            .question_types_per_document
            .get(&doc.document)
            .cloned()
            .unwrap_or_default();
    }
    let mut total = row("TOTAL", &sum(&figures), true);
    total.question_types = sum_types(&documents);
    let failure_causes = causes
        .into_iter()
        .map(|(cause, chunks)| FailureCause { cause, chunks })
        .collect();
    Ok(Stats {
        source: "checkpoint",
        documents,
        total,
        failure_causes,
        quality: Some(quality),
    })
}

fn sum(figures: &[DocumentFigures]) -> DocumentFigures {
    figures
        .iter()
        .fold(DocumentFigures::default(), |mut total, f| {
            total.total_chunks += f.total_chunks;
            total.completed += f.completed;
            total.failed += f.failed;
            total.skipped += f.skipped;
            total.pairs += f.pairs;
            total.tokens_in += f.tokens_in;
            total.tokens_out += f.tokens_out;
            total.tokens_reasoning += f.tokens_reasoning;
            total.duration_ms += f.duration_ms;
            total
        })
}

/// The documents' question types, summed.
fn sum_types(documents: &[DocumentStats]) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for (kind, pairs) in documents.iter().flat_map(|doc| &doc.question_types) {
        *total.entry(kind.clone()).or_insert(0) += pairs;
    }
    total
}

fn row(name: &str, f: &DocumentFigures, timed: bool) -> DocumentStats {
    let asked = f.completed + f.failed;
    DocumentStats {
        document: name.to_string(),
        total_chunks: f.total_chunks,
        chunks_completed: f.completed,
        chunks_failed: f.failed,
        chunks_skipped: f.skipped,
        pairs: f.pairs,
        question_types: BTreeMap::new(),
        success_rate: if asked == 0 {
            0.0
        } else {
            f.completed as f64 / asked as f64
        },
        tokens_in: f.tokens_in,
        tokens_out: f.tokens_out,
        tokens_reasoning: f.tokens_reasoning,
        mean_seconds_per_chunk: (timed && asked > 0)
            .then(|| f.duration_ms as f64 / asked as f64 / 1000.0),
    }
}

/// The figures of Q&A files alone (no tokens or times).
fn from_qa_files(qa_dir: &Path) -> Result<Stats, StatsError> {
    let names: Vec<String> = crate::qa_file::list_qa_files(qa_dir)
        .map_err(|e| StatsError::Read(format!("cannot read {}: {e}", qa_dir.display())))?
        .iter()
        .map(|path| crate::qa_file::file_name(path))
        .collect();
    if names.is_empty() {
        return Err(StatsError::Empty(qa_dir.to_path_buf()));
    }
    let mut figures = Vec::new();
    let mut types = Vec::new();
    for name in names {
        let path = qa_dir.join(&name);
        let text = std::fs::read(&path)
            .map_err(|e| StatsError::Read(format!("cannot read {}: {e}", path.display())))?;
        let qa: Value = serde_json::from_slice(&text)
            .map_err(|e| StatsError::Read(format!("{} is not valid JSON: {e}", path.display())))?;
        let count = |key: &str| {
            qa.get(key)
                .and_then(Value::as_array)
                .map_or(0, |list| list.len() as u64)
        };
        let total = qa
            .pointer("/summary/total_chunks")
            .or_else(|| qa.pointer("/processing_info/total_chunks"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut kinds = BTreeMap::new();
        for pair in qa
            .get("training_pairs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = pair["question_type"].as_str().unwrap_or(UNLABELLED);
            *kinds.entry(kind.to_string()).or_insert(0) += 1;
        }
        types.push(kinds);
        figures.push(DocumentFigures {
            stem: name.trim_end_matches(QA_FILE_SUFFIX).to_string(),
            total_chunks: total,
            completed: count("completed_chunks"),
            failed: count("failed_chunks"),
            pairs: count("training_pairs"),
            ..Default::default()
        });
    }
    let documents: Vec<DocumentStats> = figures
        .iter()
        .zip(types)
        .map(|(f, kinds)| DocumentStats {
            question_types: kinds,
            ..row(&f.stem, f, false)
        })
        .collect();
    let total = DocumentStats {
        question_types: sum_types(&documents),
        ..row("TOTAL", &sum(&figures), false)
    };
    Ok(Stats {
        source: "qa-files",
        documents,
        total,
        failure_causes: Vec::new(),
        quality: None,
    })
}

/// The report as a table.
pub fn render(stats: &Stats) -> String {
    let mut out = format!(
        "{:<28} {:>7} {:>7} {:>7} {:>8} {:>7} {:>8} {:>10} {:>10} {:>8}\n",
        "DOCUMENT",
        "CHUNKS",
        "DONE",
        "FAILED",
        "SKIPPED",
        "PAIRS",
        "SUCCESS",
        "TOKENS IN",
        "TOKENS OUT",
        "S/CHUNK"
    );
    for doc in stats.documents.iter().chain(std::iter::once(&stats.total)) {
        let name: String = if doc.document.chars().count() > 28 {
            doc.document
                .chars()
                .take(27)
                .chain(std::iter::once('…'))
                .collect()
        } else {
            doc.document.clone()
        };
        out.push_str(&format!(
            "{:<28} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7.1}% {:>10} {:>10} {:>8}\n",
            name,
            doc.total_chunks,
            doc.chunks_completed,
            doc.chunks_failed,
            doc.chunks_skipped,
            doc.pairs,
            doc.success_rate * 100.0,
            doc.tokens_in,
            doc.tokens_out,
            doc.mean_seconds_per_chunk
                .map_or("-".to_string(), |s| format!("{s:.2}")),
        ));
    }
    if stats.total.tokens_reasoning > 0 {
        let total = &stats.total;
        out.push_str(&format!(
            "\nOf the {} tokens out, {} are reasoning and {} answers (both priced as output)\n",
            total.tokens_out,
            total.tokens_reasoning,
            total.tokens_out.saturating_sub(total.tokens_reasoning)
        ));
    }
    out.push_str(&render_question_types(stats));
    if let Some(quality) = &stats.quality {
        if !quality.dropped.is_empty() {
            let dropped: Vec<String> = quality
                .dropped
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            out.push_str(&format!(
                "\nPairs dropped by the quality gate: {}\n",
                dropped.join(", ")
            ));
        }
        if quality.conversations_cut > 0 {
            out.push_str(&format!(
                "Conversations cut by the quality gate: {} (kept up to the exchange before the first that failed it)\n",
                quality.conversations_cut
            ));
        }
        if let Some(judge) = &quality.judge {
            out.push_str(&format!(
                "Judge: {} of {} scored pairs pass ({:.1}%), {} could not be judged\n",
                judge.passed,
                judge.scored,
                judge.pass_rate * 100.0,
                judge.failed
            ));
        }
        let review = &quality.review;
        if review.reviewed > 0 {
            out.push_str(&format!(
                "Reviewed: {} pairs ({} accepted, {} rejected, {} edited)\n",
                review.reviewed, review.accepted, review.rejected, review.edited
            ));
        }
        if quality.grounding.iter().any(|b| b.pairs > 0) {
            let buckets: Vec<String> = quality
                .grounding
                .iter()
                .map(|b| format!("{:.1}-{:.1}: {}", b.from, b.to, b.pairs))
                .collect();
            out.push_str(&format!(
                "Grounding of kept pairs: {}\n",
                buckets.join(", ")
            ));
        }
    }
    if !stats.failure_causes.is_empty() {
        out.push_str("\nMost common causes of failure:\n");
        for cause in &stats.failure_causes {
            let short: String = cause.cause.chars().take(200).collect();
            out.push_str(&format!("  {:>5} × {short}\n", cause.chunks));
        }
    }
    out
}

/// The question types of the kept pairs, per document and in total; nothing when no
/// pair has a type (a run that asked for none, or made before types were recorded).
fn render_question_types(stats: &Stats) -> String {
    let labelled = stats
        .total
        .question_types
        .keys()
        .any(|kind| kind != UNLABELLED);
    if !labelled {
        return String::new();
    }
    let mut out = String::from("\nQuestion types of kept pairs:\n");
    for doc in stats.documents.iter().chain(std::iter::once(&stats.total)) {
        let kinds: Vec<String> = doc
            .question_types
            .iter()
            .map(|(kind, pairs)| format!("{pairs} {kind}"))
            .collect();
        let kinds = if kinds.is_empty() {
            "-".to_string()
        } else {
            kinds.join(", ")
        };
        out.push_str(&format!("  {:<28} {kinds}\n", doc.document));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, kinds: &[(&str, u64)]) -> DocumentStats {
        DocumentStats {
            document: name.into(),
            question_types: kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_mix_is_summed_and_shown_only_when_some_pair_has_a_type() {
        let documents = vec![
            doc("a", &[("factual", 2), (UNLABELLED, 1)]),
            doc("b", &[("factual", 1), ("inferential", 3)]),
        ];
        let total = doc("TOTAL", &[]).question_types;
        assert!(total.is_empty());
        let summed = sum_types(&documents);
        assert_eq!(
            summed.into_iter().collect::<Vec<_>>(),
            [
                ("factual".to_string(), 3),
                ("inferential".to_string(), 3),
                (UNLABELLED.to_string(), 1)
            ]
        );
        let mut stats = Stats {
            total: DocumentStats {
                question_types: sum_types(&documents),
                ..doc("TOTAL", &[])
            },
            documents,
            ..Default::default()
        };
        let shown = render_question_types(&stats);
        assert!(
            shown.contains("3 factual, 3 inferential, 1 unlabelled"),
            "{shown}"
        );
        assert!(shown.contains("2 factual, 1 unlabelled"), "{shown}");
        stats.documents = vec![doc("c", &[(UNLABELLED, 4)])];
        stats.total = doc("TOTAL", &[(UNLABELLED, 4)]);
        assert_eq!(render_question_types(&stats), "");
    }
}
