//! Reading order for a page that draws two columns row by row across the page (the
//! left column's first line, the right column's first line, then each second line…),
//! as some generators write them: its lines are put back column by column. Typesetters
//! and word processors draw a column at a time, and a page drawn that way, or with one
//! column, is left in the order it is drawn: the order is changed only when the drawing
//! goes back and forth across a gutter that few lines cross, many times over.
//!
//! A row drawn across both columns reads as one line with a wide gap in it; it is cut
//! at the gap over the gutter. Lines that span the gutter (a title, a full-width
//! caption) cut the page into bands; each band reads its left column, then its right.

use crate::layout::Line;

/// The fewest pieces of line on each side of a gutter for the page to be two columns.
const LINES_PER_COLUMN: usize = 3;

/// Puts `lines` (in drawing order) in reading order, if they interleave two columns.
pub(crate) fn in_reading_order(lines: &mut Vec<Line>) {
    let Some(gutter) = gutter(lines) else {
        return;
    };
    let pieces: Vec<(Side, Line)> = lines.iter().flat_map(|line| cut_at(line, gutter)).collect();
    let columns: Vec<Side> = pieces
        .iter()
        .map(|(side, _)| *side)
        .filter(|side| *side != Side::Across)
        .collect();
    let switches = columns.windows(2).filter(|pair| pair[0] != pair[1]).count();
    let bands = pieces.len() - columns.len() + 1;
    // Drawn a column at a time, each band switches sides once or twice.
    if switches <= 2 * bands || switches * 4 < columns.len() {
        return;
    }
    let mut pieces = pieces;
    // Top to bottom (PDF baselines grow upwards); a stable sort keeps a row's order.
    pieces.sort_by(|a, b| b.1.y.total_cmp(&a.1.y));
    lines.clear();
    let mut band: Vec<(Side, Line)> = Vec::new();
    for (side, line) in pieces {
        if side == Side::Across {
            flush(&mut band, lines);
            lines.push(line);
        } else {
            band.push((side, line));
        }
    }
    flush(&mut band, lines);
}

/// Which side of the gutter a line is on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
    Across,
}

/// `line` as the pieces on each side of `gutter`: cut at a wide gap over the gutter,
/// whole if it lies on one side or runs across.
fn cut_at(line: &Line, gutter: f64) -> Vec<(Side, Line)> {
    if line.right <= gutter {
        return vec![(Side::Left, line.clone())];
    }
    if line.left >= gutter {
        return vec![(Side::Right, line.clone())];
    }
    let Some(&(end, start, at)) = line
        .gaps
        .iter()
        .find(|(end, start, _)| *end <= gutter && *start >= gutter)
    else {
        return vec![(Side::Across, line.clone())];
    };
    let piece = |left: f64, right: f64, text: &str| Line {
        left,
        right,
        y: line.y,
        size: line.size,
        text: text.to_string(),
        gaps: Vec::new(),
    };
    vec![
        (Side::Left, piece(line.left, end, &line.text[..at])),
        (Side::Right, piece(start, line.right, &line.text[at..])),
    ]
}

/// Moves a band's lines to `lines`: the left column's, then the right's, each top to
/// bottom.
fn flush(band: &mut Vec<(Side, Line)>, lines: &mut Vec<Line>) {
    let (left, right): (Vec<_>, Vec<_>) = band.drain(..).partition(|(side, _)| *side == Side::Left);
    lines.extend(left.into_iter().chain(right).map(|(_, line)| line));
}

/// The pieces of `line` between its wide gaps, as (left, right) across the page.
fn spans(line: &Line) -> impl Iterator<Item = (f64, f64)> + '_ {
    let starts = std::iter::once(line.left).chain(line.gaps.iter().map(|gap| gap.1));
    let ends = line
        .gaps
        .iter()
        .map(|gap| gap.0)
        .chain(std::iter::once(line.right));
    starts.zip(ends)
}

/// An x in the middle of the page that few pieces of line cross, with at least
/// [`LINES_PER_COLUMN`] pieces wholly on each side: the gutter between two columns.
fn gutter(lines: &[Line]) -> Option<f64> {
    let spans: Vec<(f64, f64)> = lines.iter().flat_map(spans).collect();
    if spans.len() < 2 * LINES_PER_COLUMN {
        return None;
    }
    let start = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let end = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let width = end - start;
    if !width.is_finite() || width <= 0.0 {
        return None;
    }
    // The fewest crossings wins, the nearest the middle on a tie.
    let mut best: Option<(usize, f64, f64)> = None; // (crossing, distance to the middle, x)
    for step in 25..=75 {
        let x = start + width * f64::from(step) / 100.0;
        let crossing = spans.iter().filter(|s| s.0 < x && s.1 > x).count();
        let left = spans.iter().filter(|s| s.1 <= x).count();
        let right = spans.iter().filter(|s| s.0 >= x).count();
        if left < LINES_PER_COLUMN || right < LINES_PER_COLUMN || crossing * 5 > spans.len() {
            continue;
        }
        let distance = (f64::from(step) - 50.0).abs();
        if best.is_none_or(|(fewest, nearest, _)| (crossing, distance) < (fewest, nearest)) {
            best = Some((crossing, distance, x));
        }
    }
    best.map(|(_, _, x)| x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(left: f64, y: f64, text: &str) -> Line {
        Line {
            left,
            right: left + 200.0,
            y,
            size: 10.0,
            text: text.to_string(),
            gaps: Vec::new(),
        }
    }

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|line| line.text.as_str()).collect()
    }

    #[test]
    fn rows_drawn_across_two_columns_read_column_by_column_under_a_title() {
        let mut lines = vec![Line {
            right: 500.0,
            ..line(72.0, 800.0, "Title across")
        }];
        for row in 0..4 {
            // Each row is one line to the layout: the left column's, a gap, the right's.
            let y = 780.0 - 12.0 * f64::from(row);
            let left = format!("L{row} ");
            lines.push(Line {
                right: 500.0,
                text: format!("{left}R{row}"),
                gaps: vec![(272.0, 300.0, left.len())],
                ..line(72.0, y, "")
            });
        }
        in_reading_order(&mut lines);
        assert_eq!(
            texts(&lines),
            [
                "Title across",
                "L0 ",
                "L1 ",
                "L2 ",
                "L3 ",
                "R0",
                "R1",
                "R2",
                "R3"
            ]
        );
    }

    #[test]
    fn columns_drawn_one_at_a_time_and_single_columns_keep_their_order() {
        let mut columns: Vec<Line> = (0..4)
            .map(|row| line(72.0, 780.0 - 12.0 * f64::from(row), &format!("L{row}")))
            .chain((0..4).map(|row| line(300.0, 780.0 - 12.0 * f64::from(row), &format!("R{row}"))))
            .collect();
        in_reading_order(&mut columns);
        assert_eq!(
            texts(&columns),
            ["L0", "L1", "L2", "L3", "R0", "R1", "R2", "R3"]
        );
        // One column, with a line drawn out of place (a footnote mark): untouched.
        let mut single: Vec<Line> = [(780.0, "a"), (768.0, "b"), (700.0, "note"), (756.0, "c")]
            .iter()
            .map(|(y, text)| Line {
                right: 500.0,
                ..line(72.0, *y, text)
            })
            .collect();
        in_reading_order(&mut single);
        assert_eq!(texts(&single), ["a", "b", "note", "c"]);
    }
}
