//! Metrics defined once per VM at configure time, for every (tier, model) and (source, tier)
//! the config allows, so the request path only looks ids up. Counters add up in the VM and
//! reach Envoy on the root context's tick ([`Metrics::flush`]): about six host calls fewer
//! per request, for counts at most one tick late. Envoy adds counters across worker VMs.
//! Histograms are recorded per request: a sum cannot stand in for their samples.

use std::cell::Cell;
use std::collections::HashMap;

use crate::host::{self, MetricType};
use tier_router_core::account::{Account, STATUS_CLASSES};
use tier_router_core::cascade::Reason;
use tier_router_core::config::{Config, ModelId, TierId};
use tier_router_core::decide::{Decision, Source};
use tier_router_core::failover::Failure;
use tier_router_core::names::{metric, FALLBACK_TIER, PASSTHROUGH_TIER};
use tier_router_core::trust::UntrustedReason;
use tier_router_core::PassReason;

const SOURCES: [Source; 7] = [
    Source::Header,
    Source::Query,
    Source::Path,
    Source::Session,
    Source::Classifier,
    Source::Model,
    Source::Fallback,
];

#[derive(Debug, Default)]
pub struct Metrics {
    counters: Counters,
    /// Keyed by (tier index or `None` for fallback, model).
    pairs: HashMap<(Option<usize>, ModelId), PairMetrics>,
    /// Keyed by (source, tier index or `None`).
    decisions: HashMap<(&'static str, Option<usize>), Option<Counter>>,
    /// Pass-through requests priced as a configured model, by that model.
    passthrough_pairs: HashMap<ModelId, PairMetrics>,
    fallbacks: Option<Counter>,
    /// In [`UntrustedReason::ALL`] order.
    untrusted_task: Vec<Option<Counter>>,
    /// In `PassReason::ALL` order.
    passthrough: Vec<Option<Counter>>,
    rejected: Vec<Option<Counter>>,
    /// Cascade escalations by (tier index, model escalated from), in [`Reason::ALL`] order.
    escalations: HashMap<(usize, ModelId), Vec<Option<Counter>>>,
}

#[derive(Debug, Default)]
struct PairMetrics {
    requests: Option<Counter>,
    input_tokens: Option<Counter>,
    output_tokens: Option<Counter>,
    cost: Option<Counter>,
    baseline_cost: Option<Counter>,
    /// In [`STATUS_CLASSES`] order.
    responses: Vec<Option<Counter>>,
    ttft_ms: Option<u32>,
    latency_ms: Option<u32>,
    /// Requests that left this model, in [`Failure::REASONS`] order (tier pairs only).
    failovers: Vec<Option<Counter>>,
}

/// A counter's slot in [`Counters`].
#[derive(Debug, Clone, Copy)]
struct Counter(usize);

/// Host ids of the defined counters, and what each has counted since the last flush.
#[derive(Debug, Default)]
struct Counters {
    ids: Vec<u32>,
    pending: Vec<Cell<u64>>,
}

impl Counters {
    fn define(&mut self, name: &str) -> Option<Counter> {
        let id = define(MetricType::Counter, name)?;
        self.ids.push(id);
        self.pending.push(Cell::new(0));
        Some(Counter(self.ids.len() - 1))
    }

    fn add(&self, counter: Option<Counter>, by: u64) {
        if let Some(slot) = counter.and_then(|c| self.pending.get(c.0)) {
            slot.set(slot.get().saturating_add(by));
        }
    }

