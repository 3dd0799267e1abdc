//! `classify --labels FIELD`: each decision against the label carried on its input line;
//! per-tier precision and recall, and the confusion matrix.

use std::io::{self, Write};

use serde_json::Value;
use tier_router_core::Config;

use super::class_names;
use crate::{fmt, table::Table};

/// How many unknown label values and lines are listed.
const SHOW_FIRST: usize = 5;

pub struct Labels {
    field: String,
    /// `matrix[expected][decided]`, classes as in [`class_names`].
    matrix: Vec<Vec<u64>>,
    /// Lines without the field (or not JSON).
    unlabelled: u64,
    /// First lines whose label names no tier, task or `fallback`: (line, value).
    unknown: Vec<(usize, String)>,
    unknown_count: u64,
}

impl Labels {
    pub fn new(config: &Config, field: &str) -> Labels {
        let classes = config.tiers.len() + 1;
        Labels {
            field: field.to_string(),
            matrix: vec![vec![0; classes]; classes],
            unlabelled: 0,
            unknown: Vec::new(),
            unknown_count: 0,
        }
    }

    pub fn add(&mut self, config: &Config, decided: usize, line: &[u8], number: usize) {
        let value = serde_json::from_slice::<Value>(line)
            .ok()
            .and_then(|v| v.get(&self.field).cloned());
        let label = match value {
            None | Some(Value::Null) => {
                self.unlabelled += 1;
                return;
            }
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        };
        match class_of_label(config, &label) {
            Some(expected) => {
                if let Some(cell) = self
                    .matrix
                    .get_mut(expected)
                    .and_then(|row| row.get_mut(decided))
                {
                    *cell += 1;
                }
            }
            None => {
                self.unknown_count += 1;
                if self.unknown.len() < SHOW_FIRST {
                    self.unknown.push((number, label));
                }
            }
        }
    }

    pub fn write(&self, config: &Config, out: &mut dyn Write) -> io::Result<()> {
        let names = class_names(config);
        let labelled: u64 = self.matrix.iter().flatten().sum();
        let correct: u64 = (0..names.len()).map(|i| self.cell(i, i)).sum();
        writeln!(
            out,
            "Against labels in `{}`: accuracy {} ({} of {} labelled lines)",
            self.field,
            fmt::percent(correct as f64, labelled as f64),
            fmt::count(correct),
            fmt::count(labelled)
        )?;
        self.write_scores(&names, out)?;
        writeln!(out)?;
        writeln!(out, "Confusion matrix (rows: label, columns: decision)")?;
        self.write_matrix(&names, out)?;
        self.write_skipped(config, out)
    }

    fn write_scores(&self, names: &[&str], out: &mut dyn Write) -> io::Result<()> {
        let mut table = Table::new(
            &["tier", "precision", "recall", "f1", "labelled", "decided"],
            1,
        );
        for (i, name) in names.iter().enumerate() {
            let tp = self.cell(i, i) as f64;
            let actual = self.matrix.get(i).map_or(0, |r| r.iter().sum::<u64>());
            let decided: u64 = self
                .matrix
                .iter()
                .map(|r| r.get(i).copied().unwrap_or(0))
                .sum();
            let precision = ratio(tp, decided as f64);
            let recall = ratio(tp, actual as f64);
            let f1 = match (precision, recall) {
                (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                (Some(_), Some(_)) => Some(0.0),
                _ => None,
            };
            table.row(vec![
                name.to_string(),
                score(precision),
                score(recall),
                score(f1),
                fmt::count(actual),
                fmt::count(decided),
            ]);
        }
        table.write(out)
    }

    fn write_matrix(&self, names: &[&str], out: &mut dyn Write) -> io::Result<()> {
        let mut headers = vec!["label \\ decision"];
        headers.extend(names.iter().copied());
        let mut table = Table::new(&headers, 1);
        for (i, name) in names.iter().enumerate() {
            let mut row = vec![name.to_string()];
            row.extend((0..names.len()).map(|j| fmt::count(self.cell(i, j))));
            table.row(row);
        }
        table.write(out)
    }

    fn write_skipped(&self, config: &Config, out: &mut dyn Write) -> io::Result<()> {
        if self.unlabelled > 0 {
            writeln!(
                out,
                "not scored, no `{}` field: {}",
                self.field,
                fmt::plural(self.unlabelled, "line")
            )?;
        }
        if self.unknown_count > 0 {
            let shown: Vec<String> = self
                .unknown
                .iter()
                .map(|(line, value)| format!("line {line}: `{value}`"))
                .collect();
            writeln!(
                out,
                "not scored, a label that is no tier, task or `fallback` (valid: {}): {}; {}",
                class_names(config).join(", "),
                fmt::plural(self.unknown_count, "line"),
                shown.join(", ")
            )?;
        }
        Ok(())
    }

    fn cell(&self, expected: usize, decided: usize) -> u64 {
        self.matrix
            .get(expected)
            .and_then(|r| r.get(decided))
            .copied()
            .unwrap_or(0)
    }
}

/// A tier name, `fallback`, or a configured task alias (case-insensitive).
pub(crate) fn class_of_label(config: &Config, label: &str) -> Option<usize> {
    let label = label.trim();
    if label.eq_ignore_ascii_case(tier_router_core::names::FALLBACK_TIER) {
        return Some(config.tiers.len());
    }
    config
        .tasks
        .iter()
        .find(|(task, _)| task.eq_ignore_ascii_case(label))
        .map(|(_, tier)| tier.0)
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

fn score(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}
