//! The store's tests: outcomes, settings, judgments and corpus-wide views.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::*;
use crate::qa_file::DocumentStatus;
use crate::quality::{DedupeScope, DropReason, PairQuality, QualityFilter};

/// A document's Q&A file as JSON, as `views` renders it.
fn view(store: &CheckpointStore, stem: &str, status: DocumentStatus) -> Value {
    serde_json::to_value(
        crate::outputs::qa_files::qa_file(store, stem, status)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

fn outcome(stem: &str, position: u32, status: ChunkStatus, pairs: &[(&str, &str)]) -> ChunkOutcome {
    ChunkOutcome {
        stem: stem.into(),
        position,
        chunk_id: format!("0_{position}"),
        chunk_index: position as i64,
        chunk_start: 0,
        chunk_end: 10,
        source_text: format!("text {position}"),
        place: Default::default(),
        status,
        pairs: pairs.iter().map(|(q, a)| StoredPair::new(*q, *a)).collect(),
        error: (status == ChunkStatus::Failed).then(|| "no JSON".to_string()),
        raw_response: Some("raw".into()),
        prompt: None,
        settings: std::sync::Arc::new(RunRecord {
            model: "m".into(),
            ..Default::default()
        }),
        tokens_in: 1,
        tokens_out: 2,
        tokens_reasoning: 0,
        duration_ms: 3,
        attempts: 1,
    }
}

fn document(stem: &str, total: u32) -> DocumentRecord {
    let mut metadata = Map::new();
    metadata.insert("file_name".into(), json!(format!("{stem}.txt")));
    DocumentRecord {
        stem: stem.into(),
        chunks_file: PathBuf::from(format!("{stem}_chunks.json")),
        metadata,
        processing_info: Map::new(),
        total_chunks: total,
        generation_info: Map::new(),
    }
}

#[test]
fn outcomes_survive_reopening_and_render_in_position_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        store.put_document(&document("doc", 4)).unwrap();
        store
            .record(&[
                outcome("doc", 2, ChunkStatus::Completed, &[("q2", "a2")]),
                outcome(
                    "doc",
                    0,
                    ChunkStatus::Completed,
                    &[("q0", "a0"), ("q0b", "a0b")],
                ),
                outcome("doc", 1, ChunkStatus::Failed, &[]),
                outcome("doc", 3, ChunkStatus::Skipped, &[]),
            ])
            .unwrap();
    }
    let store = CheckpointStore::open(dir.path()).unwrap();
    assert_eq!(store.counts().unwrap(), (4, 1));
    let view = view(&store, "doc", DocumentStatus::InProgress);
    let keys: Vec<&str> = view
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "metadata",
            "processing_info",
            "qa_generation_info",
            "chunks",
            "training_pairs",
            "status",
            "completed_chunks",
            "failed_chunks",
            "summary"
        ]
    );
    let questions: Vec<&str> = view["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["question"].as_str().unwrap())
        .collect();
    assert_eq!(questions, ["q0", "q0b", "q2"]);
    assert_eq!(view["training_pairs"][0]["file_name"], "doc.txt");
    assert_eq!(view["training_pairs"][2]["source_text"], "text 2");
    assert_eq!(view["completed_chunks"], json!([0, 2]));
    assert_eq!(view["failed_chunks"], json!([1]));
    assert_eq!(
        view["summary"],
        json!({"total_chunks": 4, "completed_chunks": 2, "failed_chunks": 1, "total_qa_pairs": 3})
    );
}

#[test]
fn a_retried_chunk_replaces_its_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = CheckpointStore::open(dir.path()).unwrap();
    store.put_document(&document("doc", 1)).unwrap();
    store
        .record(&[outcome("doc", 0, ChunkStatus::Failed, &[])])
        .unwrap();
    store
        .record(&[outcome("doc", 0, ChunkStatus::Completed, &[("q", "a")])])
        .unwrap();
    assert_eq!(
        store
            .stored_chunks("doc")
            .unwrap()
            .into_iter()
            .map(|chunk| (chunk.position, chunk.status))
            .collect::<Vec<_>>(),
        [(0, ChunkStatus::Completed)]
    );
    store
        .mark_document_completed("doc", "2026-01-01T00:00:00.000000")
        .unwrap();
    let view = view(&store, "doc", DocumentStatus::Completed);
    assert_eq!(view["completion_time"], "2026-01-01T00:00:00.000000");
    assert_eq!(view["summary"]["total_qa_pairs"], 1);
}

