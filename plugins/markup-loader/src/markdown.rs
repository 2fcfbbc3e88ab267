//! Markdown pieces: headings, tables, and tidying of the text.

/// A Markdown heading of `level` (1 to 6).
pub fn heading(level: usize, text: &str) -> String {
    format!("{} {}", "#".repeat(level.clamp(1, 6)), one_line(text))
}

/// The text on one line, its runs of white space as one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Markdown table: the first row is the header.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    if columns == 0 {
        return String::new();
    }
    let line = |row: &[String]| {
        let mut cells: Vec<String> = row
            .iter()
            .map(|cell| one_line(cell).replace('|', "\\|"))
            .collect();
        cells.resize(columns, String::new());
        format!("| {} |", cells.join(" | "))
    };
    let mut lines = vec![line(&rows[0])];
    lines.push(format!("|{}", " --- |".repeat(columns)));
    lines.extend(rows[1..].iter().map(|row| line(row)));
    lines.join("\n")
}

/// Blocks joined by blank lines, empty ones left out, with no run of more than one
/// blank line.
pub fn join_blocks(blocks: impl IntoIterator<Item = String>) -> String {
    blocks
        .into_iter()
        .map(|block| block.trim().to_string())
        .filter(|block| !block.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Text with at most one blank line in a row, and no trailing spaces.
pub fn tidy(text: &str) -> String {
    tdg_plugin_sdk::text::tidy_lines(text)
}
