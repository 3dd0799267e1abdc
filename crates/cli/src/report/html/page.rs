//! The page: a header naming the inputs, the headline figures, then for served and for
//! shadow lines the charts and the tables, the `--by` series, and the notes. Every figure a
//! chart or a headline shows is in the DOM as `data-value`, as `report --json` prints it.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::charts::{self, Axis, Group, Series, Value};
use super::escape::escape;
use super::tables;
use crate::fmt;
use crate::report::groups::{Breakdown, MAX_PERIODS};
use crate::report::sketch::Sketch;
use crate::report::stats::Stats;
use crate::report::summary::Summary;
use crate::report::text::{self, Cells};
use crate::report::time::Period;

/// Nothing may be fetched: no script, image, font, frame or connection, only the inline
/// style. A browser that honours it cannot make the page reach the network.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE: &str = include_str!("style.css");

const USD: Axis<'static> = Axis {
    prefix: "$",
    suffix: "",
    integer: false,
};
const MS: Axis<'static> = Axis {
    prefix: "",
    suffix: " ms",
    integer: false,
};
const COUNT: Axis<'static> = Axis {
    prefix: "",
    suffix: "",
    integer: true,
};

/// Served or shadow lines, and how the page words and tabulates them.
struct Kind {
    id: &'static str,
    /// The headline's heading.
    name: &'static str,
    title: &'static str,
    saved_legend: &'static str,
    cost_legend: &'static str,
    cells: Cells,
    columns: &'static [&'static str],
    /// TTFT and latency are the served model's: shown for served lines only.
    latency: bool,
}

const SERVED: Kind = Kind {
    id: "served",
    name: "Served",
    title: "Served requests",
    saved_legend: "saved",
    cost_legend: "cost",
    cells: text::served_cells,
    columns: text::SERVED_COLUMNS,
    latency: true,
};

const SHADOW: Kind = Kind {
    id: "shadow",
    name: "Shadow",
    saved_legend: "would save",
    title: "Shadow requests (decided and logged, not served): what routing would have cost",
    cost_legend: "routed (would cost)",
    cells: text::shadow_cells,
    columns: text::SHADOW_COLUMNS,
    latency: false,
};

pub fn render(summary: &Summary, inputs: &[String]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>tier-router report</title><style>{STYLE}</style></head><body><main>"#
    );
    header(&mut out, summary, inputs);
    let kinds = [(&SERVED, &summary.served), (&SHADOW, &summary.shadow)];
    let shown: Vec<_> = kinds.iter().filter(|(_, b)| !b.is_empty()).collect();
    if shown.is_empty() {
        out.push_str(r#"<p class="empty">no requests</p>"#);
    }
    for (kind, b) in &shown {
        headline(&mut out, kind, &b.total);
    }
    for (kind, b) in &shown {
        section(&mut out, kind, b, summary.period);
    }
    notes(&mut out, summary);
    out.push_str("</main></body></html>\n");
    out
}

fn header(out: &mut String, summary: &Summary, inputs: &[String]) {
    let _ = write!(
        out,
        r#"<header><h1>tier-router report</h1><p class="meta">{} ({}), {} unparseable, from {} · tier-router {}</p></header>"#,
        escape(&fmt::plural(summary.lines, "line")),
        escape(&fmt::bytes(summary.bytes)),
        escape(&fmt::count(summary.unparseable)),
        escape(&inputs.join(", ")),
        env!("CARGO_PKG_VERSION")
    );
}

