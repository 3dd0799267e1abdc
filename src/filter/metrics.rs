//! Metrics defined once per VM at configure time, for every (tier, model) and (source, tier)
//! the config allows, so the request path only looks ids up. Envoy adds counters across
//! worker VMs.

use std::collections::HashMap;

use super::host::{self, MetricType};
use crate::account::Account;
use crate::config::{Config, ModelId};
use crate::decide::{Decision, Source};
use crate::names::{metric, FALLBACK_TIER};

const SOURCES: [Source; 6] = [
    Source::Header,
    Source::Query,
    Source::Path,
    Source::Session,
    Source::Classifier,
    Source::Fallback,
];

#[derive(Debug, Default)]
pub struct Metrics {
    /// Keyed by (tier index or `None` for fallback, model).
    pairs: HashMap<(Option<usize>, ModelId), PairMetrics>,
    /// Keyed by (source, tier index or `None`).
    decisions: HashMap<(&'static str, Option<usize>), Option<u32>>,
    fallbacks: Option<u32>,
    untrusted_task: Option<u32>,
    body_not_read: Option<u32>,
}

#[derive(Debug, Default)]
struct PairMetrics {
    requests: Option<u32>,
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
    cost: Option<u32>,
    baseline_cost: Option<u32>,
    ttft_ms: Option<u32>,
    latency_ms: Option<u32>,
}

impl Metrics {
    pub fn define(config: &Config) -> Metrics {
        let mut metrics = Metrics {
            fallbacks: define(MetricType::Counter, &metric::plain(metric::FALLBACKS)),
            untrusted_task: define(MetricType::Counter, &metric::plain(metric::UNTRUSTED_TASK)),
            body_not_read: define(MetricType::Counter, &metric::plain(metric::BODY_NOT_READ)),
            ..Metrics::default()
        };
        let mut tiers: Vec<(Option<usize>, &str, Vec<ModelId>)> = config
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| (Some(i), t.name.as_str(), t.models.clone()))
            .collect();
        tiers.push((None, FALLBACK_TIER, vec![config.fallback_model]));
        for (tier, tier_name, models) in &tiers {
            for model in models {
                let pair = PairMetrics::define(tier_name, &config.model(*model).name);
                metrics.pairs.insert((*tier, *model), pair);
            }
            for source in SOURCES
                .into_iter()
                .filter(|s| can_decide(*s, tier.is_none()))
            {
                let name =
                    metric::labelled(metric::DECISIONS, Some(source.as_str()), tier_name, None);
                metrics
                    .decisions
                    .insert((source.as_str(), *tier), define(MetricType::Counter, &name));
            }
        }
        metrics
    }

    /// Counts a routed request (at decision time).
    pub fn decided(&self, decision: &Decision) {
        let tier = decision.tier.map(|t| t.0);
        increment(
            self.decisions
                .get(&(decision.source.as_str(), tier))
                .copied()
                .flatten(),
            1,
        );
        if let Some(pair) = self.pairs.get(&(tier, decision.model)) {
            increment(pair.requests, 1);
        }
        if decision.tier.is_none() {
            increment(self.fallbacks, 1);
        }
        if decision.untrusted_task.is_some() {
            increment(self.untrusted_task, 1);
        }
    }

    pub fn body_not_read(&self) {
        increment(self.body_not_read, 1);
    }

    /// Counts tokens, cost and timing of a finished response.
    pub fn accounted(&self, decision: &Decision, account: &Account) {
        let Some(pair) = self
            .pairs
            .get(&(decision.tier.map(|t| t.0), decision.model))
        else {
            return;
        };
        increment(pair.input_tokens, account.usage.input_tokens);
        increment(pair.output_tokens, account.usage.output_tokens);
        increment(pair.cost, account.cost_micro_usd.unwrap_or(0));
        increment(pair.baseline_cost, account.baseline_micro_usd.unwrap_or(0));
        if let Some(us) = account.timing.ttft_us() {
            record(pair.ttft_ms, us.div_ceil(1_000));
        }
        if let Some(us) = account.timing.latency_us() {
            record(pair.latency_ms, us.div_ceil(1_000));
        }
    }
}

impl PairMetrics {
    fn define(tier: &str, model: &str) -> PairMetrics {
        let counter = |m| {
            define(
                MetricType::Counter,
                &metric::labelled(m, None, tier, Some(model)),
            )
        };
        let histogram = |m| {
            define(
                MetricType::Histogram,
                &metric::labelled(m, None, tier, Some(model)),
            )
        };
        PairMetrics {
            requests: counter(metric::REQUESTS),
            input_tokens: counter(metric::INPUT_TOKENS),
            output_tokens: counter(metric::OUTPUT_TOKENS),
            cost: counter(metric::COST),
            baseline_cost: counter(metric::BASELINE_COST),
            ttft_ms: histogram(metric::TTFT_MS),
            latency_ms: histogram(metric::LATENCY_MS),
        }
    }
}

/// Whether `source` can pick the fallback model (`fallback`) or a tier: only those series
/// are defined, so dashboards show no combinations that cannot happen.
fn can_decide(source: Source, fallback: bool) -> bool {
    match source {
        Source::Session => true,
        Source::Fallback => fallback,
        Source::Header | Source::Query | Source::Path | Source::Classifier => !fallback,
    }
}

/// Metrics are telemetry: a failure to define one is logged and the metric is skipped.
fn define(kind: MetricType, name: &str) -> Option<u32> {
    host::define_metric(kind, name)
        .map_err(|e| log::warn!("cannot define metric {name}: host status {}", e.0))
        .ok()
}

fn increment(id: Option<u32>, by: u64) {
    let (Some(id), Ok(by)) = (id, i64::try_from(by)) else {
        return;
    };
    if by == 0 {
        return;
    }
    if let Err(e) = host::increment_metric(id, by) {
        log::debug!("cannot increment metric {id}: host status {}", e.0);
    }
}

fn record(id: Option<u32>, value: u64) {
    let Some(id) = id else { return };
    if let Err(e) = host::record_metric(id, value) {
        log::debug!("cannot record metric {id}: host status {}", e.0);
    }
}