    fn flush(&self) {
        for (id, pending) in self.ids.iter().zip(&self.pending) {
            let by = pending.replace(0);
            if by == 0 {
                continue;
            }
            let Ok(by) = i64::try_from(by) else { continue };
            if let Err(e) = host::increment_metric(*id, by) {
                log::debug!("cannot increment metric {id}: host status {}", e.0);
            }
        }
    }
}

impl Metrics {
    pub fn define(config: &Config) -> Metrics {
        let mut counters = Counters::default();
        let mut metrics = Metrics {
            fallbacks: counters.define(&metric::plain(metric::FALLBACKS)),
            ..Metrics::default()
        };
        metrics.untrusted_task = UntrustedReason::ALL
            .iter()
            .map(|r| counters.define(&metric::by_reason(metric::UNTRUSTED_TASK, r.as_str())))
            .collect();
        for reason in PassReason::ALL {
            let name = metric::by_reason(metric::PASSTHROUGH, reason.as_str());
            metrics.passthrough.push(counters.define(&name));
            let rejectable = reason.can_reject();
            let name = metric::by_reason(metric::REJECTED, reason.as_str());
            metrics
                .rejected
                .push(rejectable.then(|| counters.define(&name)).flatten());
        }
        for (i, model) in config.models.iter().enumerate() {
            let pair = PairMetrics::define(&mut counters, PASSTHROUGH_TIER, &model.name);
            metrics.passthrough_pairs.insert(ModelId(i), pair);
        }
        // A tier's decisions may name a model outside its list when that model does not
        // serve the request's API shape: those pairs are defined too.
        let mut tiers: Vec<(Option<usize>, &str, Vec<ModelId>)> = config
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let models = config.decidable_models(Some(TierId(i)));
                (Some(i), t.name.as_str(), models)
            })
            .collect();
        tiers.push((None, FALLBACK_TIER, config.decidable_models(None)));
        for (tier, tier_name, models) in &tiers {
            for model in models {
                let name = &config.model(*model).name;
                let mut pair = PairMetrics::define(&mut counters, tier_name, name);
                if tier.is_some() {
                    pair.failovers = Failure::REASONS
                        .iter()
                        .map(|r| {
                            let metric =
                                metric::by_reason_pair(metric::FAILOVERS, r, tier_name, name);
                            counters.define(&metric)
                        })
                        .collect();
                }
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
                    .insert((source.as_str(), *tier), counters.define(&name));
            }
        }
        for (i, tier) in config.tiers.iter().enumerate() {
            if tier.cascade.is_none() {
                continue;
            }
            for model in &tier.models {
                let name = |r: &Reason| {
                    let model = config.model(*model).name.replace('.', "_");
                    metric::by_reason_tier_model(
                        metric::ESCALATIONS,
                        r.as_str(),
                        &tier.name,
                        &model,
                    )
                };
                let by_reason = Reason::ALL
                    .iter()
                    .map(|r| counters.define(&name(r)))
                    .collect();
                metrics.escalations.insert((i, *model), by_reason);
            }
        }
        metrics.counters = counters;
        metrics
    }

    /// Counts a cascade moving on from `decision.model` for `reason`.
    pub fn escalated(&self, decision: &Decision, reason: Reason) {
        let Some(tier) = decision.tier else { return };
        let slot = Reason::ALL.iter().position(|r| *r == reason);
        let counter = self
            .escalations
            .get(&(tier.0, decision.model))
            .and_then(|c| slot.and_then(|i| c.get(i)))
            .copied()
            .flatten();
        self.counters.add(counter, 1);
    }

    /// Counts the request a cascade sends to its next model.
    pub fn attempt_sent(&self, next: &Decision) {
        if let Some(pair) = self.pairs.get(&(next.tier.map(|t| t.0), next.model)) {
            self.counters.add(pair.requests, 1);
        }
    }

    /// Counts an attempt that was not served, as its own model's response.
    pub fn attempt_accounted(&self, tier: Option<TierId>, model: ModelId, account: &Account) {
        if let Some(pair) = self.pairs.get(&(tier.map(|t| t.0), model)) {
            self.add_response(pair, account);
        }
    }

    /// Hands the counts of the requests since the last flush to Envoy.
    pub fn flush(&self) {
        self.counters.flush();
    }

    /// Counts a routed request (at decision time).
    pub fn decided(&self, decision: &Decision) {
        let tier = decision.tier.map(|t| t.0);
        let counters = &self.counters;
        if let Some(untouched) = &decision.untouched {
            counters.add(self.by_reason(&self.passthrough, untouched.reason), 1);
            // A pass-through's model may be known only once its body went by: its
            // per-model series are counted when it is accounted.
            if decision.is_passthrough() {
                return;
            }
        }
        counters.add(
            self.decisions
                .get(&(decision.source.as_str(), tier))
                .copied()
                .flatten(),
            1,
        );
        if let Some(pair) = self.pairs.get(&(tier, decision.model)) {
            counters.add(pair.requests, 1);
        }
        if decision.tier.is_none() {
            counters.add(self.fallbacks, 1);
        }
        if let Some(untrusted) = decision.untrusted_task {
            let slot = UntrustedReason::ALL
                .iter()
                .position(|r| *r == untrusted.reason);
            counters.add(
                slot.and_then(|i| self.untrusted_task.get(i))
                    .copied()
                    .flatten(),
                1,
            );
        }
    }

    /// Counts a request leaving `decision`'s model for another, because of `failure`.
    pub fn failed_over(&self, decision: &Decision, failure: Failure) {
        let Some(pair) = self
            .pairs
            .get(&(decision.tier.map(|t| t.0), decision.model))
        else {
            return;
        };
        let slot = Failure::REASONS.iter().position(|r| *r == failure.reason());
        let counter = slot.and_then(|i| pair.failovers.get(i)).copied().flatten();
        self.counters.add(counter, 1);
    }

    pub fn rejected(&self, reason: PassReason) {
        self.counters.add(self.by_reason(&self.rejected, reason), 1);
    }

    fn by_reason(&self, counters: &[Option<Counter>], reason: PassReason) -> Option<Counter> {
        let i = PassReason::ALL.iter().position(|r| *r == reason)?;
        counters.get(i).copied().flatten()
    }

    /// Counts tokens, cost and timing of a finished response.
    pub fn accounted(&self, decision: &Decision, account: &Account) {
        let pair = if decision.is_passthrough() {
            decision
                .priced_model()
                .and_then(|m| self.passthrough_pairs.get(&m))
        } else {
            self.pairs
                .get(&(decision.tier.map(|t| t.0), decision.model))
        };
        let Some(pair) = pair else {
            return;
        };
        let counters = &self.counters;
        if decision.is_passthrough() {
            counters.add(pair.requests, 1);
        }
        self.add_response(pair, account);
    }

    fn add_response(&self, pair: &PairMetrics, account: &Account) {
        let counters = &self.counters;
        counters.add(pair.input_tokens, account.usage.input_tokens);
        counters.add(pair.output_tokens, account.usage.output_tokens);
        counters.add(pair.cost, account.cost_micro_usd.unwrap_or(0));
        counters.add(pair.baseline_cost, account.baseline_micro_usd.unwrap_or(0));
        let class = account.reply.status_class();
        let slot = STATUS_CLASSES.iter().position(|c| *c == class);
        counters.add(
            slot.and_then(|i| pair.responses.get(i)).copied().flatten(),
            1,
        );
        // The histograms describe the model's answers; Envoy's own replies (a 0.5 ms 503, a
        // 120 s timeout) are counted in `responses_total` only.
        if !account.reply.from_upstream {
            return;
        }
        if let Some(us) = account.timing.ttft_us() {
            record(pair.ttft_ms, us.div_ceil(1_000));
        }
        if let Some(us) = account.timing.latency_us() {
            record(pair.latency_ms, us.div_ceil(1_000));
        }
    }
}

