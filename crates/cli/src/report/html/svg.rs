//! A small inline-SVG writer: rectangles, circles, lines and text, every string escaped, and
//! the marks that stand for a number carry it in the DOM (`data-*` attributes and a `<title>`
//! tooltip), so a reader or a test gets the figures without parsing geometry.

use std::fmt::Write;

use super::escape::escape;

/// What a mark (a bar, a point) stands for: `data-chart`, `data-key` (the tier, model or
/// period), `data-series` (`requests`, `cost_usd`, `p95`...) and `data-value`, the number as
/// `report --json` prints it.
pub struct Mark<'a> {
    pub chart: &'a str,
    pub key: &'a str,
    pub series: &'a str,
    pub value: String,
    pub title: String,
}

impl Mark<'_> {
    fn attributes(&self, class: &str) -> String {
        format!(
            r#" class="mark {class}" data-chart="{}" data-key="{}" data-series="{}" data-value="{}""#,
            escape(self.chart),
            escape(self.key),
            escape(self.series),
            escape(&self.value)
        )
    }
}

pub struct Svg {
    out: String,
}

impl Svg {
    /// An `<svg>` of `width` x `height` user units that scales to the page width.
    pub fn new(chart: &str, width: f64, height: f64, label: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg class="chart" id="{}" viewBox="0 0 {width} {height}" role="img" aria-label="{}">"#,
            escape(chart),
            escape(label)
        );
        Svg { out }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, mark: &Mark<'_>) {
        let _ = write!(
            self.out,
            r#"<rect{} x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
            mark.attributes(class),
            px(x),
            px(y),
            px(w.max(0.0)),
            px(h.max(0.0)),
            escape(&mark.title)
        );
    }

    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, class: &str, mark: &Mark<'_>) {
        let _ = write!(
            self.out,
            r#"<circle{} cx="{}" cy="{}" r="{}"><title>{}</title></circle>"#,
            mark.attributes(class),
            px(cx),
            px(cy),
            px(r),
            escape(&mark.title)
        );
    }

    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), class: &str) {
        let _ = write!(
            self.out,
            r#"<line class="{class}" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
            px(x1),
            px(y1),
            px(x2),
            px(y2)
        );
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        let points: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", px(*x), px(*y)))
            .collect();
        let _ = write!(
            self.out,
            r#"<polyline class="{class}" points="{}"/>"#,
            points.join(" ")
        );
    }

    /// `anchor`: `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = write!(
            self.out,
            r#"<text class="{class}" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
            px(x),
            px(y),
            escape(text)
        );
    }

    /// A legend swatch and its name.
    pub fn legend(&mut self, x: f64, y: f64, class: &str, name: &str) {
        let _ = write!(
            self.out,
            r#"<rect class="swatch {class}" x="{}" y="{}" width="10" height="10"/>"#,
            px(x),
            px(y - 9.0)
        );
        self.text(x + 14.0, y, "start", "legend", name);
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// Coordinates to two decimals (enough for a screen, short in the file).
fn px(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    format!("{rounded}")
}

/// The axis maximum: the smallest of 1, 2, 2.5, 5 times a power of ten at or above `max`
/// (1 for an empty or zero series), and its tick step (a quarter of it).
pub fn nice_scale(max: f64) -> (f64, f64) {
    if !(max.is_finite() && max > 0.0) {
        return (1.0, 0.25);
    }
    let power = 10f64.powf(max.log10().floor());
    let top = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|top| *top >= max * (1.0 - 1e-12))
        .unwrap_or(10.0 * power);
    (top, top / 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_up() {
        assert_eq!(nice_scale(0.0), (1.0, 0.25));
        assert_eq!(nice_scale(7.0), (10.0, 2.5));
        assert_eq!(nice_scale(0.013), (0.02, 0.005));
        assert_eq!(nice_scale(250.0), (250.0, 62.5));
        assert_eq!(nice_scale(251.0), (500.0, 125.0));
    }

    #[test]
    fn marks_escape_log_text() {
        let mut svg = Svg::new("c", 10.0, 10.0, "x");
        let mark = Mark {
            chart: "c",
            key: "\"><script>",
            series: "requests",
            value: "1".into(),
            title: "<b>".into(),
        };
        svg.rect(0.0, 0.0, 1.0, 1.0, "a", &mark);
        let out = svg.finish();
        assert!(
            out.contains(r#"data-key="&quot;&gt;&lt;script&gt;""#),
            "{out}"
        );
        assert!(out.contains("<title>&lt;b&gt;</title>"), "{out}");
        assert!(!out.contains("<script"));
    }
}
