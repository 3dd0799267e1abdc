//! The task mix of a sample: how many requests each tier (and the fallback) would get.

use std::io::{self, Write};

use tier_router_core::{BodyStatus, Config, Decision, Source};

use super::class_names;
use crate::{fmt, table::Table};

/// Width of the longest bar.
const BAR_WIDTH: usize = 40;

pub struct TaskMix {
    /// Requests per class (tiers by index, then fallback).
    counts: Vec<u64>,
    /// Per class, how many were decided by an explicit task rather than by the classifier.
    explicit: Vec<u64>,
    not_json: u64,
}

impl TaskMix {
    pub fn new(config: &Config) -> TaskMix {
        let classes = config.tiers.len() + 1;
        TaskMix {
            counts: vec![0; classes],
            explicit: vec![0; classes],
            not_json: 0,
        }
    }

    pub fn add(&mut self, class: usize, decision: &Decision) {
        if let Some(n) = self.counts.get_mut(class) {
            *n += 1;
        }
        if is_explicit(decision) {
            if let Some(n) = self.explicit.get_mut(class) {
                *n += 1;
            }
        }
        if decision.body == BodyStatus::NotJson {
            self.not_json += 1;
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn write(&self, config: &Config, out: &mut dyn Write) -> io::Result<()> {
        let total = self.total();
        writeln!(out, "Task mix ({} requests)", fmt::count(total))?;
        let max = self.counts.iter().copied().max().unwrap_or(0).max(1);
        let mut table = Table::new(&["tier", "requests", "share", "explicit", ""], 1);
        for ((name, &count), &explicit) in class_names(config)
            .iter()
            .zip(&self.counts)
            .zip(&self.explicit)
        {
            let bar = "#".repeat((count as usize * BAR_WIDTH).div_ceil(max as usize));
            table.row(vec![
                name.to_string(),
                fmt::count(count),
                fmt::percent(count as f64, total as f64),
                fmt::count(explicit),
                format!("{bar:<BAR_WIDTH$}"),
            ]);
        }
        table.write(out)?;
        if self.not_json > 0 {
            writeln!(
                out,
                "not a JSON object (passed through to the fallback): {}",
                fmt::plural(self.not_json, "line")
            )?;
        }
        Ok(())
    }
}

fn is_explicit(decision: &Decision) -> bool {
    matches!(
        decision.source,
        Source::Header | Source::Query | Source::Path
    )
}
