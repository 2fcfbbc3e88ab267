//! Where a chunk sits in its document beyond its character offsets: the page of a
//! paged document (a PDF) and the path of headings above it, as `tdg chunk` records
//! them in each chunk's metadata (`page`, `headings`). `tdg prompt` and `tdg review`
//! show it so that a pair can be traced back to its place; chunk files that other
//! chunkers wrote may hold neither, and then there is nothing to show.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A chunk's page and heading path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkPlace {
    /// The page the chunk is on, as its loader numbered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// The headings above the chunk, outermost first (`["Install", "From source"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headings: Vec<String>,
}

impl ChunkPlace {
    /// The place a chunk's metadata records: `page` a whole number (or a string of
    /// one), `headings` a list of strings. Anything else there is not a place and is
    /// left out, so a foreign chunker's metadata never fails a run.
    pub fn from_metadata(metadata: &Map<String, Value>) -> Self {
        let page = match metadata.get("page") {
            Some(Value::Number(number)) => number.as_u64(),
            Some(Value::String(text)) => text.trim().parse().ok(),
            _ => None,
        };
        let headings = match metadata.get("headings") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|heading| !heading.is_empty())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        ChunkPlace { page, headings }
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.page.is_none() && self.headings.is_empty()
    }

    /// The place in words, `page 3 · Install › From source`; `None` when empty.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(page) = self.page {
            parts.push(format!("page {page}"));
        }
        if !self.headings.is_empty() {
            parts.push(self.headings.join(" › "));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// The place as stored in a checkpoint: JSON, or `None` when empty.
    pub fn to_stored(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).expect("a place serializes"))
    }

    /// A place read back from a checkpoint; unreadable or missing text is no place.
    pub fn from_stored(stored: Option<&str>) -> Self {
        stored
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn reads_page_and_headings_and_describes_them() {
        let place = ChunkPlace::from_metadata(&metadata(json!({
            "source": "a.pdf", "page": 3, "headings": ["Install", " From source ", ""]
        })));
        assert_eq!(place.page, Some(3));
        assert_eq!(place.headings, ["Install", "From source"]);
        assert_eq!(
            place.describe().as_deref(),
            Some("page 3 · Install › From source")
        );
        assert_eq!(ChunkPlace::from_stored(place.to_stored().as_deref()), place);
    }

    #[test]
    fn foreign_metadata_is_no_place() {
        let place = ChunkPlace::from_metadata(&metadata(json!({
            "page": "three", "headings": "Install"
        })));
        assert!(place.is_empty());
        assert_eq!(place.describe(), None);
        assert_eq!(place.to_stored(), None);
        assert_eq!(
            ChunkPlace::from_metadata(&metadata(json!({"page": "7"}))).page,
            Some(7)
        );
    }
}
