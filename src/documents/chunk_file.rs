//! One document's chunk file, field for field as the original chunker wrote it
//! (`json.dumps(indent=2, ensure_ascii=False)`, no newline at the end; the keys in
//! its order), with tdg's additions where readers of the original's files ignore
//! them: each chunk's real character range (`metadata.start_index`, `end_index`) and
//! heading path (`metadata.headings`), and the run's `fingerprint` in
//! `processing_info`, by which a later run knows the file is up to date.

use std::ops::Range;

use serde_json::{Map, Value, json};

use super::recursive::{code_points, python_word_count};
use crate::plugin::loader::LoadedPart;

/// A part of a document (the whole text, or one PDF page) and its chunks' byte
/// ranges, with the heading path of each chunk when the strategy finds them.
pub struct SplitPart<'a> {
    pub part: &'a LoadedPart,
    pub chunks: Vec<Range<usize>>,
    pub headings: Option<Vec<Vec<String>>>,
}

/// What the file says about its source.
pub struct SourceInfo<'a> {
    /// The path as written in `source` and `source_file` (absolute, as the original).
    pub source: &'a str,
    pub file_name: &'a str,
    /// The extension with its dot, `.txt`.
    pub file_type: &'a str,
    pub file_size: u64,
}

/// How the chunks were made, for `processing_info`.
pub struct Processing<'a> {
    pub strategy: &'a str,
    pub chunk_size: usize,
    pub chunk_overlap: usize,
    /// `None` for code points (the original's unit, not written).
    pub size_unit: Option<&'a str>,
    pub fingerprint: &'a str,
}

/// The chunk file's text.
pub fn render(source: &SourceInfo, processing: &Processing, parts: &[SplitPart]) -> String {
    let stride = processing
        .chunk_size
        .saturating_sub(processing.chunk_overlap) as i64;
    let mut chunks = Vec::new();
    for (document_index, split) in parts.iter().enumerate() {
        let text = &split.part.text;
        // Byte offsets to code-point offsets, walking forward once.
        let mut walked_bytes = 0;
        let mut walked_chars = 0;
        let mut char_offset = |byte: usize| {
            if byte < walked_bytes {
                walked_bytes = 0;
                walked_chars = 0;
            }
            walked_chars += code_points(&text[walked_bytes..byte]);
            walked_bytes = byte;
            walked_chars
        };
        for (chunk_index, range) in split.chunks.iter().enumerate() {
            let chunk = &text[range.clone()];
            let length = code_points(chunk);
            let start_index = char_offset(range.start);
            let mut metadata = Map::new();
            metadata.insert("source".into(), source.source.into());
            for (key, value) in &split.part.metadata {
                metadata.insert(key.clone(), value.clone());
            }
            if let Some(page) = split.part.page {
                metadata.insert("page".into(), page.into());
            }
            metadata.insert("source_file".into(), source.source.into());
            metadata.insert("file_name".into(), source.file_name.into());
            metadata.insert("file_type".into(), source.file_type.into());
            metadata.insert("file_size".into(), source.file_size.into());
            if let Some(path) = split.headings.as_ref().and_then(|h| h.get(chunk_index)) {
                metadata.insert("headings".into(), json!(path));
            }
            metadata.insert("start_index".into(), start_index.into());
            metadata.insert("end_index".into(), (start_index + length).into());
            let start_char = chunk_index as i64 * stride;
            chunks.push(json!({
                "text": chunk,
                "start_char": start_char,
                "end_char": start_char + length as i64,
                "chunk_id": format!("{document_index}_{chunk_index}"),
                "chunk_index": chunk_index,
                "document_index": document_index,
                "metadata": metadata,
                "word_count": python_word_count(chunk),
                "char_count": length,
            }));
        }
    }
    let total = chunks.len();
    let mut processing_info = Map::new();
    processing_info.insert("splitting_strategy".into(), processing.strategy.into());
    processing_info.insert("chunk_size".into(), processing.chunk_size.into());
    processing_info.insert("chunk_overlap".into(), processing.chunk_overlap.into());
    processing_info.insert("total_chunks".into(), total.into());
    if let Some(unit) = processing.size_unit {
        processing_info.insert("size_unit".into(), unit.into());
    }
    processing_info.insert("fingerprint".into(), processing.fingerprint.into());
    let file = json!({
        "status": "completed",
        "metadata": {
            "file_name": source.file_name,
            "source_file": source.source,
            "file_type": source.file_type,
            "file_size": source.file_size,
            "processed_at": crate::timestamp::now(),
        },
        "processing_info": processing_info,
        "chunks": chunks,
        "qa_generation_status": {
            "completed_chunks": [],
            "total_chunks": total,
            "last_processed_chunk": -1,
            "is_complete": false,
        },
    });
    serde_json::to_string_pretty(&file).expect("a chunk file serializes")
}

/// The fingerprint and chunk count recorded in an existing chunk file, if it is one
/// tdg wrote (read in one pass).
pub fn recorded_fingerprint(bytes: &[u8]) -> Option<(String, usize)> {
    #[derive(serde::Deserialize)]
    struct Head {
        processing_info: Option<Map<String, Value>>,
    }
    let head: Head = serde_json::from_slice(bytes).ok()?;
    let info = head.processing_info?;
    let fingerprint = info.get("fingerprint")?.as_str()?.to_string();
    let total = info.get("total_chunks")?.as_u64()? as usize;
    Some((fingerprint, total))
}
