//! `report --json`: the same numbers as the tables, for machines, serialized straight from
//! the statistics (no document tree is built, so a long `--by hour` series costs no extra
//! memory). Money in USD (JSON numbers, from integer micro-dollar sums), latencies in ms.

use std::io::Write;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::json;

use super::groups::{Breakdown, Named};
use super::sketch::{Sketch, RELATIVE_ERROR};
use super::stats::Stats;
use super::summary::Summary;
use super::time::Period;
use crate::fmt::usd_number;

pub fn write(summary: &Summary, inputs: &[String], out: impl Write) -> serde_json::Result<()> {
    serde_json::to_writer_pretty(out, &ReportView { summary, inputs })
}

struct ReportView<'a> {
    summary: &'a Summary,
    inputs: &'a [String],
}

impl Serialize for ReportView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.summary;
        let first: Vec<_> = s
            .first_unparseable
            .iter()
            .map(|b| json!({"input": b.input, "line": b.line, "error": b.reason}))
            .collect();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("inputs", self.inputs)?;
        map.serialize_entry("lines", &s.lines)?;
        map.serialize_entry("bytes", &s.bytes)?;
        map.serialize_entry(
            "unparseable",
            &json!({"count": s.unparseable, "first": first}),
        )?;
        map.serialize_entry("read_errors", &s.read_errors)?;
        map.serialize_entry("lines_with_failover_fields", &s.failover_fields)?;
        map.serialize_entry("quantile_relative_error", &RELATIVE_ERROR)?;
        map.serialize_entry("served", &BreakdownView(&s.served))?;
        map.serialize_entry("shadow", &BreakdownView(&s.shadow))?;
        if let Some(period) = s.printed_period() {
            map.serialize_entry("series", &SeriesView { summary: s, period })?;
        }
        map.end()
    }
}

struct BreakdownView<'a>(&'a Breakdown);

impl Serialize for BreakdownView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("total", &StatsView(&self.0.total))?;
        map.serialize_entry("by_tier", &NamedView(&self.0.by_tier))?;
        map.serialize_entry("by_model", &NamedView(&self.0.by_model))?;
        map.end()
    }
}

struct NamedView<'a>(&'a Named);

impl Serialize for NamedView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let groups = self.0.sorted();
        let mut map = serializer.serialize_map(Some(groups.len()))?;
        for (name, stats) in groups {
            map.serialize_entry(name, &StatsView(stats))?;
        }
        map.end()
    }
}

struct SeriesView<'a> {
    summary: &'a Summary,
    period: Period,
}

impl Serialize for SeriesView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("by", self.period.name())?;
        map.serialize_entry("served", &RowsView(&self.summary.served, self.period))?;
        map.serialize_entry("shadow", &RowsView(&self.summary.shadow, self.period))?;
        map.end()
    }
}

/// `{"rows": [{"period", "tier", ...stats}], "dropped_lines": n}`.
struct RowsView<'a>(&'a Breakdown, Period);

impl Serialize for RowsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("rows", &CellsView(self.0, self.1))?;
        map.serialize_entry("dropped_lines", &self.0.series_dropped)?;
        map.end()
    }
}

struct CellsView<'a>(&'a Breakdown, Period);

impl Serialize for CellsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cells = self.0.series();
        let mut seq = serializer.serialize_seq(Some(cells.len()))?;
        for cell in &cells {
            let period = cell.start.map(|start| self.1.label(start));
            seq.serialize_element(&RowView {
                period: period.as_deref(),
                tier: cell.tier,
                stats: cell.stats,
            })?;
        }
        seq.end()
    }
}

struct RowView<'a> {
    period: Option<&'a str>,
    tier: &'a str,
    stats: &'a Stats,
}

impl Serialize for RowView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("period", &self.period)?;
        map.serialize_entry("tier", self.tier)?;
        stats_entries(self.stats, &mut map)?;
        map.end()
    }
}

struct StatsView<'a>(&'a Stats);

impl Serialize for StatsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        stats_entries(self.0, &mut map)?;
        map.end()
    }
}

fn stats_entries<M: SerializeMap>(s: &Stats, map: &mut M) -> Result<(), M::Error> {
    let saved = s.saved_micro();
    let saved_percent = (s.compared_baseline_micro > 0)
        .then(|| 100.0 * saved as f64 / s.compared_baseline_micro as f64);
    map.serialize_entry("requests", &s.requests)?;
    map.serialize_entry("errors", &s.errors)?;
    map.serialize_entry("fallbacks", &s.fallbacks)?;
    map.serialize_entry("failovers", &s.failovers)?;
    map.serialize_entry("escalations", &s.escalations)?;
    map.serialize_entry("input_tokens", &s.input_tokens)?;
    map.serialize_entry("output_tokens", &s.output_tokens)?;
    map.serialize_entry("cached_input_tokens", &s.cached_input_tokens)?;
    map.serialize_entry("reasoning_tokens", &s.reasoning_tokens)?;
    map.serialize_entry("estimated_usage", &s.estimated_usage)?;
    map.serialize_entry("unbilled", &s.unbilled)?;
    map.serialize_entry("cost_usd", &usd_number(s.cost_micro as i64))?;
    map.serialize_entry("baseline_cost_usd", &usd_number(s.baseline_micro as i64))?;
    map.serialize_entry("saved_usd", &usd_number(saved))?;
    map.serialize_entry("saved_percent", &saved_percent)?;
    map.serialize_entry("unpriced", &s.unpriced)?;
    map.serialize_entry("compared", &s.compared)?;
    map.serialize_entry("ttft_ms", &Quantiles(&s.ttft))?;
    map.serialize_entry("latency_ms", &Quantiles(&s.latency))
}

/// `{"p50", "p95", "samples"}`; the percentiles are `null` without samples.
struct Quantiles<'a>(&'a Sketch);

impl Serialize for Quantiles<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("p50", &self.0.quantile(0.5))?;
        map.serialize_entry("p95", &self.0.quantile(0.95))?;
        map.serialize_entry("samples", &self.0.count())?;
        map.end()
    }
}
