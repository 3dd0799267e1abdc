//! The two chart forms the page uses, drawn from plain numbers: horizontal grouped bars (task
//! mix, cost per tier, TTFT and latency per model) and lines over time (cost by period).

use super::escape::shorten;
use super::svg::{nice_scale, Mark, Svg};

const WIDTH: f64 = 760.0;
/// Where the bars start (the group names are right-aligned before it) and end (the value
/// labels go after them).
const PLOT_LEFT: f64 = 190.0;
const PLOT_RIGHT: f64 = 640.0;
const BAR: f64 = 14.0;
const BAR_GAP: f64 = 2.0;
const GROUP_GAP: f64 = 10.0;
/// Characters of a name shown next to a bar (the tooltip has all of it).
const NAME_CHARS: usize = 26;

/// One kind of bar or line: its `data-series` name, its legend and its CSS colour class.
pub struct Series<'a> {
    pub name: &'a str,
    pub legend: &'a str,
    pub class: &'a str,
}

/// A number as it is drawn (`number`), put in the DOM (`data`, as `report --json` prints
/// it) and shown (`text`).
pub struct Value {
    pub number: f64,
    pub data: String,
    pub text: String,
}

/// A row of bars (a tier or a model) or a point in time: one value per series, `None` for
/// a series without one (a percentile without samples), which is not drawn.
pub struct Group {
    pub key: String,
    pub values: Vec<Option<Value>>,
}

/// How axis ticks are labelled: `$0.05`, `250 ms`.
pub struct Axis<'a> {
    pub prefix: &'a str,
    pub suffix: &'a str,
    /// Counts: ticks on whole numbers.
    pub integer: bool,
}

impl Axis<'_> {
    /// The axis maximum and tick step for values up to `max`.
    fn scale(&self, max: f64) -> (f64, f64) {
        let (top, step) = nice_scale(max);
        if self.integer && step.fract() != 0.0 {
            let step = step.ceil();
            return (4.0 * step, step);
        }
        (top, step)
    }
}

