//! JSON written exactly as the original Python tool's `json.dump` wrote it, so that
//! files either tool writes compare byte for byte.
//!
//! Python's `json.dumps(obj, ensure_ascii=False)` separates items with `", "` and keys
//! from values with `": "`; with `indent=2` it puts each item on its own line and
//! keeps `": "`. Strings escape `"`, `\`, and control characters (`\n`, `\t`, …,
//! `\u001f`) and keep all other Unicode as is, which is what `serde_json` does too.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};

/// One-line JSON as `json.dumps(value, ensure_ascii=False)` writes it.
pub fn to_line<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut serializer = Serializer::with_formatter(&mut out, PythonCompact);
    value
        .serialize(&mut serializer)
        .expect("serializing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Indented JSON as `json.dump(value, f, indent=2, ensure_ascii=False)` writes it.
pub fn write_pretty<T: Serialize + ?Sized, W: Write>(writer: W, value: &T) -> io::Result<()> {
    let mut serializer = Serializer::with_formatter(writer, PrettyFormatter::with_indent(b"  "));
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// `serde_json`'s compact formatter with Python's default separators.
struct PythonCompact;

/// Python's item separator, `", "`, before every item but the first.
fn item_separator<W: ?Sized + Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl Formatter for PythonCompact {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        item_separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        item_separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_uses_python_separators_and_keeps_unicode() {
        let value = json!({"text": "é \"q\"\n\t\u{1}", "n": [1, 2.5, null], "b": true});
        assert_eq!(
            to_line(&value),
            r#"{"text": "é \"q\"\n\t\u0001", "n": [1, 2.5, null], "b": true}"#
        );
    }

    #[test]
    fn pretty_matches_python_indent_2() {
        let value = json!({"a": [1, {"b": "c"}], "d": {}, "e": []});
        let mut out = Vec::new();
        write_pretty(&mut out, &value).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"c\"\n    }\n  ],\n  \"d\": {},\n  \"e\": []\n}"
        );
    }
}
