//! Text helpers that loaders share: what every extracted text needs before it is
//! chunked, whatever the format it came from.

/// `text` with no trailing spaces on its lines and at most one blank line in a row
/// (lines holding only spaces count as blank), without blank lines at either end.
pub fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_one_blank_line_and_drops_trailing_spaces() {
        assert_eq!(tidy_lines("\n a  \n\n \n\nb\t\nc\n\n"), " a\n\nb\nc");
    }
}
