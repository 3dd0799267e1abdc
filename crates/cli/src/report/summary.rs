//! Everything `report` learns from the lines it reads: served and shadow breakdowns, line
//! and byte counts, unparseable lines (the first few with their line numbers) and inputs
//! that could not be read to the end.

use super::entry::Entry;
use super::groups::Breakdown;
use super::record::{Field, Record};
use super::time::Period;

/// How many unparseable lines are listed by file and line number.
pub const SHOW_FIRST: usize = 5;

#[derive(Debug)]
pub struct BadLine {
    pub input: String,
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Summary {
    /// The step of the time series collected (for `--by`, or the HTML page's chart).
    pub period: Option<Period>,
    /// Whether the tables and JSON show that series (`--by` was given).
    pub print_series: bool,
    /// Lines routed and served (`tier_router.shadow` is not true).
    pub served: Breakdown,
    /// Lines decided and logged only: their cost is what routing would have cost.
    pub shadow: Breakdown,
    /// Non-blank lines read, parseable or not.
    pub lines: u64,
    /// Bytes of those lines, newlines included (after decompression).
    pub bytes: u64,
    pub unparseable: u64,
    /// Lines carrying `tier_router.failover` or `tier_router.escalated` at all (logs of an
    /// earlier filter version have neither; then the two counts mean nothing).
    pub failover_fields: u64,
    pub first_unparseable: Vec<BadLine>,
    /// `INPUT: after line N: error` for inputs that failed part-way.
    pub read_errors: Vec<String>,
}

impl Summary {
    pub fn new(period: Option<Period>, print_series: bool) -> Summary {
        Summary {
            period,
            print_series,
            ..Summary::default()
        }
    }

    /// The series step the tables and `--json` show, if any.
    pub fn printed_period(&self) -> Option<Period> {
        self.period.filter(|_| self.print_series)
    }

    pub fn add_line(&mut self, input: &str, number: u64, line: &[u8]) {
        self.bytes += line.len() as u64 + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.lines += 1;
        match Record::parse(line) {
            Ok(record) => {
                if record.get(Field::Failover).is_some() || record.get(Field::Escalated).is_some() {
                    self.failover_fields += 1;
                }
                let entry = Entry::new(&record, self.period.is_some());
                let breakdown = if entry.shadow {
                    &mut self.shadow
                } else {
                    &mut self.served
                };
                breakdown.add(&entry, self.period);
            }
            Err(rejection) => self.reject(input, number, &rejection),
        }
    }

    pub fn add_too_long(&mut self, input: &str, number: u64) {
        self.lines += 1;
        let reason = format!(
            "longer than {} bytes (skipped unread)",
            super::input::MAX_LINE_BYTES
        );
        self.reject(input, number, &reason);
    }

    fn reject(&mut self, input: &str, number: u64, reason: &dyn std::fmt::Display) {
        self.unparseable += 1;
        if self.first_unparseable.len() < SHOW_FIRST {
            self.first_unparseable.push(BadLine {
                input: input.to_string(),
                line: number,
                reason: reason.to_string(),
            });
        }
    }

    /// `access.log:17: not JSON (...)`, one per listed line.
    pub fn unparseable_list(&self) -> Vec<String> {
        self.first_unparseable
            .iter()
            .map(|b| format!("{}:{}: {}", b.input, b.line, b.reason))
            .collect()
    }
}