/// Requests, cost, baseline and savings in large type, each with its JSON number.
fn headline(out: &mut String, kind: &Kind, t: &Stats) {
    let saved = t.saved_micro();
    let share = fmt::percent(saved as f64, t.compared_baseline_micro as f64);
    let _ = write!(out, r#"<section class="figures" id="{}-figures">"#, kind.id);
    let _ = write!(out, "<h2>{}</h2>", kind.name);
    figure(
        out,
        kind,
        "requests",
        "requests",
        &t.requests.to_string(),
        &fmt::count(t.requests),
    );
    figure(
        out,
        kind,
        "cost_usd",
        kind.cost_legend,
        &usd_data(t.cost_micro as i64),
        &usd_text(t.cost_micro as i64),
    );
    figure(
        out,
        kind,
        "baseline_cost_usd",
        "all-baseline cost",
        &usd_data(t.baseline_micro as i64),
        &usd_text(t.baseline_micro as i64),
    );
    figure(
        out,
        kind,
        "saved_usd",
        kind.saved_legend,
        &usd_data(saved),
        &format!("{} ({share})", usd_text(saved)),
    );
    out.push_str("</section>");
}

fn figure(out: &mut String, kind: &Kind, key: &str, label: &str, data: &str, text: &str) {
    let _ = write!(
        out,
        r#"<div class="figure" data-figure="{}-{key}" data-value="{}"><span class="big">{}</span><span class="label">{}</span></div>"#,
        kind.id,
        escape(data),
        escape(text),
        escape(label)
    );
}

fn section(out: &mut String, kind: &Kind, b: &Breakdown, period: Option<Period>) {
    let _ = write!(
        out,
        r#"<section id="{}"><h2>{}</h2>"#,
        kind.id,
        escape(kind.title)
    );
    chart(out, "Task mix: requests per tier", &task_mix(kind, b));
    chart(
        out,
        "Cost against the all-baseline cost, per tier",
        &cost_by_tier(kind, b),
    );
    if let Some(period) = period {
        let title = format!(
            "Cost against the all-baseline cost, by {} (UTC)",
            period.name()
        );
        chart(out, &title, &cost_over_time(kind, b, period));
    }
    if kind.latency {
        chart(
            out,
            "Time to first token per model (ms)",
            &quantiles(kind, b, "ttft", |s| &s.ttft),
        );
        chart(
            out,
            "Latency per model (ms)",
            &quantiles(kind, b, "latency", |s| &s.latency),
        );
    }
    out.push_str("<h3>By tier (latencies in ms)</h3>");
    out.push_str(&tables::named(
        "tier",
        &b.by_tier,
        &b.total,
        kind.cells,
        kind.columns,
    ));
    out.push_str("<h3>By model</h3>");
    out.push_str(&tables::named(
        "model",
        &b.by_model,
        &b.total,
        kind.cells,
        kind.columns,
    ));
    if let Some(period) = period {
        let _ = write!(
            out,
            "<details><summary>By {} (UTC), per tier</summary>{}</details>",
            period.name(),
            tables::series(b, period, kind.cells, kind.columns)
        );
    }
    out.push_str("</section>");
}

fn chart(out: &mut String, title: &str, svg: &str) {
    let _ = write!(
        out,
        "<figure><figcaption>{}</figcaption>{svg}</figure>",
        escape(title)
    );
}

fn task_mix(kind: &Kind, b: &Breakdown) -> String {
    let total = b.total.requests;
    let groups: Vec<Group> = b
        .by_tier
        .sorted()
        .into_iter()
        .map(|(tier, s)| Group {
            key: tier.to_string(),
            values: vec![Some(Value {
                number: s.requests as f64,
                data: s.requests.to_string(),
                text: format!(
                    "{} ({})",
                    fmt::count(s.requests),
                    fmt::percent(s.requests as f64, total as f64)
                ),
            })],
        })
        .collect();
    let series = [Series {
        name: "requests",
        legend: "requests",
        class: "c-req",
    }];
    charts::bars(
        &format!("{}-task-mix", kind.id),
        "Task mix",
        &series,
        &groups,
        &COUNT,
    )
}

fn cost_by_tier(kind: &Kind, b: &Breakdown) -> String {
    let groups: Vec<Group> = b
        .by_tier
        .sorted()
        .into_iter()
        .map(|(tier, s)| Group {
            key: tier.to_string(),
            values: vec![Some(usd(s.cost_micro)), Some(usd(s.baseline_micro))],
        })
        .collect();
    let id = format!("{}-cost-by-tier", kind.id);
    charts::bars(&id, "Cost per tier", &cost_series(kind), &groups, &USD)
}

/// Cost and baseline summed over the tiers of each period; lines without a readable
/// `start_time` are in the series table only.
fn cost_over_time(kind: &Kind, b: &Breakdown, period: Period) -> String {
    let mut by_start: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for cell in b.series() {
        if let Some(start) = cell.start {
            let sums = by_start.entry(start).or_default();
            sums.0 += cell.stats.cost_micro;
            sums.1 += cell.stats.baseline_micro;
        }
    }
    if by_start.is_empty() {
        return r#"<p class="empty">no line has a readable start_time</p>"#.to_string();
    }
    let points: Vec<Group> = by_start
        .into_iter()
        .map(|(start, (cost, baseline))| Group {
            key: period.label(start),
            values: vec![Some(usd(cost)), Some(usd(baseline))],
        })
        .collect();
    let id = format!("{}-cost-over-time", kind.id);
    charts::lines(&id, "Cost over time", &cost_series(kind), &points, &USD)
}

fn cost_series(kind: &Kind) -> [Series<'static>; 2] {
    [
        Series {
            name: "cost_usd",
            legend: kind.cost_legend,
            class: "c-cost",
        },
        Series {
            name: "baseline_cost_usd",
            legend: "all-baseline cost",
            class: "c-base",
        },
    ]
}

/// p50 and p95 per model; a model without samples has no bars.
fn quantiles(kind: &Kind, b: &Breakdown, what: &str, sketch: fn(&Stats) -> &Sketch) -> String {
    let ms = |v: Option<f64>| {
        v.map(|v| Value {
            number: v,
            data: v.to_string(),
            text: format!("{} ms", fmt::ms(Some(v))),
        })
    };
    let groups: Vec<Group> = b
        .by_model
        .sorted()
        .into_iter()
        .map(|(model, s)| Group {
            key: model.to_string(),
            values: vec![ms(sketch(s).quantile(0.5)), ms(sketch(s).quantile(0.95))],
        })
        .collect();
    let series = [
        Series {
            name: "p50",
            legend: "p50",
            class: "c-p50",
        },
        Series {
            name: "p95",
            legend: "p95",
            class: "c-p95",
        },
    ];
    charts::bars(
        &format!("{}-{what}", kind.id),
        &format!("{what} per model"),
        &series,
        &groups,
        &MS,
    )
}

fn usd(micro: u64) -> Value {
    Value {
        number: micro as f64 / 1e6,
        data: usd_data(micro as i64),
        text: usd_text(micro as i64),
    }
}

/// USD as `report --json` prints it (from the same micro-dollar sum).
fn usd_data(micro: i64) -> String {
    fmt::usd_number(micro).to_string()
}

fn usd_text(micro: i64) -> String {
    format!("${}", fmt::usd(micro))
}

fn notes(out: &mut String, summary: &Summary) {
    let mut notes = text::note_lines(summary);
    for (kind, b) in [("served", &summary.served), ("shadow", &summary.shadow)] {
        if b.series_dropped > 0 {
            notes.push(format!(
                "{kind} lines left out of the series (over {} periods): {}",
                fmt::count(MAX_PERIODS as u64),
                fmt::count(b.series_dropped)
            ));
        }
    }
    if notes.is_empty() {
        return;
    }
    out.push_str(r#"<section id="notes"><h2>Notes</h2><ul>"#);
    for note in notes {
        let _ = write!(out, "<li>{}</li>", escape(&note));
    }
    out.push_str("</ul></section>");
}
