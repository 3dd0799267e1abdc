//! `report --html FILE`: the report as one self-contained page for the rollout decision:
//! inline SVG charts (task mix, cost against the all-baseline cost per tier and over time,
//! TTFT and latency per model) and the tables the text report prints. No script, no font,
//! no URL: a Content-Security-Policy forbids every fetch, so the page reads the same offline.

mod charts;
mod escape;
mod page;
mod svg;
mod tables;

use std::io::Write;
use std::path::Path;

use super::summary::Summary;

/// Writes the page to `path` (replacing it).
pub fn write_file(summary: &Summary, inputs: &[String], path: &Path) -> std::io::Result<()> {
    let page = page::render(summary, inputs);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(page.as_bytes())?;
    file.flush()
}
