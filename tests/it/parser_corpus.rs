//! The default parser over a corpus of answers real models give
//! (`tests/fixtures/responses`): each file's expected questions, or the verdict.

use crate::common;

use serde_json::Value;
use tdg::plugin::{ComponentCache, PluginHost, PluginLimits, PluginSource, parser::ParseError};

#[test]
fn every_response_in_the_corpus_parses_as_expected() {
    let host = PluginHost::new(
        PluginLimits::default(),
        ComponentCache::in_dir(common::shared_cache_dir()),
    )
    .unwrap();
    let parser = host
        .parser_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let dir = common::fixtures().join("responses");
    let expected = common::read_json(dir.join("expected.json"));
    let cases = expected.as_object().unwrap();
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "txt")
        .count();
    assert_eq!(
        files,
        cases.len(),
        "every response file needs an expectation"
    );
    for (name, expectation) in cases {
        let response = common::read(dir.join(format!("{name}.txt")));
        let verdict = parser
            .parse(&response, &tdg::task::Asked::pairs(3))
            .unwrap();
        match (expectation, verdict) {
            (Value::Array(questions), Ok(pairs)) => {
                let got: Vec<&str> = pairs.iter().map(|p| p.question.as_str()).collect();
                let want: Vec<&str> = questions.iter().map(|q| q.as_str().unwrap()).collect();
                assert_eq!(got, want, "{name}");
                assert!(
                    pairs
                        .iter()
                        .all(|p| !p.answer.trim().is_empty() && p.answer == p.answer.trim()),
                    "{name}: {pairs:?}"
                );
            }
            (Value::String(kind), Err(error)) => {
                let got = match error {
                    ParseError::NoJson(_) => "no-json",
                    ParseError::WrongShape(_) => "wrong-shape",
                    ParseError::NoPairs(_) => "no-pairs",
                };
                assert_eq!(got, kind, "{name}");
            }
            (expectation, verdict) => panic!("{name}: expected {expectation}, got {verdict:?}"),
        }
    }
}