#[test]
fn each_chunk_keeps_the_settings_it_was_made_with() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = CheckpointStore::open(dir.path()).unwrap();
    store.put_document(&document("doc", 5)).unwrap();
    let made_with = |position, questions: u32| {
        let mut outcome = outcome("doc", position, ChunkStatus::Completed, &[("q", "a")]);
        outcome.settings = std::sync::Arc::new(RunRecord {
            questions_per_chunk: questions,
            ..Default::default()
        });
        outcome
    };
    store.record(&[made_with(0, 2), made_with(1, 2)]).unwrap();
    store.record(&[made_with(2, 5), made_with(3, 2)]).unwrap();
    store.record(&[made_with(4, 5)]).unwrap();
    let questions: Vec<(u32, u32)> = store
        .raw_answers()
        .unwrap()
        .into_iter()
        .map(|answer| (answer.position, answer.asked.examples))
        .collect();
    assert_eq!(questions, [(0, 2), (1, 2), (2, 5), (3, 2), (4, 5)]);
}

#[test]
fn corpus_dedupe_sees_earlier_documents_as_their_views_kept_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = CheckpointStore::open(dir.path()).unwrap();
    store
        .set_quality_filter(&QualityFilter {
            dedupe: DedupeScope::Corpus,
            min_judge_score: Some(8.0),
            ..Default::default()
        })
        .unwrap();
    let graded = |stem: &str, question: &str| {
        let mut outcome = outcome(stem, 0, ChunkStatus::Completed, &[]);
        outcome.pairs = vec![StoredPair {
            question: question.into(),
            answer: "Reproduction and distribution.".into(),
            quality: Some(PairQuality {
                grounding: 1.0,
                ..Default::default()
            }),
            ..StoredPair::new("", "")
        }];
        outcome
    };
    for stem in ["a", "b", "c"] {
        store.put_document(&document(stem, 1)).unwrap();
    }
    store
        .record(&[
            graded("a", "What does the license cover?"),
            graded("b", "What does the license cover?"),
            graded("c", "What does the LICENSE cover"),
        ])
        .unwrap();
    // The judge failed a's pair: a's file drops it, so it is no model for b's.
    store
        .record_judgment(&Judgment {
            stem: "a".into(),
            position: 0,
            question: "What does the license cover?".into(),
            scores: Some(JudgeScores {
                accuracy: 2.0,
                completeness: 2.0,
                consistency: 2.0,
            }),
            raw_response: None,
            error: None,
        })
        .unwrap();
    let kept = |stem: &str| {
        view(&store, stem, DocumentStatus::Completed)["summary"]["total_qa_pairs"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((kept("a"), kept("b"), kept("c")), (0, 1, 0));
    let summary = store.quality_summary().unwrap();
    assert_eq!(
        summary.dropped.into_iter().collect::<Vec<_>>(),
        [(DropReason::Duplicate, 1), (DropReason::FailedJudge, 1)]
    );
    assert_eq!(
        summary.dropped_per_document.into_iter().collect::<Vec<_>>(),
        [("a".to_string(), 1), ("c".to_string(), 1)]
    );
    let to_judge: Vec<String> = store
        .pairs_to_judge()
        .unwrap()
        .into_iter()
        .map(|pair| pair.stem)
        .collect();
    assert_eq!(to_judge, ["a"], "b and c repeat a's question");
}

#[test]
fn corpus_views_from_the_cached_prefix_match_a_fresh_reading() {
    let dir = tempfile::tempdir().unwrap();
    let filter = QualityFilter {
        dedupe: DedupeScope::Corpus,
        min_judge_score: Some(8.0),
        ..Default::default()
    };
    let mut store = CheckpointStore::open(dir.path()).unwrap();
    store.set_quality_filter(&filter).unwrap();
    let stems = ["d0", "d1", "d2", "d3", "d4", "d5"];
    for stem in stems {
        store.put_document(&document(stem, 3)).unwrap();
    }
    let pool = [
        "What does the license cover?",
        "Who grants the license?",
        "What does Section 3 cover?",
        "Which rights do users get?",
        "What is the Work?",
        "When does the grant end?",
    ];
    let mut rng = fastrand::Rng::with_seed(11);
    let chunk = |stem: &str, position: u32, rng: &mut fastrand::Rng| {
        let mut outcome = outcome(stem, position, ChunkStatus::Completed, &[]);
        outcome.pairs = (0..2)
            .map(|_| StoredPair {
                question: pool[rng.usize(..pool.len())].into(),
                answer: "An answer.".into(),
                quality: Some(PairQuality {
                    grounding: 1.0,
                    ..Default::default()
                }),
                ..StoredPair::new("", "")
            })
            .collect();
        outcome
    };
    let mut left: Vec<(usize, u32)> = (0..stems.len())
        .flat_map(|d| (0..3).map(move |p| (d, p)))
        .collect();
    rng.shuffle(&mut left);
    // Mostly in order, as a run goes (taken from the back), in pairs of documents
    // whose chunks mix.
    left.sort_by_key(|(d, _)| std::cmp::Reverse(*d / 2));
    let mut first_questions: Vec<Option<String>> = vec![None; stems.len()];
    let views = |store: &CheckpointStore| -> Vec<Value> {
        stems
            .iter()
            .map(|stem| view(store, stem, DocumentStatus::InProgress))
            .collect()
    };
    let mut step = 0;
    while let Some((d, position)) = left.pop() {
        step += 1;
        let outcome = chunk(stems[d], position, &mut rng);
        if position == 0 {
            first_questions[d] = Some(outcome.pairs[0].question.clone());
        }
        store.record(&[outcome]).unwrap();
        if store.is_document_finished(stems[d]).unwrap() {
            store.mark_document_completed(stems[d], "2026").unwrap();
        }
        // Now and then, a retried chunk of the first finished document, or a judge
        // failing one of its pairs: documents the cached prefix has seen.
        let finished = (0..stems.len()).find(|d| store.is_document_finished(stems[*d]).unwrap());
        if let Some(finished) = finished
            && step % 3 == 0
        {
            if step % 2 == 0 {
                let retried = chunk(stems[finished], 0, &mut rng);
                first_questions[finished] = Some(retried.pairs[0].question.clone());
                store.record(&[retried]).unwrap();
            } else {
                store
                    .record_judgment(&Judgment {
                        stem: stems[finished].into(),
                        position: 0,
                        question: first_questions[finished].clone().unwrap(),
                        scores: Some(JudgeScores {
                            accuracy: 1.0,
                            completeness: 1.0,
                            consistency: 1.0,
                        }),
                        raw_response: None,
                        error: None,
                    })
                    .unwrap();
            }
        }
        let fresh = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(views(&store), views(&fresh), "step {step}");
    }
    let kept: u64 = views(&store)
        .iter()
        .map(|view| view["summary"]["total_qa_pairs"].as_u64().unwrap())
        .sum();
    assert!((2..36).contains(&kept), "{kept} pairs kept");
}

/// The tables as schema 1 created them.
const SCHEMA_1: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE documents (stem TEXT PRIMARY KEY, chunks_file TEXT NOT NULL, metadata TEXT NOT NULL,
        processing_info TEXT NOT NULL, total_chunks INTEGER NOT NULL, generation_info TEXT NOT NULL, completed_at TEXT);
    CREATE TABLE settings (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);
    CREATE TABLE judgments (stem TEXT NOT NULL, position INTEGER NOT NULL, question TEXT NOT NULL, accuracy REAL,
        completeness REAL, consistency REAL, overall REAL, raw_response TEXT, error TEXT, judged_at TEXT NOT NULL,
        PRIMARY KEY (stem, position, question));
    CREATE TABLE chunks (stem TEXT NOT NULL, position INTEGER NOT NULL, chunk_id TEXT NOT NULL,
        chunk_index INTEGER NOT NULL, chunk_start INTEGER NOT NULL, chunk_end INTEGER NOT NULL,
        source_text TEXT NOT NULL, status TEXT NOT NULL, pairs TEXT NOT NULL, error TEXT, raw_response TEXT,
        prompt TEXT, settings_id INTEGER NOT NULL REFERENCES settings(id), tokens_in INTEGER NOT NULL,
        tokens_out INTEGER NOT NULL, duration_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,
        finished_at TEXT NOT NULL, PRIMARY KEY (stem, position));
    INSERT INTO meta VALUES ('schema_version', '1');";

#[test]
fn a_schema_1_checkpoint_is_migrated_and_reads_as_before() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(CheckpointStore::path_in(dir.path())).unwrap();
        conn.execute_batch(SCHEMA_1).unwrap();
        conn.execute_batch(
            r#"INSERT INTO documents VALUES ('doc', 'doc_chunks.json', '{"file_name": "doc.txt"}', '{}', 2, '{}', NULL);
               INSERT INTO settings VALUES (1, '{"provider":"openai","model":"gpt-x","base_urls":["http://judge"],"questions_per_chunk":5}');
               INSERT INTO settings VALUES (2, '{"imported_from":"qa/doc_qa.json","qa_generation_info":{"provider":"local","model":"qwen3:14b"}}');
               INSERT INTO chunks VALUES ('doc', 0, '0_0', 0, 0, 10, 'first text', 'completed',
                   '[{"question":"q0","answer":"a0"}]', NULL, 'raw', NULL, 1, 1, 2, 3, 1, '2026');
               INSERT INTO chunks VALUES ('doc', 1, '0_1', 1, 10, 20, 'second text', 'completed',
                   '[{"question":"q1","answer":"a1"}]', NULL, NULL, NULL, 2, 0, 0, 0, 0, '2026');"#,
        )
        .unwrap();
    }
    let store = CheckpointStore::open_existing(dir.path(), Access::ReadOnly).unwrap();
    // The newest record is the import; the run's own is the one validate reads.
    let record = store.latest_run_record().unwrap().unwrap();
    assert_eq!(
        (record.provider.as_str(), record.model.as_str()),
        ("openai", "gpt-x")
    );
    assert_eq!(record.base_urls, ["http://judge"]);
    let answers = store.raw_answers().unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].asked.examples, 5);
    let stored = store.stored_chunks("doc").unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|chunk| chunk.text_hash.clone().unwrap())
            .collect::<Vec<_>>(),
        [text_hash("first text"), text_hash("second text")]
    );
    // Schema 3's column is there, and an older chunk has no place.
    let chunk = store.review_chunk("doc", 0).unwrap().unwrap();
    assert_eq!(chunk.text, "first text");
    assert!(chunk.place.is_empty());
    let questions: Vec<Value> = view(&store, "doc", DocumentStatus::Completed)["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair["question"].clone())
        .collect();
    assert_eq!(questions, [json!("q0"), json!("q1")]);
    let (imported, version): (String, String) = store
        .conn
        .query_row(
            "SELECT (SELECT json FROM settings WHERE imported = 1), (SELECT value FROM meta WHERE key = 'schema_version')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION.to_string());
    assert_eq!(
        RunRecord::from_stored(&imported)
            .unwrap()
            .imported_from
            .as_deref(),
        Some("qa/doc_qa.json")
    );
}

#[test]
fn a_newer_or_unknown_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(CheckpointStore::open(dir.path()).unwrap());
    let set_version = |version: &str| {
        let conn = rusqlite::Connection::open(CheckpointStore::path_in(dir.path())).unwrap();
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [version],
        )
        .unwrap();
    };
    set_version("99");
    for opened in [
        CheckpointStore::open(dir.path()),
        CheckpointStore::open_existing(dir.path(), Access::ReadOnly),
    ] {
        let error = opened.err().expect("a newer schema is refused");
        assert!(
            matches!(error, StoreError::NewerSchema { found: 99, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("use a newer tdg"), "{error}");
    }
    set_version("banana");
    let error = CheckpointStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, StoreError::UnknownSchema { .. }), "{error}");
    assert!(error.to_string().contains(STORE_FILE), "{error}");
}

