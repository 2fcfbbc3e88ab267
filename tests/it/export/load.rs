//! What a trainer's tools make of an export: `datasets.load_dataset` on the folder
//! (Parquet, JSON Lines and JSON), and `pyarrow` reading the nested Parquet schema.
//! The Python packages are installed by `.ci/run`; in CI a missing one fails the test.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{SPLIT, all_pairs, export};
use crate::common::assert_success;

/// Python with `datasets` and `pyarrow`, or `None` (outside CI) to skip.
fn python_with_datasets() -> Option<&'static str> {
    let found = Command::new("python3")
        .args(["-c", "import datasets, pyarrow"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        let message = "python3 with the datasets and pyarrow packages is needed: python3 -m pip install datasets pyarrow";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
        return None;
    }
    Some("python3")
}

/// What `datasets.load_dataset` and `pyarrow` make of the dataset folder `out`.
const LOAD: &str = r#"
import json, sys, glob
import datasets, pyarrow.parquet as pq, pyarrow as pa
folder = sys.argv[1]
loaded = datasets.load_dataset(folder)
result = {"splits": {}}
for name, split in loaded.items():
    result["splits"][name] = {
        "rows": split.num_rows,
        "columns": split.column_names,
        "first": split[0],
        "features": repr(split.features),
    }
files = sorted(glob.glob(folder + "/data/*.parquet"))
if files:
    field = pq.read_schema(files[0]).field("conversations")
    result["conversations_is_list_of_struct"] = pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type)
    result["struct_fields"] = [f.name for f in field.type.value_type] if result["conversations_is_list_of_struct"] else []
    result["row_groups"] = pq.ParquetFile(files[0]).num_row_groups
print(json.dumps(result))
"#;

fn load_with_python(python: &str, out: &Path) -> Value {
    let cache = out.parent().unwrap().join("hf-cache");
    let output = Command::new(python)
        .arg("-c")
        .arg(LOAD)
        .arg(out)
        .env("HF_DATASETS_CACHE", &cache)
        .env("HF_HOME", &cache)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_DATASETS_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "load_dataset failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// What `datasets.load_dataset` reads of the first record of the `train` split of the
/// dataset folder `out`; `None` (outside CI) without Python's `datasets`.
pub(crate) fn first_train_record(out: &Path) -> Option<Value> {
    let python = python_with_datasets()?;
    let loaded = load_with_python(python, out);
    Some(loaded["splits"]["train"]["first"].clone())
}

#[test]
fn datasets_loads_the_parquet_and_jsonl_exports_with_every_split_and_nested_columns() {
    let Some(python) = python_with_datasets() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("parquet");
    assert_success(&export(
        &parquet,
        &[
            "--output-type",
            "parquet",
            "--format",
            "sharegpt",
            "--split",
            SPLIT,
            "--seed",
            "3",
            "--license",
            "mit",
        ],
    ));
    let loaded = load_with_python(python, &parquet);
    let splits = loaded["splits"].as_object().unwrap();
    assert_eq!(splits.len(), 3, "{loaded}");
    let rows: u64 = splits.values().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, all_pairs() as u64);
    for split in splits.values() {
        assert_eq!(split["columns"], serde_json::json!(["conversations"]));
        let turns = split["first"]["conversations"].as_array().unwrap();
        assert_eq!(turns[0]["from"], "human");
        assert_eq!(turns[1]["from"], "gpt");
    }
    assert_eq!(loaded["conversations_is_list_of_struct"], true, "{loaded}");
    assert_eq!(
        loaded["struct_fields"],
        serde_json::json!(["from", "value"])
    );
    // The same rows per split as the JSON Lines export of the same seed.
    let jsonl = dir.path().join("jsonl");
    assert_success(&export(
        &jsonl,
        &["--format", "sharegpt", "--split", SPLIT, "--seed", "3"],
    ));
    let from_jsonl = load_with_python(python, &jsonl);
    // And as the JSON arrays of --output-type json.
    let json = dir.path().join("json");
    assert_success(&export(
        &json,
        &[
            "--output-type",
            "json",
            "--format",
            "sharegpt",
            "--split",
            SPLIT,
            "--seed",
            "3",
        ],
    ));
    let from_json = load_with_python(python, &json);
    for (name, split) in splits {
        for other in [&from_jsonl, &from_json] {
            assert_eq!(other["splits"][name]["rows"], split["rows"], "{name}");
            assert_eq!(other["splits"][name]["first"], split["first"], "{name}");
        }
    }
}
