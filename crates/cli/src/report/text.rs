//! The human-readable report: served requests by tier and by model, what shadow-mode lines
//! would have saved, the time series with `--by`, and notes on what could not be counted.

use std::io::{self, Write};

use super::groups::{Breakdown, Cell, Named};
use super::stats::Stats;
use super::summary::Summary;
use super::time::Period;
use crate::{fmt, table::Table};

pub(super) const SERVED_COLUMNS: &[&str] = &[
    "requests",
    "errors",
    "in tok",
    "out tok",
    "cost $",
    "baseline $",
    "saved $",
    "saved",
    "ttft p50",
    "ttft p95",
    "lat p50",
    "lat p95",
    "fallbacks",
    "failovers",
    "escalations",
];

pub(super) const SHADOW_COLUMNS: &[&str] = &[
    "requests",
    "in tok",
    "out tok",
    "routed $",
    "baseline $",
    "would save $",
    "would save",
];

pub fn write(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} ({}), {} unparseable",
        fmt::plural(summary.lines, "line"),
        fmt::bytes(summary.bytes),
        fmt::count(summary.unparseable)
    )?;
    if summary.served.is_empty() && summary.shadow.is_empty() {
        writeln!(out, "no requests")?;
    }
    if !summary.served.is_empty() {
        served(&summary.served, out)?;
    }
    if !summary.shadow.is_empty() {
        shadow(&summary.shadow, out)?;
    }
    if let Some(period) = summary.printed_period() {
        series(
            &summary.served,
            period,
            "served",
            served_cells,
            SERVED_COLUMNS,
            out,
        )?;
        series(
            &summary.shadow,
            period,
            "shadow",
            shadow_cells,
            SHADOW_COLUMNS,
            out,
        )?;
    }
    notes(summary, out)
}

fn served(b: &Breakdown, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nServed requests by tier (latencies in ms)")?;
    named_table("tier", &b.by_tier, &b.total, served_cells, SERVED_COLUMNS).write(out)?;
    writeln!(out, "\nServed requests by model")?;
    named_table("model", &b.by_model, &b.total, served_cells, SERVED_COLUMNS).write(out)
}

fn shadow(b: &Breakdown, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "\nShadow requests (decided and logged, not served): what routing would have saved"
    )?;
    named_table("tier", &b.by_tier, &b.total, shadow_cells, SHADOW_COLUMNS).write(out)?;
    writeln!(
        out,
        "\nShadow requests by the model routing would have picked"
    )?;
    named_table("model", &b.by_model, &b.total, shadow_cells, SHADOW_COLUMNS).write(out)
}

pub(super) type Cells = fn(&Stats) -> Vec<String>;

fn named_table(what: &str, named: &Named, total: &Stats, cells: Cells, columns: &[&str]) -> Table {
    let mut headers = vec![what];
    headers.extend_from_slice(columns);
    let mut table = Table::new(&headers, 1);
    for (name, stats) in named.sorted() {
        table.row(with_names(&[name], cells(stats)));
    }
    table.row(with_names(&["total"], cells(total)));
    table
}

/// Written in two passes over the cells (widths, then rows), so a long series is never
/// held as text.
fn series(
    b: &Breakdown,
    period: Period,
    kind: &str,
    cells: Cells,
    columns: &[&str],
    out: &mut dyn Write,
) -> io::Result<()> {
    let series = b.series();
    if series.is_empty() {
        return Ok(());
    }
    let step = period.name();
    writeln!(out, "\nBy {step} (UTC), {kind} requests")?;
    let mut headers = vec![step, "tier"];
    headers.extend_from_slice(columns);
    let mut table = Table::new(&headers, 2);
    let row = |cell: &Cell<'_>| {
        let label = cell
            .start
            .map_or_else(|| "(no time)".to_string(), |s| period.label(s));
        with_names(&[&label, cell.tier], cells(cell.stats))
    };
    for cell in &series {
        table.measure(&row(cell));
    }
    table.write_header(out)?;
    for cell in &series {
        table.write_row(out, &row(cell))?;
    }
    if b.series_dropped > 0 {
        writeln!(
            out,
            "left out of the series (over {} periods): {}",
            fmt::count(super::groups::MAX_PERIODS as u64),
            fmt::plural(b.series_dropped, "line")
        )?;
    }
    Ok(())
}

