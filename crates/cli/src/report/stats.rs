//! The running totals of one group of lines (a tier, a model, a period), in constant memory.

use super::entry::Entry;
use super::sketch::Sketch;

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub fallbacks: u64,
    pub failovers: u64,
    pub escalations: u64,
    /// Lines that say whether they failed over or escalated (without any, both counts are
    /// unknown, not zero).
    pub failover_known: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub reasoning_tokens: u64,
    /// Lines whose usage the filter estimated (a 2xx answer without usage).
    pub estimated_usage: u64,
    /// Lines the upstream did not serve (`usage_source: none`), billed at 0.
    pub unbilled: u64,
    /// Sum of `cost_usd` over the lines that have one.
    pub cost_micro: u64,
    /// Lines without `cost_usd` (a model without a price).
    pub unpriced: u64,
    /// Sum of `baseline_cost_usd` over the lines that have one.
    pub baseline_micro: u64,
    /// Lines with both costs, and their sums: savings compare only these.
    pub compared: u64,
    pub compared_cost_micro: u64,
    pub compared_baseline_micro: u64,
    pub ttft: Sketch,
    pub latency: Sketch,
}

impl Stats {
    pub fn add(&mut self, e: &Entry<'_>) {
        self.requests += 1;
        self.errors += u64::from(e.error);
        self.fallbacks += u64::from(e.fallback);
        self.failovers += u64::from(e.failover);
        self.escalations += u64::from(e.escalated);
        self.failover_known += u64::from(e.failover_known);
        self.input_tokens += e.input_tokens;
        self.output_tokens += e.output_tokens;
        self.cached_input_tokens += e.cached_input_tokens;
        self.reasoning_tokens += e.reasoning_tokens;
        self.estimated_usage += u64::from(e.estimated);
        self.unbilled += u64::from(e.unbilled);
        match e.cost_micro {
            Some(cost) => self.cost_micro += cost,
            None => self.unpriced += 1,
        }
        self.baseline_micro += e.baseline_micro.unwrap_or(0);
        if let (Some(cost), Some(baseline)) = (e.cost_micro, e.baseline_micro) {
            self.compared += 1;
            self.compared_cost_micro += cost;
            self.compared_baseline_micro += baseline;
        }
        if let Some(ms) = e.ttft_ms {
            self.ttft.add(ms);
        }
        if let Some(ms) = e.latency_ms {
            self.latency.add(ms);
        }
    }

    /// Baseline minus actual cost over the lines that have both (negative when routing cost
    /// more than the baseline would have).
    pub fn saved_micro(&self) -> i64 {
        self.compared_baseline_micro as i64 - self.compared_cost_micro as i64
    }
}
