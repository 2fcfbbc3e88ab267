//! The trainers' side of an export: LLaMA-Factory's `dataset_info.json` entries (merged
//! into the dataset folder's file, one entry per split) and Axolotl's `datasets:` lines.
//! Both follow the records' shape, recognised from their fields, so a format plugin by
//! path that writes one of the known shapes is configured too.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::{ExportError, ExportReport, ExportRequest, SplitReport};

/// The record shapes the trainers know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordShape {
    /// `{"instruction", "input", "output"}`.
    Alpaca,
    /// `{"conversations": [{"from", "value"}]}`.
    ShareGpt,
    /// `{"messages": [{"role", "content"}]}`.
    Chat,
    /// `{"text"}`: one text a record, for continued pre-training or completion.
    Text,
}

impl RecordShape {
    /// The shape of records with `fields`, if a known one.
    pub fn of(fields: &[String]) -> Option<RecordShape> {
        let has = |name: &str| fields.iter().any(|field| field == name);
        if has("instruction") && has("output") {
            Some(RecordShape::Alpaca)
        } else if has("conversations") {
            Some(RecordShape::ShareGpt)
        } else if has("messages") {
            Some(RecordShape::Chat)
        } else if has("text") {
            Some(RecordShape::Text)
        } else {
            None
        }
    }
}

