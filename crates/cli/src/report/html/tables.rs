//! The text report's tables as HTML tables: the same columns and the same cells
//! (`text::served_cells`, `text::shadow_cells`), names escaped.

use std::fmt::Write;

use super::escape::escape;
use crate::report::groups::{Breakdown, Named};
use crate::report::stats::Stats;
use crate::report::text::Cells;
use crate::report::time::Period;

/// A table per name (tier or model) with a total row.
pub fn named(what: &str, named: &Named, total: &Stats, cells: Cells, columns: &[&str]) -> String {
    let mut out = open_table(&[what], columns);
    for (name, stats) in named.sorted() {
        row(&mut out, "", &[name], &cells(stats));
    }
    row(&mut out, "total", &["total"], &cells(total));
    out.push_str("</tbody></table></div>");
    out
}

/// The `--by` series: a row per (period, tier).
pub fn series(b: &Breakdown, period: Period, cells: Cells, columns: &[&str]) -> String {
    let mut out = open_table(&[period.name(), "tier"], columns);
    for cell in b.series() {
        let label = cell
            .start
            .map_or_else(|| "(no time)".to_string(), |s| period.label(s));
        row(&mut out, "", &[&label, cell.tier], &cells(cell.stats));
    }
    out.push_str("</tbody></table></div>");
    out
}

fn open_table(names: &[&str], columns: &[&str]) -> String {
    let mut out = String::from(r#"<div class="scroll"><table><thead><tr>"#);
    for name in names {
        let _ = write!(out, r#"<th class="name">{}</th>"#, escape(name));
    }
    for column in columns {
        let _ = write!(out, "<th>{}</th>", escape(column));
    }
    out.push_str("</tr></thead><tbody>");
    out
}

fn row(out: &mut String, class: &str, names: &[&str], cells: &[String]) {
    let _ = write!(out, r#"<tr class="{class}">"#);
    for name in names {
        let _ = write!(out, r#"<td class="name">{}</td>"#, escape(name));
    }
    for cell in cells {
        let _ = write!(out, "<td>{}</td>", escape(cell));
    }
    out.push_str("</tr>");
}
