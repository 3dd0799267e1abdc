//! Plain-text tables: a header row, a rule, and rows; text columns left-aligned, numbers
//! right-aligned.

use std::io::{self, Write};

pub struct Table {
    headers: Vec<String>,
    /// Leading columns that hold names (left-aligned); the rest are right-aligned.
    text_columns: usize,
    widths: Vec<usize>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str], text_columns: usize) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            text_columns,
            widths: headers.iter().map(|h| h.chars().count()).collect(),
            rows: Vec::new(),
        }
    }

    /// Keeps a row for [`Table::write`].
    pub fn row(&mut self, cells: Vec<String>) {
        self.measure(&cells);
        self.rows.push(cells);
    }

    /// Widens the columns for a row that will be written with [`Table::write_row`]; with
    /// [`Table::write_header`], this writes long tables without keeping their rows.
    pub fn measure(&mut self, cells: &[String]) {
        for (width, cell) in self.widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }

    /// The header, a rule, and the kept rows.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_header(out)?;
        for row in &self.rows {
            self.write_row(out, row)?;
        }
        Ok(())
    }

    pub fn write_header(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_row(out, &self.headers)?;
        let rule: Vec<String> = self.widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(out, "{}", rule.join("  "))
    }

    pub fn write_row(&self, out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
        let mut line = String::new();
        for (i, (cell, width)) in cells.iter().zip(&self.widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width.saturating_sub(cell.chars().count());
            if i < self.text_columns {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        writeln!(out, "{}", line.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_text_left_and_numbers_right() {
        let mut table = Table::new(&["tier", "requests"], 1);
        table.row(vec!["label".into(), "7".into()]);
        table.row(vec!["analysis".into(), "1,200".into()]);
        let mut out = Vec::new();
        table.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "tier      requests\n--------  --------\nlabel            7\nanalysis     1,200\n"
        );
    }
}