/// Counts not flushed yet (a replaced config's last requests) still reach Envoy.
impl Drop for Counters {
    fn drop(&mut self) {
        self.flush();
    }
}

impl PairMetrics {
    fn define(counters: &mut Counters, tier: &str, model: &str) -> PairMetrics {
        let mut counter = |m| counters.define(&metric::labelled(m, None, tier, Some(model)));
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
            responses: STATUS_CLASSES
                .iter()
                .map(|class| {
                    counters.define(&metric::by_status_class(
                        metric::RESPONSES,
                        class,
                        tier,
                        model,
                    ))
                })
                .collect(),
            ttft_ms: histogram(metric::TTFT_MS),
            latency_ms: histogram(metric::LATENCY_MS),
            failovers: Vec::new(),
        }
    }
}

/// Whether `source` can pick the fallback model (`fallback`) or a tier: only those series
/// are defined, so dashboards show no combinations that cannot happen.
fn can_decide(source: Source, fallback: bool) -> bool {
    match source {
        Source::Session => true,
        Source::Fallback => fallback,
        Source::Header | Source::Query | Source::Path | Source::Classifier | Source::Model => {
            !fallback
        }
    }
}

/// Metrics are telemetry: a failure to define one is logged and the metric is skipped.
fn define(kind: MetricType, name: &str) -> Option<u32> {
    host::define_metric(kind, name)
        .map_err(|e| log::warn!("cannot define metric {name}: host status {}", e.0))
        .ok()
}

fn record(id: Option<u32>, value: u64) {
    let Some(id) = id else { return };
    if let Err(e) = host::record_metric(id, value) {
        log::debug!("cannot record metric {id}: host status {}", e.0);
    }
}
