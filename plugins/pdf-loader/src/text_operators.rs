//! Spells out the two text operators that pdf-extract 0.12 does not know, before it
//! reads a page: `'` (move to the next line, show a string) and `"` (set the word and
//! character spacing, then as `'`). Typesetters use them for most lines of running
//! text (groff through Ghostscript writes a paragraph's lines with `'`), and pdf-extract
//! skips them, with their text: whole lines went missing. Each becomes the operators it
//! stands for in the PDF specification (§9.4.3): `T*` and `Tj`, after `Tw` and `Tc`
//! for `"`. Pages and form XObjects without either operator are left untouched.

use pdf_extract::content::{Content, Operation};
use pdf_extract::{Document, Object, ObjectId, Stream, dictionary};

/// Rewrites every page's content stream, and every form XObject's, that uses `'` or
/// `"`. A stream that cannot be decoded is left as it is (pdf-extract reports it).
pub fn spell_out_next_line_operators(document: &mut Document) {
    let pages: Vec<ObjectId> = document.get_pages().into_values().collect();
    for page in pages {
        let Ok(content) = document.get_page_content(page) else {
            continue;
        };
        if let Some(rewritten) = rewritten(&content) {
            let stream = document.add_object(Stream::new(dictionary! {}, rewritten));
            if let Ok(Object::Dictionary(page)) = document.get_object_mut(page) {
                page.set("Contents", stream);
            }
        }
    }
    for object in document.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let is_form = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|name| name == b"Form");
        if !is_form {
            continue;
        }
        let Ok(content) = stream.get_plain_content() else {
            continue;
        };
        if let Some(rewritten) = rewritten(&content) {
            stream.set_plain_content(rewritten);
        }
    }
}

/// Whether a `'` or `"` in `content` comes after the end of a string (`)` or `>`,
/// spaces between): where the operators stand, and rarely anything else.
fn might_use_next_line_operators(content: &[u8]) -> bool {
    memchr::memchr2_iter(b'\'', b'"', content).any(|at| {
        content[..at]
            .iter()
            .rev()
            .find(|byte| !byte.is_ascii_whitespace())
            .is_some_and(|byte| matches!(byte, b')' | b'>'))
    })
}

/// `content` with `'` and `"` spelled out, or `None` when it uses neither (or cannot
/// be decoded).
fn rewritten(content: &[u8]) -> Option<Vec<u8>> {
    // A cheap look first: either operator follows its string operand, `(…)` or `<…>`,
    // while an apostrophe in running text follows a letter.
    if !might_use_next_line_operators(content) {
        return None;
    }
    let decoded = Content::decode(content).ok()?;
    if !decoded
        .operations
        .iter()
        .any(|operation| matches!(operation.operator.as_str(), "'" | "\""))
    {
        return None;
    }
    let mut operations = Vec::with_capacity(decoded.operations.len() + 8);
    for operation in decoded.operations {
        match (operation.operator.as_str(), operation.operands.as_slice()) {
            ("'", [text]) => {
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text.clone()]));
            }
            ("\"", [word_spacing, character_spacing, text]) => {
                operations.push(Operation::new("Tw", vec![word_spacing.clone()]));
                operations.push(Operation::new("Tc", vec![character_spacing.clone()]));
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text.clone()]));
            }
            _ => operations.push(operation),
        }
    }
    Content { operations }.encode().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_operators_become_the_ones_they_stand_for() {
        let content = b"BT 12 TL (first) Tj (second)' 1 0.5 (third)\" (it's) Tj ET";
        let spelled_out = String::from_utf8(rewritten(content).unwrap()).unwrap();
        assert_eq!(
            spelled_out,
            "BT\n12 TL\n(first) Tj\nT*\n(second) Tj\n1 Tw\n0.5 Tc\nT*\n(third) Tj\n(it's) Tj\nET"
        );
        // An apostrophe inside a string is not the operator.
        assert_eq!(rewritten(b"BT (it's) Tj ET"), None);
    }
}
