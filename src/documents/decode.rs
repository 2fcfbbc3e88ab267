//! Plain-text documents (`.txt`, `.md`): bytes to text as the original chunker read
//! them (UTF-8 with universal newlines: `\r\n` and a lone `\r` become `\n`). A file
//! that is not UTF-8 is an error that says what it is, never text with replacement
//! characters in it.

/// Why a plain-text document cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "it is UTF-16 (it starts with a UTF-16 byte-order mark); tdg reads text as UTF-8: convert it, e.g. `iconv -f UTF-16 -t UTF-8`"
    )]
    Utf16,
    #[error(
        "it is not valid UTF-8 (byte {offset}, line {line}); tdg reads text as UTF-8: convert it from its encoding, e.g. `iconv -f LATIN1 -t UTF-8`"
    )]
    NotUtf8 { offset: usize, line: usize },
}

/// The text of a plain-text document. A UTF-8 byte-order mark is dropped.
pub fn decode_text(bytes: &[u8]) -> Result<String, DecodeError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(DecodeError::Utf16);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let offset = error.valid_up_to();
        DecodeError::NotUtf8 {
            offset,
            line: 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count(),
        }
    })?;
    Ok(universal_newlines(text))
}

/// Python's universal newlines: `\r\n` and `\r` read as `\n`.
pub fn universal_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_and_names_what_is_not() {
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFa\r\nb\rc\n").unwrap(),
            "a\nb\nc\n"
        );
        assert_eq!(decode_text(b"\xFF\xFEa\0"), Err(DecodeError::Utf16));
        assert_eq!(
            decode_text(b"line\ncaf\xE9\n"),
            Err(DecodeError::NotUtf8 { offset: 8, line: 2 })
        );
    }
}
