//! JSON written exactly as the original Python tool's `json.dump` wrote it, so that
//! files either tool writes compare byte for byte.
//!
//! Python's `json.dumps(obj, ensure_ascii=False)` separates items with `", "` and keys
//! from values with `": "`; with `indent=2` it puts each item on its own line and
//! keeps `": "`. Strings escape `"`, `\`, and control characters (`\n`, `\t`, …,
//! `\u001f`) and keep all other Unicode as is, which is what `serde_json` does too.
//!
//! Reading, Python accepts a lone surrogate escape (`"\ud800"`, which its `json`
//! writes for a string holding one) where `serde_json` refuses the whole file;
//! [`from_slice`] reads it as Python does, except that the lone surrogate, which
//! UTF-8 cannot hold, becomes U+FFFD.

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

/// Parses JSON as Python's `json.loads` does: like `serde_json::from_slice`, but a
/// lone surrogate escape is read (as U+FFFD) instead of failing the document.
pub fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(bytes).or_else(|error| match replace_lone_surrogates(bytes) {
        Some(repaired) => serde_json::from_slice(&repaired),
        None => Err(error),
    })
}

/// `json` with every `\uXXXX` escape of a lone surrogate (one not in a high-low
/// pair) replaced by `\ufffd`, or `None` when there is none. Escapes only occur in
/// strings, and a `\` byte is never part of a multi-byte UTF-8 character, so the
/// bytes can be scanned without parsing.
fn replace_lone_surrogates(json: &[u8]) -> Option<Vec<u8>> {
    let escape_at = |i: usize| -> Option<u16> {
        let digits = json.get(i..i + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(json.len());
    let mut replaced = false;
    let mut i = 0;
    while i < json.len() {
        if json[i] != b'\\' {
            out.push(json[i]);
            i += 1;
            continue;
        }
        let length = match escape_at(i) {
            Some(0xD800..=0xDBFF) if matches!(escape_at(i + 6), Some(0xDC00..=0xDFFF)) => 12,
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                replaced = true;
                i += 6;
                continue;
            }
            Some(_) => 6,
            None => 2,
        };
        let end = (i + length).min(json.len());
        out.extend_from_slice(&json[i..end]);
        i = end;
    }
    replaced.then_some(out)
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

    #[test]
    fn lone_surrogates_are_read_as_python_reads_them() {
        let python =
            br#"{"a": "x\ud800y", "b": "\udc00", "pair": "\ud83d\ude00", "kept": "\\ud800"}"#;
        assert!(serde_json::from_slice::<serde_json::Value>(python).is_err());
        let value: serde_json::Value = from_slice(python).unwrap();
        assert_eq!(value["a"], "x\u{fffd}y");
        assert_eq!(value["b"], "\u{fffd}");
        assert_eq!(value["pair"], "\u{1f600}");
        assert_eq!(value["kept"], "\\ud800");
        assert!(from_slice::<serde_json::Value>(b"{\"a\": ").is_err());
    }
}