/// Horizontal bars, one group per row, one bar per series.
pub fn bars(
    chart: &str,
    label: &str,
    series: &[Series<'_>],
    groups: &[Group],
    axis: &Axis<'_>,
) -> String {
    let top = if series.len() > 1 { 26.0 } else { 8.0 };
    let group_height = series.len() as f64 * (BAR + BAR_GAP) - BAR_GAP + GROUP_GAP;
    let plot_bottom = top + groups.len() as f64 * group_height;
    let height = plot_bottom + 22.0;
    let (max, step) = axis.scale(max_of(groups));
    let x = |v: f64| PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (v / max).clamp(0.0, 1.0);
    let mut svg = Svg::new(chart, WIDTH, height, label);
    legend(&mut svg, series, PLOT_LEFT);
    ticks_x(&mut svg, max, step, axis, (top - 4.0, plot_bottom), &x);
    for (row, group) in groups.iter().enumerate() {
        let y0 = top + row as f64 * group_height;
        let middle = y0 + (group_height - GROUP_GAP) / 2.0 + 4.0;
        svg.text(
            PLOT_LEFT - 8.0,
            middle,
            "end",
            "name",
            &shorten(&group.key, NAME_CHARS),
        );
        if group.values.iter().all(Option::is_none) {
            svg.text(PLOT_LEFT + 6.0, middle, "start", "value", "no samples");
        }
        for (i, (s, value)) in series.iter().zip(&group.values).enumerate() {
            let Some(value) = value else { continue };
            let y = y0 + i as f64 * (BAR + BAR_GAP);
            let mark = mark(chart, &group.key, s, value);
            svg.rect(
                PLOT_LEFT,
                y,
                x(value.number) - PLOT_LEFT,
                BAR,
                s.class,
                &mark,
            );
            svg.text(
                x(value.number) + 4.0,
                y + BAR - 3.0,
                "start",
                "value",
                &value.text,
            );
        }
    }
    svg.line((PLOT_LEFT, top - 4.0), (PLOT_LEFT, plot_bottom), "axis");
    svg.finish()
}

/// Lines over the groups in order (periods), a dot with its numbers at each point.
pub fn lines(
    chart: &str,
    label: &str,
    series: &[Series<'_>],
    points: &[Group],
    axis: &Axis<'_>,
) -> String {
    let (left, right, top, bottom) = (80.0, WIDTH - 20.0, 26.0, 210.0);
    let (max, step) = axis.scale(max_of(points));
    let x = |i: usize| match points.len() {
        0 | 1 => (left + right) / 2.0,
        n => left + (right - left) * i as f64 / (n - 1) as f64,
    };
    let y = |v: f64| bottom - (bottom - top) * (v / max).clamp(0.0, 1.0);
    let mut svg = Svg::new(chart, WIDTH, bottom + 30.0, label);
    legend(&mut svg, series, left);
    let mut tick = 0.0;
    while tick <= max * (1.0 + 1e-9) {
        svg.line((left, y(tick)), (right, y(tick)), "grid");
        svg.text(
            left - 6.0,
            y(tick) + 4.0,
            "end",
            "tick",
            &tick_label(tick, step, axis),
        );
        tick += step;
    }
    let labels = label_indices(points.len(), 6);
    for &i in &labels {
        // The first and last labels stay inside the chart.
        let anchor = match i {
            _ if labels.len() == 1 => "middle",
            0 => "start",
            i if i + 1 == points.len() => "end",
            _ => "middle",
        };
        if let Some(point) = points.get(i) {
            svg.text(
                x(i),
                bottom + 18.0,
                anchor,
                "tick",
                &period_tick(&point.key),
            );
        }
    }
    let radius = if points.len() > 120 { 1.5 } else { 3.0 };
    for (s_index, s) in series.iter().enumerate() {
        let drawn: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((x(i), y(p.values.get(s_index)?.as_ref()?.number))))
            .collect();
        svg.polyline(&drawn, &format!("line {}", s.class));
        for (i, point) in points.iter().enumerate() {
            if let Some(Some(value)) = point.values.get(s_index) {
                let mark = mark(chart, &point.key, s, value);
                svg.circle(x(i), y(value.number), radius, s.class, &mark);
            }
        }
    }
    svg.finish()
}

fn mark<'a>(chart: &'a str, key: &'a str, series: &'a Series<'_>, value: &Value) -> Mark<'a> {
    Mark {
        chart,
        key,
        series: series.name,
        value: value.data.clone(),
        title: format!("{key}: {} {}", series.legend, value.text),
    }
}

fn max_of(groups: &[Group]) -> f64 {
    groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .map(|v| v.number)
        .fold(0.0, f64::max)
}

fn legend(svg: &mut Svg, series: &[Series<'_>], left: f64) {
    if series.len() < 2 {
        return;
    }
    let mut x = left;
    for s in series {
        svg.legend(x, 14.0, s.class, s.legend);
        x += 24.0 + 7.0 * s.legend.chars().count() as f64;
    }
}

/// Vertical grid lines and their labels under the bars.
fn ticks_x(
    svg: &mut Svg,
    max: f64,
    step: f64,
    axis: &Axis<'_>,
    (top, bottom): (f64, f64),
    x: &dyn Fn(f64) -> f64,
) {
    let mut tick = 0.0;
    while tick <= max * (1.0 + 1e-9) {
        svg.line((x(tick), top), (x(tick), bottom), "grid");
        svg.text(
            x(tick),
            bottom + 14.0,
            "middle",
            "tick",
            &tick_label(tick, step, axis),
        );
        tick += step;
    }
}

/// A tick with as many decimals as its step needs: `0.005`, `62.5`, `250`.
fn tick_label(value: f64, step: f64, axis: &Axis<'_>) -> String {
    let decimals = (0..=9)
        .find(|d| {
            let scaled = step * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(9) as usize;
    format!("{}{value:.decimals$}{}", axis.prefix, axis.suffix)
}

/// An hour label without its year and zone, `2026-11-28T03:00Z` -> `11-28 03:00` (the
/// caption says UTC); other labels as they are.
fn period_tick(key: &str) -> String {
    match (key.get(5..10), key.get(11..16)) {
        (Some(day), Some(time)) if key.len() == 17 && key.ends_with('Z') => format!("{day} {time}"),
        _ => key.to_string(),
    }
}

/// At most `max` indices spread evenly over `0..n`, first and last included.
fn label_indices(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut indices: Vec<usize> = (0..max).map(|k| k * (n - 1) / (max - 1)).collect();
    indices.dedup();
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: f64) -> Option<Value> {
        Some(Value {
            number: v,
            data: v.to_string(),
            text: format!("{v}"),
        })
    }

    #[test]
    fn every_value_is_a_mark_with_its_number() {
        let series = [
            Series {
                name: "p50",
                legend: "p50",
                class: "a",
            },
            Series {
                name: "p95",
                legend: "p95",
                class: "b",
            },
        ];
        let groups = [
            Group {
                key: "m1".into(),
                values: vec![value(12.5), value(40.0)],
            },
            Group {
                key: "m2".into(),
                values: vec![value(3.0), None],
            },
        ];
        let axis = Axis {
            prefix: "",
            suffix: " ms",
            integer: false,
        };
        let svg = bars("ttft", "TTFT", &series, &groups, &axis);
        assert_eq!(svg.matches("class=\"mark").count(), 3);
        assert!(
            svg.contains(r#"data-key="m1" data-series="p95" data-value="40""#),
            "{svg}"
        );
        assert!(!svg.contains(r#"data-key="m2" data-series="p95""#));
        let svg = lines("t", "over time", &series, &groups, &axis);
        assert_eq!(svg.matches("<circle").count(), 3);
    }

    #[test]
    fn ticks_and_labels() {
        let axis = Axis {
            prefix: "$",
            suffix: "",
            integer: false,
        };
        assert_eq!(axis.scale(0.013), (0.02, 0.005));
        let counts = Axis {
            prefix: "",
            suffix: "",
            integer: true,
        };
        assert_eq!(counts.scale(4.0), (8.0, 2.0));
        assert_eq!(counts.scale(1800.0), (2000.0, 500.0));
        assert_eq!(tick_label(0.005, 0.005, &axis), "$0.005");
        assert_eq!(tick_label(125.0, 62.5, &axis), "$125.0");
        assert_eq!(period_tick("2026-11-28T03:00Z"), "11-28 03:00");
        assert_eq!(period_tick("2026-11-28"), "2026-11-28");
        assert_eq!(label_indices(3, 6), vec![0, 1, 2]);
        assert_eq!(label_indices(11, 6), vec![0, 2, 4, 6, 8, 10]);
    }
}
