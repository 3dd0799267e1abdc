//! Deterministic training: softmax regression by SGD over the examples in a seeded shuffle,
//! one thread, f32 weights, then quantised to i8 with a scale per tier. The same examples,
//! options and platform give the same bytes (f32 arithmetic in a fixed order; no hash-map
//! iteration, no threads). Another CPU architecture may round differently.

use super::features::FeatureSpec;
use super::{format, Model};
use crate::body::RequestBody;

/// One training prompt: the buckets of its features (repeats kept) and its tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub buckets: Vec<u32>,
    pub tier: usize,
}

impl Example {
    pub fn new(spec: &FeatureSpec, body: &RequestBody, tier: usize) -> Example {
        let mut buckets = Vec::new();
        spec.for_each(body, |f| buckets.push(f.bucket));
        Example { buckets, tier }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub spec: FeatureSpec,
    pub epochs: u32,
    /// Learning rate of the first epoch; epoch `e` uses `learning_rate / (1 + e / 2)`.
    pub learning_rate: f32,
    /// L2 decay applied to the weights an example touches.
    pub l2: f32,
    /// Weigh each tier's examples so every tier counts the same in total.
    pub balance: bool,
    /// Seeds the example order.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            spec: FeatureSpec {
                hash_bits: 15,
                seed: 0x7469_6572,
                flags: super::features::FLAG_BIGRAMS | super::features::FLAG_STRUCTURE,
            },
            epochs: 10,
            learning_rate: 0.5,
            l2: 1e-3,
            balance: true,
            seed: 1,
        }
    }
}

/// Trains a model over `tiers` (at most [`format::MAX_TIERS`]; examples name them by index).
pub fn train(tiers: &[String], examples: &[Example], options: &Options) -> Model {
    train_reporting(tiers, examples, options, &mut |_| {})
}

/// [`train`], calling `epoch_done(epochs completed)` after each epoch.
pub fn train_reporting(
    tiers: &[String],
    examples: &[Example],
    options: &Options,
    epoch_done: &mut dyn FnMut(u32),
) -> Model {
    let t = tiers.len().min(format::MAX_TIERS);
    let buckets = options.spec.buckets();
    let mut weights = vec![0f32; buckets * t];
    let mut bias = vec![0f32; t];
    let class_weight = class_weights(t, examples, options.balance);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix(options.seed);
    let mut logits = vec![0f32; t];
    for epoch in 0..options.epochs {
        rng.shuffle(&mut order);
        let lr = options.learning_rate / (1.0 + epoch as f32 / 2.0);
        for &i in &order {
            let Some(ex) = examples.get(i) else { continue };
            if ex.tier >= t {
                continue;
            }
            let norm = if ex.buckets.is_empty() {
                0.0
            } else {
                1.0 / (ex.buckets.len() as f32).sqrt()
            };
            logits.copy_from_slice(&bias);
            for &b in &ex.buckets {
                let row = weights
                    .get(b as usize * t..(b as usize + 1) * t)
                    .unwrap_or_default();
                for (l, w) in logits.iter_mut().zip(row) {
                    *l += w * norm;
                }
            }
            let probs = softmax_f32(&logits);
            let cw = class_weight.get(ex.tier).copied().unwrap_or(1.0);
            let grads: Vec<f32> = probs
                .iter()
                .enumerate()
                .map(|(k, p)| cw * (p - if k == ex.tier { 1.0 } else { 0.0 }))
                .collect();
            let decay = 1.0 - lr * options.l2;
            for &b in &ex.buckets {
                let Some(row) = weights.get_mut(b as usize * t..(b as usize + 1) * t) else {
                    continue;
                };
                for (w, g) in row.iter_mut().zip(&grads) {
                    *w = *w * decay - lr * g * norm;
                }
            }
            for (b, g) in bias.iter_mut().zip(&grads) {
                *b -= lr * g;
            }
        }
        epoch_done(epoch + 1);
    }
    quantise(options.spec, tiers, bias, &weights)
}

fn class_weights(t: usize, examples: &[Example], balance: bool) -> Vec<f32> {
    let mut counts = vec![0usize; t];
    for ex in examples {
        if let Some(c) = counts.get_mut(ex.tier) {
            *c += 1;
        }
    }
    let present = counts.iter().filter(|c| **c > 0).count().max(1);
    counts
        .iter()
        .map(|&c| {
            if !balance || c == 0 {
                1.0
            } else {
                examples.len() as f32 / (present * c) as f32
            }
        })
        .collect()
}

/// i8 weights, each tier scaled by its largest magnitude.
fn quantise(spec: FeatureSpec, tiers: &[String], bias: Vec<f32>, weights: &[f32]) -> Model {
    let t = bias.len();
    let mut scales = vec![0f32; t];
    for row in weights.chunks_exact(t) {
        for (s, w) in scales.iter_mut().zip(row) {
            *s = s.max(w.abs());
        }
    }
    for s in &mut scales {
        *s /= 127.0;
    }
    let quantised: Vec<i8> = weights
        .chunks_exact(t)
        .flat_map(|row| {
            row.iter().zip(&scales).map(|(w, s)| {
                if *s == 0.0 {
                    0
                } else {
                    (w / s).round().clamp(-127.0, 127.0) as i8
                }
            })
        })
        .collect();
    Model::from_parts(
        spec,
        tiers.iter().take(t).cloned().collect(),
        bias,
        scales,
        &quantised,
    )
}

fn softmax_f32(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// SplitMix64: a small, fixed pseudo-random sequence for the shuffles.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
