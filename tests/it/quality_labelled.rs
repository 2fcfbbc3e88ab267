//! The quality gate on hand-labelled pairs (`tests/fixtures/quality/labelled.jsonl`):
//! with default settings it must drop at least 95% of the pairs labelled drop, keep at
//! least 90% of those labelled keep, and keep at least 98% of the correct pairs written
//! in a strong model's style (`run: strong-style`: paraphrased answers, one-line
//! literals, code results). Prints precision, recall, what each check dropped and the
//! confusion of the labeller's reasons against the gate's, so a change to a check shows
//! its effect.
//!
//! `scripts/quality-report.sh` runs this test to print the figures.

use crate::common;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use tdg::quality::{Assessor, Gate, PromptSide, QualityFilter};

/// The `source.run` of the pairs written by hand in a strong model's style.
const STRONG_STYLE: &str = "strong-style";

/// One labelled pair, as the fixture holds it.
struct Labelled {
    group: String,
    /// `source.run`: which run (or hand-written set) the pair comes from.
    run: String,
    document: String,
    chunk_id: String,
    question: String,
    answer: String,
    keep: bool,
    reason: String,
}

fn labelled_pairs() -> Vec<Labelled> {
    let path = common::fixtures().join("quality").join("labelled.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let field = |name: &str| v[name].as_str().unwrap_or_default().to_string();
            let label = field("label");
            assert!(
                label == "keep" || label == "drop",
                "label {label:?} in {line}"
            );
            Labelled {
                group: format!(
                    "{}/{}",
                    v["source"]["run"].as_str().unwrap(),
                    field("document")
                ),
                run: v["source"]["run"].as_str().unwrap().to_string(),
                document: field("document"),
                chunk_id: field("chunk_id"),
                question: field("question"),
                answer: field("answer"),
                keep: label == "keep",
                reason: if label == "keep" {
                    "keep".into()
                } else {
                    field("reason")
                },
            }
        })
        .collect()
}

/// The text of each chunk of the bundled corpus, by document and chunk id.
fn corpus_chunks() -> HashMap<(String, String), String> {
    let mut chunks = HashMap::new();
    for entry in std::fs::read_dir(common::fixtures().join("corpus")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_name().unwrap().to_str().unwrap();
        let document = stem.trim_end_matches("_chunks.json").to_string();
        let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for chunk in file["chunks"].as_array().unwrap() {
            chunks.insert(
                (
                    document.clone(),
                    chunk["chunk_id"].as_str().unwrap().to_string(),
                ),
                chunk["text"].as_str().unwrap().to_string(),
            );
        }
    }
    chunks
}