#[test]
fn opening_an_existing_checkpoint_never_creates_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = CheckpointStore::path_in(dir.path());
    for access in [Access::ReadOnly, Access::ReadWrite] {
        let error = CheckpointStore::open_existing(dir.path(), access)
            .err()
            .unwrap();
        assert!(matches!(error, StoreError::NoCheckpoint { .. }), "{error}");
        assert!(!path.exists());
    }
    std::fs::write(&path, b"").unwrap();
    let error = CheckpointStore::open_existing(dir.path(), Access::ReadOnly)
        .err()
        .unwrap();
    assert!(matches!(error, StoreError::NoCheckpoint { .. }), "{error}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn forgotten_chunks_leave_the_view_with_their_judgments() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = CheckpointStore::open(dir.path()).unwrap();
    store.put_document(&document("doc", 3)).unwrap();
    store
        .record(&[
            outcome("doc", 0, ChunkStatus::Completed, &[("q0", "a0")]),
            outcome("doc", 1, ChunkStatus::Completed, &[("q1", "a1")]),
            outcome("doc", 2, ChunkStatus::Failed, &[]),
        ])
        .unwrap();
    store
        .record_judgment(&Judgment {
            stem: "doc".into(),
            position: 1,
            question: "q1".into(),
            scores: None,
            raw_response: None,
            error: Some("unreadable".into()),
        })
        .unwrap();
    store.forget_chunks("doc", &[1, 2]).unwrap();
    let view = view(&store, "doc", DocumentStatus::InProgress);
    assert_eq!(view["completed_chunks"], json!([0]));
    assert_eq!(view["failed_chunks"], json!([]));
    assert_eq!(view["summary"]["total_qa_pairs"], 1);
    assert_eq!(store.judge_figures().unwrap(), (0, 0, 0));
    assert!(!store.is_document_finished("doc").unwrap());
    assert!(store.failed_chunks().unwrap().is_empty());
}
