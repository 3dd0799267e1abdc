//! One frame of `label`'s screen, as text: the progress, the prompt (system prompt and last
//! user message, wrapped and cut to fit, head and tail of a long message kept), the
//! classifier's suggestion, the keys, and a status line. Prompt text is made inert: control
//! and bidi-override characters are shown as `·`, so a prompt cannot move the cursor.

use super::sample::Item;

/// Clears the screen and homes the cursor.
const CLEAR: &str = "\x1b[H\x1b[2J";
/// Rows not given to the prompt: header, two rules, suggestion, keys, status.
const CHROME_ROWS: usize = 6;

pub struct View<'a> {
    /// `sample.jsonl -> labels.jsonl`.
    pub title: &'a str,
    /// 1-based position of the item shown, and the sample's size.
    pub position: usize,
    pub total: usize,
    /// Of the sample, in the files.
    pub labelled: usize,
    pub skipped: usize,
    pub item: Option<&'a Item>,
    /// Each tier's keys and name: (`1 l`, `label`).
    pub tiers: Vec<(String, &'a str)>,
    /// The suggested tier's name, for the Enter key.
    pub suggested: Option<&'a str>,
    pub status: &'a str,
}

pub fn render(view: &View, cols: usize, rows: usize) -> String {
    let cols = cols.max(20);
    let mut lines = vec![header(view, cols), "─".repeat(cols)];
    let body_rows = rows.saturating_sub(CHROME_ROWS).max(2);
    match view.item {
        Some(item) => lines.extend(prompt_lines(item, cols, body_rows)),
        None => lines.push(format!(
            "Nothing left to label in this sample ({} labelled, {} skipped). u: undo the last \
             one, q: quit.",
            view.labelled, view.skipped
        )),
    }
    lines.push("─".repeat(cols));
    if let Some(item) = view.item {
        lines.push(format!("suggestion: {}", item.suggestion.text));
    }
    lines.push(keys_line(view));
    lines.push(inert(view.status).replace('\n', " "));
    // No newline after the last line: on a full screen it would scroll the header away.
    let lines: Vec<String> = lines.iter().map(|line| clip(line, cols)).collect();
    format!("{CLEAR}{}", lines.join("\r\n"))
}

fn header(view: &View, cols: usize) -> String {
    let left = format!("tier-router label  {}", view.title);
    let right = format!(
        "prompt {} of {} · {} labelled · {} skipped",
        view.position.min(view.total),
        view.total,
        view.labelled,
        view.skipped
    );
    let gap = cols.saturating_sub(width(&left) + width(&right)).max(2);
    format!("{left}{}{right}", " ".repeat(gap))
}

fn keys_line(view: &View) -> String {
    let mut parts: Vec<String> = view
        .tiers
        .iter()
        .map(|(keys, name)| format!("[{keys}] {name}"))
        .collect();
    if let Some(name) = view.suggested {
        parts.push(format!("[Enter] accept {name}"));
    }
    parts.extend(["[s] skip", "[u] undo", "[q] quit"].map(String::from));
    parts.join("  ")
}

/// The system prompt (at most a third of the rows) and the last user message (the rest).
fn prompt_lines(item: &Item, cols: usize, rows: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let user_title = format!(
        "user (last message; {} in {}):",
        crate::fmt::bytes(item.prompt_bytes as u64),
        crate::fmt::plural(item.turns as u64, "turn")
    );
    let mut user_rows = rows.saturating_sub(1);
    if !item.system.trim().is_empty() {
        let system = wrap(&item.system, cols);
        let system_rows = (rows / 3).max(2).min(system.len() + 1);
        lines.push("system:".to_string());
        lines.extend(fit(system, system_rows - 1));
        user_rows = user_rows.saturating_sub(system_rows).max(1);
    }
    lines.push(user_title);
    lines.extend(fit(wrap(&item.user, cols), user_rows));
    lines
}

/// At most `rows` lines: the head and, for a long text, a marker and the tail (the end of a
/// prompt is often the instruction: "... summarise the above in one word").
fn fit(lines: Vec<String>, rows: usize) -> Vec<String> {
    if lines.len() <= rows {
        return lines;
    }
    if rows < 3 {
        let mut head: Vec<String> = lines.iter().take(rows.saturating_sub(1)).cloned().collect();
        head.push(format!("  … {} more lines", lines.len() - head.len()));
        return head;
    }
    let tail = (rows - 1) / 3;
    let head = rows - 1 - tail;
    let hidden = lines.len() - head - tail;
    let mut out: Vec<String> = lines.iter().take(head).cloned().collect();
    out.push(format!("  … {hidden} more lines …"));
    out.extend(lines.iter().skip(lines.len() - tail).cloned());
    out
}

/// Word-wraps `text` at `cols` characters, paragraph by paragraph.
fn wrap(text: &str, cols: usize) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in inert(text).split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let mut word = word.to_string();
            if !line.is_empty() && width(&line) + 1 + width(&word) > cols {
                out.push(std::mem::take(&mut line));
            } else if !line.is_empty() {
                line.push(' ');
            }
            while width(&word) > cols {
                let cut: String = word.chars().take(cols).collect();
                word = word.chars().skip(cols).collect();
                if !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                }
                out.push(cut);
            }
            line.push_str(&word);
        }
        out.push(line);
    }
    out
}

/// Tabs as spaces; control, bidi and other invisible formatting characters as `·`.
fn inert(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '\r')
        .map(|c| match c {
            '\t' => ' ',
            '\n' => '\n',
            c if c.is_control() || is_format(c) => '·',
            c => c,
        })
        .collect()
}

/// Bidi embeddings, overrides and isolates, and zero-width characters.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Columns, counted as characters (wide CJK characters may overrun by a few columns; the
/// line is then wrapped by the terminal, not lost).
fn width(text: &str) -> usize {
    text.chars().count()
}

fn clip(line: &str, cols: usize) -> String {
    if width(line) <= cols {
        line.to_string()
    } else {
        let mut cut: String = line.chars().take(cols.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_text_cannot_drive_the_terminal() {
        let text = inert("a\x1b[2Jb\u{202e}c\td\r\ne");
        assert_eq!(text, "a·[2Jb·c d\ne");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x\n\ny", 10), vec!["x", "", "y"]);
    }

    #[test]
    fn a_long_text_keeps_its_head_and_tail() {
        let lines: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
        let shown = fit(lines, 7);
        assert_eq!(
            shown,
            vec!["1", "2", "3", "4", "  … 14 more lines …", "19", "20"]
        );
    }
}
