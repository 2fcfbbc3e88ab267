//! The gate's trace checks on real traces (SmolLM2-135M's, through the embedded
//! engine) and on traces written in the shapes reasoning models give, each labelled
//! with what the checks should make of it (tests/fixtures/traces).

use serde_json::Value;
use tdg::quality::{Assessor, Gate, QualityFilter};

use crate::common::{fixtures, read_json};

/// What the trace checks make of `pair` (its `reasoning` against `chunk`).
fn verdict(chunk: &str, pair: &Value) -> Option<&'static str> {
    let assessor = Assessor::new(chunk, "");
    let question = pair["question"].as_str().unwrap();
    let answer = pair["answer"].as_str().unwrap();
    let reasoning = pair["reasoning"].as_str();
    let quality = assessor.assess(question, reasoning.unwrap_or(""));
    Gate::new(QualityFilter::default(), [])
        .check_reasoning(reasoning, answer, Some(&quality))
        .map(|reason| reason.name())
}

#[test]
fn the_trace_checks_give_each_labelled_trace_its_label() {
    let set = read_json(fixtures().join("traces/smollm2-gpl3-reasoning.json"));
    for (index, pair) in set["pairs"].as_array().unwrap().iter().enumerate() {
        let chunk = set["chunks"][pair["chunk"].as_u64().unwrap().to_string()]
            .as_str()
            .unwrap();
        assert_eq!(
            verdict(chunk, pair),
            pair["label"].as_str(),
            "SmolLM2 pair {index}: {pair:#}"
        );
    }
    let written = &set["written"];
    let chunk = written["chunk"].as_str().unwrap();
    for (index, pair) in written["pairs"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            verdict(chunk, pair),
            pair["label"].as_str(),
            "written trace {index}: {pair:#}"
        );
    }
}