/// The dataset's name in the trainers' configuration: the folder's name, with
/// characters other than letters, digits, `-` and `_` as `_`.
pub fn dataset_name(request: &ExportRequest) -> String {
    let name = std::path::absolute(&request.output_dir)
        .ok()
        .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tdg_dataset".into());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The entry name of `split`: the dataset's name for `train`, else `<name>_<split>`.
pub fn entry_name(name: &str, split: &str) -> String {
    if split == "train" {
        name.to_string()
    } else {
        format!("{name}_{split}")
    }
}

/// LLaMA-Factory's entry for `split` of records of `shape`.
pub fn llama_factory_entry(shape: RecordShape, split: &SplitReport, fields: &[String]) -> Value {
    let mut entry = Map::new();
    match split.files.as_slice() {
        [file] => {
            entry.insert("file_name".into(), json!(file));
        }
        // Shards: the folder is read as a Hub dataset, whose card names each split's files.
        _ => {
            entry.insert("script_url".into(), json!("."));
            entry.insert("split".into(), json!(split.name));
        }
    }
    match shape {
        RecordShape::Alpaca => {
            entry.insert("formatting".into(), json!("alpaca"));
            let mut columns = json!({"prompt": "instruction", "response": "output"});
            if fields.iter().any(|f| f == "input") {
                columns["query"] = json!("input");
            }
            entry.insert("columns".into(), columns);
        }
        RecordShape::ShareGpt => {
            entry.insert("formatting".into(), json!("sharegpt"));
            entry.insert("columns".into(), json!({"messages": "conversations"}));
            entry.insert(
                "tags".into(),
                json!({"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt", "system_tag": "system"}),
            );
        }
        RecordShape::Chat => {
            entry.insert("formatting".into(), json!("sharegpt"));
            entry.insert("columns".into(), json!({"messages": "messages"}));
            entry.insert(
                "tags".into(),
                json!({"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "system_tag": "system"}),
            );
        }
        RecordShape::Text => {
            // Pre-training (`stage: pt`) reads the text from the `prompt` column.
            entry.insert("columns".into(), json!({"prompt": "text"}));
        }
    }
    Value::Object(entry)
}

/// The file LLaMA-Factory reads a folder's datasets from.
pub const DATASET_INFO_FILE: &str = "dataset_info.json";

/// Merges the export's entries into the `dataset_info.json` of `existing` (keeping
/// its other entries) and writes the result into `out_dir`, when the records have a
/// shape LLaMA-Factory reads.
pub fn write_dataset_info(
    existing: &Path,
    out_dir: &Path,
    request: &ExportRequest,
    report: &ExportReport,
) -> Result<(), ExportError> {
    let Some(shape) = RecordShape::of(&report.record_fields) else {
        tracing::warn!(
            "the records' fields ({}) are none of the shapes LLaMA-Factory and Axolotl read: no dataset_info.json written",
            report.record_fields.join(", ")
        );
        return Ok(());
    };
    let read_from = existing.join(DATASET_INFO_FILE);
    let path = out_dir.join(DATASET_INFO_FILE);
    let mut info: Map<String, Value> = match std::fs::read(&read_from) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ExportError::Read {
            path: read_from.clone(),
            message: format!("not a JSON object ({e}): move it away to have tdg write its entries"),
        })?,
        Err(_) => Map::new(),
    };
    let name = dataset_name(request);
    for split in &report.splits {
        info.insert(
            entry_name(&name, &split.name),
            llama_factory_entry(shape, split, &report.record_fields),
        );
    }
    let mut text = serde_json::to_string_pretty(&info).expect("JSON serializes");
    text.push('\n');
    crate::atomic_file::write(&path, text.as_bytes()).map_err(|e| ExportError::Write {
        path,
        message: e.to_string(),
    })
}

/// Axolotl's `datasets:` (the first split) and `test_datasets:` (the others) lines
/// for the export, or none when the records' shape is not one Axolotl reads.
pub fn axolotl_lines(request: &ExportRequest, report: &ExportReport) -> Option<String> {
    let shape = RecordShape::of(&report.record_fields)?;
    let folder = std::path::absolute(&request.output_dir)
        .unwrap_or_else(|_| request.output_dir.clone())
        .display()
        .to_string();
    let ds_type = match request.output_type {
        super::ExportType::Parquet => "parquet",
        super::ExportType::Jsonl | super::ExportType::Json => "json",
    };
    let mut text = String::new();
    for (index, split) in report.splits.iter().enumerate() {
        if index == 0 {
            text.push_str("datasets:\n");
        } else if index == 1 {
            text.push_str("test_datasets:\n");
        }
        text.push_str(&format!(
            "  - path: {}\n    ds_type: {ds_type}\n    data_files:\n",
            serde_json::to_string(&folder).expect("a string serializes")
        ));
        for file in &split.files {
            text.push_str(&format!("      - {file}\n"));
        }
        text.push_str(&format!(
            "    split: train  # the files of the `{}` split, which datasets names train\n",
            split.name
        ));
        // A trace in its own field reaches the chat template (Qwen3's reads
        // `reasoning_content`) only when mapped to a message property.
        let reasoning_field = report.with_reasoning > 0
            && request.reasoning_style == crate::task::ReasoningStyle::Field;
        let reasoning = if reasoning_field {
            "      reasoning_content: reasoning_content\n"
        } else {
            ""
        };
        match shape {
            RecordShape::Alpaca => text.push_str("    type: alpaca\n"),
            RecordShape::ShareGpt => text.push_str(&format!(
                "    type: chat_template\n    field_messages: conversations\n    message_property_mappings:\n      role: from\n      content: value\n{reasoning}    roles:\n      user: [human]\n      assistant: [gpt]\n      system: [system]\n"
            )),
            RecordShape::Chat if reasoning_field => text.push_str(&format!(
                "    type: chat_template\n    field_messages: messages\n    message_property_mappings:\n      role: role\n      content: content\n{reasoning}"
            )),
            RecordShape::Chat => {
                text.push_str("    type: chat_template\n    field_messages: messages\n")
            }
            RecordShape::Text => text.push_str("    type: completion\n    field: text\n"),
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn shapes_are_recognised_by_their_fields() {
        assert_eq!(
            RecordShape::of(&fields(&["instruction", "input", "output"])),
            Some(RecordShape::Alpaca)
        );
        assert_eq!(
            RecordShape::of(&fields(&["conversations"])),
            Some(RecordShape::ShareGpt)
        );
        assert_eq!(
            RecordShape::of(&fields(&["messages"])),
            Some(RecordShape::Chat)
        );
        assert_eq!(RecordShape::of(&fields(&["text"])), Some(RecordShape::Text));
        assert_eq!(RecordShape::of(&fields(&["prompt", "completion"])), None);
    }

    #[test]
    fn one_file_is_named_and_shards_read_the_folder() {
        let split = SplitReport {
            name: "validation".into(),
            rows: 3,
            units: 1,
            files: vec!["data/validation-00000-of-00001.parquet".into()],
        };
        let entry = llama_factory_entry(RecordShape::Chat, &split, &fields(&["messages"]));
        assert_eq!(entry["file_name"], "data/validation-00000-of-00001.parquet");
        assert_eq!(entry["formatting"], "sharegpt");
        assert_eq!(entry["tags"]["role_tag"], "role");
        let sharded = SplitReport {
            files: vec!["a".into(), "b".into()],
            ..split
        };
        let entry = llama_factory_entry(
            RecordShape::Alpaca,
            &sharded,
            &fields(&["instruction", "output"]),
        );
        assert_eq!(entry["script_url"], ".");
        assert_eq!(entry["split"], "validation");
        assert!(entry["columns"].get("query").is_none());
        assert_eq!(entry_name("qa", "train"), "qa");
        assert_eq!(entry_name("qa", "test"), "qa_test");
    }
}