#[test]
fn the_default_gate_drops_what_the_labeller_dropped_and_keeps_what_was_kept() {
    let pairs = labelled_pairs();
    // The set as committed: fewer pairs means the fixture was cut.
    assert!(pairs.len() >= 300, "only {} labelled pairs", pairs.len());
    let chunks = corpus_chunks();
    // The default prompt without its chunk: what an echo would copy.
    let prompt_side = std::sync::Arc::new(PromptSide::new(
        &std::fs::read_to_string(common::fixtures().join("quality").join("prompt.txt")).unwrap(),
    ));
    let mut gates: HashMap<&str, Gate> = HashMap::new();
    // (the labeller's reason, the gate's) → pairs.
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    // The gate's reason → (pairs labelled drop, labelled keep, strong-style keeps) it dropped.
    let mut by_check: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let (mut drop_labelled, mut dropped_of_those, mut keep_labelled, mut kept_of_those) =
        (0, 0, 0, 0);
    let (mut strong_labelled, mut strong_kept) = (0, 0);
    let mut gate_dropped = 0;
    for pair in &pairs {
        let chunk = chunks
            .get(&(pair.document.clone(), pair.chunk_id.clone()))
            .unwrap_or_else(|| panic!("no chunk {} in {}", pair.chunk_id, pair.document));
        let quality =
            Assessor::with_prompt(chunk, prompt_side.clone()).assess(&pair.question, &pair.answer);
        let gate = gates
            .entry(&pair.group)
            .or_insert_with(|| Gate::new(QualityFilter::default(), []));
        let verdict = gate.check(&pair.question, Some(&quality), None);
        let verdict_name = verdict.map_or("keep", |reason| reason.name());
        *confusion
            .entry((pair.reason.clone(), verdict_name.to_string()))
            .or_default() += 1;
        gate_dropped += usize::from(verdict.is_some());
        let strong = pair.run == STRONG_STYLE;
        if let Some(reason) = verdict {
            let counts = by_check.entry(reason.name()).or_default();
            if pair.keep {
                counts.1 += 1;
                counts.2 += usize::from(strong);
            } else {
                counts.0 += 1;
            }
        }
        if strong {
            assert!(
                pair.keep,
                "a strong-style pair labelled drop: {:?}",
                pair.question
            );
            strong_labelled += 1;
            strong_kept += usize::from(verdict.is_none());
        }
        if pair.keep {
            keep_labelled += 1;
            kept_of_those += usize::from(verdict.is_none());
            if verdict.is_some() {
                println!(
                    "labelled keep, dropped as {verdict_name}: {:?} → {:?} ({quality:?})",
                    pair.question, pair.answer
                );
            }
        } else {
            drop_labelled += 1;
            dropped_of_those += usize::from(verdict.is_some());
            if verdict.is_none() {
                println!(
                    "labelled drop ({}), kept: {:?} → {:?} ({quality:?})",
                    pair.reason, pair.question, pair.answer
                );
            }
        }
    }
    let drop_recall = dropped_of_those as f64 / drop_labelled as f64;
    let drop_precision = dropped_of_those as f64 / gate_dropped.max(1) as f64;
    let keep_rate = kept_of_those as f64 / keep_labelled as f64;
    let strong_rate = strong_kept as f64 / strong_labelled.max(1) as f64;
    let kept = pairs.len() - gate_dropped;
    let keep_precision = kept_of_those as f64 / kept.max(1) as f64;
    println!(
        "\n{} labelled pairs: {drop_labelled} drop, {keep_labelled} keep",
        pairs.len()
    );
    println!(
        "drops: recall {:.1}% ({dropped_of_those}/{drop_labelled}), precision {:.1}%",
        drop_recall * 100.0,
        drop_precision * 100.0
    );
    println!(
        "keeps: recall {:.1}% ({kept_of_those}/{keep_labelled}), precision {:.1}% ({kept_of_those}/{kept})",
        keep_rate * 100.0,
        keep_precision * 100.0
    );
    println!(
        "strong-style keeps: {:.1}% ({strong_kept}/{strong_labelled})",
        strong_rate * 100.0
    );
    println!(
        "\n{:<18} {:>13} {:>13} {:>13}",
        "dropped by", "labelled drop", "labelled keep", "strong-style"
    );
    for (check, (drops, keeps, strong)) in &by_check {
        println!("{check:<18} {drops:>13} {keeps:>13} {strong:>13}");
    }
    println!("\n{:<24} {:<18} pairs", "labelled", "gate");
    for ((label, gate), n) in &confusion {
        println!("{label:<24} {gate:<18} {n}");
    }
    assert!(drop_labelled > 0 && keep_labelled > 0);
    assert!(
        strong_labelled >= 60,
        "only {strong_labelled} strong-style pairs: the fixture was cut"
    );
    assert!(
        drop_recall >= 0.95,
        "the gate dropped only {:.1}% of the pairs labelled drop",
        drop_recall * 100.0
    );
    assert!(
        keep_rate >= 0.90,
        "the gate kept only {:.1}% of the pairs labelled keep",
        keep_rate * 100.0
    );
    assert!(
        strong_rate >= 0.98,
        "the gate kept only {:.1}% of the strong-style pairs",
        strong_rate * 100.0
    );
}