fn with_names(names: &[&str], cells: Vec<String>) -> Vec<String> {
    let mut row: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    row.extend(cells);
    row
}

pub(super) fn served_cells(s: &Stats) -> Vec<String> {
    let mut cells = money_cells(s);
    cells.insert(1, fmt::count(s.errors));
    cells.extend([
        fmt::ms(s.ttft.quantile(0.5)),
        fmt::ms(s.ttft.quantile(0.95)),
        fmt::ms(s.latency.quantile(0.5)),
        fmt::ms(s.latency.quantile(0.95)),
        fmt::count(s.fallbacks),
        known_count(s, s.failovers),
        known_count(s, s.escalations),
    ]);
    cells
}

/// `-` when no line of the group said whether it failed over or escalated.
fn known_count(s: &Stats, count: u64) -> String {
    if s.failover_known == 0 {
        "-".to_string()
    } else {
        fmt::count(count)
    }
}

pub(super) fn shadow_cells(s: &Stats) -> Vec<String> {
    money_cells(s)
}

/// requests, tokens, cost, baseline, saved, saved %.
fn money_cells(s: &Stats) -> Vec<String> {
    let saved = s.saved_micro();
    vec![
        fmt::count(s.requests),
        fmt::count(s.input_tokens),
        fmt::count(s.output_tokens),
        fmt::usd(s.cost_micro as i64),
        fmt::usd(s.baseline_micro as i64),
        fmt::usd(saved),
        fmt::percent(saved as f64, s.compared_baseline_micro as f64),
    ]
}

fn notes(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let notes = note_lines(summary);
    if !notes.is_empty() {
        writeln!(out)?;
    }
    for note in notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// What could not be counted (unpriced, uncompared, estimated and unbilled lines, unknown
/// failovers, unparseable lines, read errors), one sentence each.
pub(super) fn note_lines(summary: &Summary) -> Vec<String> {
    let mut notes = Vec::new();
    for (kind, b) in [("served", &summary.served), ("shadow", &summary.shadow)] {
        let t = &b.total;
        if t.unpriced > 0 {
            notes.push(format!(
                "{kind} requests without a cost (a model without a price): {}",
                fmt::count(t.unpriced)
            ));
        }
        let uncompared = t.requests - t.compared;
        if uncompared > 0 {
            notes.push(format!(
                "savings compare the {} {kind} requests with both a cost and a baseline cost; \
                 {} lack one",
                fmt::count(t.compared),
                fmt::count(uncompared)
            ));
        }
        if t.estimated_usage > 0 {
            notes.push(format!(
                "{kind} requests with estimated usage (the upstream reported none): {}",
                fmt::count(t.estimated_usage)
            ));
        }
        if t.unbilled > 0 {
            notes.push(format!(
                "{kind} requests billed at 0, the upstream did not serve them (errors, refused connections, timeouts): {}",
                fmt::count(t.unbilled)
            ));
        }
    }
    if summary.failover_fields == 0 && !(summary.served.is_empty() && summary.shadow.is_empty()) {
        notes.push(format!(
            "no line has `{}` or `{}` (logs of a filter version that did not log them): \
             failovers and escalations are not known, not zero",
            super::record::FAILOVER_KEY,
            super::record::ESCALATED_KEY
        ));
    }
    if summary.unparseable > 0 {
        notes.push(format!(
            "unparseable lines: {}; first: {}",
            fmt::count(summary.unparseable),
            summary.unparseable_list().join("; ")
        ));
    }
    notes.extend(
        summary
            .read_errors
            .iter()
            .map(|e| format!("cannot read {e}")),
    );
    notes
}
