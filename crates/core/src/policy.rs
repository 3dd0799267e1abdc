//! How a tier picks among its models: `priority` (first healthy), `cheapest` (lowest expected
//! cost for this request), `fastest_ttft` (lowest moving-average TTFT, learned from live
//! traffic, with some exploration), `weighted` (percentages). Model statistics live in the
//! shared store so every worker VM learns from every response.

use crate::config::{Config, ModelId, PolicyKind, TierId};
use crate::store::{self, SharedStore};
use crate::usage::BYTES_PER_TOKEN;

/// What a policy may look at besides the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyInput {
    pub prompt_bytes: u64,
    /// The client's completion-token cap, if any.
    pub max_tokens: Option<u64>,
    /// A stable hash of the request (its id), for weighted picks and exploration.
    pub request_hash: u64,
    pub now_ns: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub model: ModelId,
    /// The models the policy considered, in its order of preference.
    pub candidates: Vec<ModelId>,
}

/// Sorts a short list (a tier's models, the configured path prefixes) by `less`, stably. An
/// insertion sort: a hundred bytes of wasm per use where each `sort_unstable_by*` instance
/// links about 2.5 KB (pdqsort, heapsort fallback, sorting networks). Quadratic, so only for
/// lists of configuration size.
pub(crate) fn sort_short_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// A model's learned TTFT: an exponentially weighted moving average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TtftStats {
    pub ewma_ms: f64,
    pub samples: u32,
}

impl Config {
    /// Picks among `models` (the tier's models that serve the request's API, in tier order)
    /// by the tier's policy.
    pub fn choose_model(
        &self,
        tier: TierId,
        models: &[ModelId],
        input: &PolicyInput,
        store: &dyn SharedStore,
    ) -> Choice {
        let t = self.tier(tier);
        let first = models.first().copied().unwrap_or(self.fallback_model);
        let all = || Choice {
            model: first,
            candidates: models.to_vec(),
        };
        // One model leaves nothing to choose: skip the store reads.
        if models.len() <= 1 {
            return all();
        }
        match t.policy {
            // The cascade starts at the first model; the gate escalates along `candidates`.
            PolicyKind::Cascade => all(),
            PolicyKind::Priority => {
                let healthy = models
                    .iter()
                    .copied()
                    .find(|m| self.is_healthy(*m, input.now_ns, store));
                Choice {
                    model: healthy.unwrap_or(first),
                    candidates: models.to_vec(),
                }
            }
            PolicyKind::Cheapest => {
                let output = input
                    .max_tokens
                    .unwrap_or(t.expected_output_tokens)
                    .min(t.expected_output_tokens.max(1) * 16);
                let mut ranked = models.to_vec();
                // The model id keeps ties in config order.
                sort_short_by(&mut ranked, |a, b| {
                    (self.expected_micro_usd(*a, input.prompt_bytes, output), a.0)
                        < (self.expected_micro_usd(*b, input.prompt_bytes, output), b.0)
                });
                Choice {
                    model: ranked.first().copied().unwrap_or(first),
                    candidates: ranked,
                }
            }
            PolicyKind::FastestTtft => self.fastest(models, input, store).unwrap_or_else(all),
            PolicyKind::Weighted => {
                let weights = || t.weights.iter().filter(|(m, _)| models.contains(m));
                let total: f64 = weights().map(|(_, w)| w).sum();
                let mut point = (input.request_hash % 10_000) as f64 / 10_000.0 * total;
                let picked = weights().find(|(_, w)| {
                    point -= w;
                    point < 0.0
                });
                Choice {
                    model: picked.map_or(first, |(m, _)| *m),
                    candidates: models.to_vec(),
                }
            }
        }
    }

    /// Expected cost in micro-USD (a model without a price sorts last).
    fn expected_micro_usd(&self, model: ModelId, prompt_bytes: u64, output_tokens: u64) -> u64 {
        let Some(price) = self.model(model).price else {
            return u64::MAX;
        };
        let input = prompt_bytes.div_ceil(BYTES_PER_TOKEN) as f64;
        (input * price.input + output_tokens as f64 * price.output).round() as u64
    }

    fn fastest(
        &self,
        models: &[ModelId],
        input: &PolicyInput,
        store: &dyn SharedStore,
    ) -> Option<Choice> {
        let stats: Vec<(ModelId, Option<TtftStats>)> = models
            .iter()
            .map(|m| (*m, ttft_stats(store, &self.model(*m).name)))
            .collect();
        let min_samples = self.tuning.ttft_min_samples;
        let learning = stats
            .iter()
            .filter(|(_, s)| s.map_or(0, |s| s.samples) < min_samples);
        let least_sampled = learning
            .min_by_key(|(_, s)| s.map_or(0, |s| s.samples))
            .map(|(m, _)| *m);
        let explore = (input.request_hash % 10_000) as f64 / 100.0 < self.tuning.explore_percent;
        let mut learned: Vec<(ModelId, f64)> = stats
            .iter()
            .filter_map(|(m, s)| {
                s.filter(|s| s.samples >= min_samples)
                    .map(|s| (*m, s.ewma_ms))
            })
            .collect();
        sort_short_by(&mut learned, |a, b| {
            a.1.total_cmp(&b.1).then(a.0 .0.cmp(&b.0 .0)).is_lt()
        });
        let mut candidates: Vec<ModelId> = learned.iter().map(|(m, _)| *m).collect();
        let unlearned: Vec<ModelId> = models
            .iter()
            .copied()
            .filter(|m| !candidates.contains(m))
            .collect();
        candidates.extend(unlearned);
        let model = match (learned.first(), least_sampled) {
            // Nothing learned yet: learn the least-sampled model.
            (None, Some(m)) => m,
            (Some(_), Some(m)) if explore => m,
            (Some((m, _)), _) => *m,
            (None, None) => return None,
        };
        Some(Choice { model, candidates })
    }

    /// Folds one TTFT sample into the model's moving average.
    pub fn record_ttft(&self, model: ModelId, ttft_ms: f64, store: &dyn SharedStore) {
        let alpha = self.tuning.ttft_alpha;
        let key = ttft_key(&self.model(model).name);
        let result = store::update(store, &key, |current| {
            let next = match current.and_then(decode_ttft) {
                None => TtftStats {
                    ewma_ms: ttft_ms,
                    samples: 1,
                },
                Some(s) => TtftStats {
                    ewma_ms: s.ewma_ms + alpha * (ttft_ms - s.ewma_ms),
                    samples: s.samples.saturating_add(1),
                },
            };
            Some(encode_ttft(next))
        });
        if let Err(e) = result {
            log::debug!("TTFT of {} not stored: {e:?}", self.model(model).name);
        }
    }
}

pub fn ttft_stats(store: &dyn SharedStore, model: &str) -> Option<TtftStats> {
    store
        .get(&ttft_key(model))
        .and_then(|(v, _)| decode_ttft(&v))
}

fn ttft_key(model: &str) -> String {
    format!("tier_router.ttft.{model}")
}

fn encode_ttft(s: TtftStats) -> Vec<u8> {
    let mut out = s.ewma_ms.to_le_bytes().to_vec();
    out.extend_from_slice(&s.samples.to_le_bytes());
    out
}

fn decode_ttft(bytes: &[u8]) -> Option<TtftStats> {
    let ewma = bytes.get(..8)?.try_into().ok().map(f64::from_le_bytes)?;
    let samples = bytes.get(8..12)?.try_into().ok().map(u32::from_le_bytes)?;
    Some(TtftStats {
        ewma_ms: ewma,
        samples,
    })
}
