//! The learned tier classifier: hashed word unigrams and bigrams of the windows the cue
//! classifier scans ([`features`]), a multinomial linear model over the tiers with i8 weights
//! and a scale per tier ([`format`] is its file), and deterministic training ([`train`]).
//! Training and serving share [`FeatureSpec::for_each`], so a model scores requests exactly as
//! it saw its training prompts.

pub mod base64;
pub mod features;
pub mod format;
pub mod train;

use crate::body::RequestBody;
pub use features::FeatureSpec;
use features::{Feature, STRUCTURAL};
pub use format::ModelError;

/// The default model, trained by `scripts/train_default_model.sh` (docs/classifier.md).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../../../models/default.trm");

/// Contributions listed in the access log when the model decides.
pub const EXPLAINED_FEATURES: usize = 3;

/// The model abstains on prompts of fewer tokens ("hello"): too little to go on, so the
/// fallback serves.
pub const MIN_TOKENS: usize = 2;

/// The model's view of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Per model tier, in [`Model::tiers`] order; they sum to 1.
    pub probabilities: Vec<f64>,
    /// Word and symbol tokens read (bigrams and structural tokens not counted).
    pub tokens: usize,
}

/// A linear model over hashed features: `logit[t] = bias[t] + scale[t] * sum(w[f][t]) / sqrt(n)`
/// over the `n` feature occurrences `f` of a request; softmax gives the probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) spec: FeatureSpec,
    pub(crate) tiers: Vec<String>,
    pub(crate) bias: Vec<f32>,
    pub(crate) scales: Vec<f32>,
    /// `buckets * tiers`, bucket-major.
    pub(crate) weights: Vec<i8>,
}

impl Model {
    /// The model built into the module.
    pub fn builtin() -> Result<Model, ModelError> {
        Model::from_bytes(DEFAULT_MODEL)
    }

    pub fn tiers(&self) -> &[String] {
        &self.tiers
    }

    pub fn spec(&self) -> FeatureSpec {
        self.spec
    }

    /// Bytes of the model file.
    pub fn file_len(&self) -> usize {
        8 + 2
            + 2
            + 1
            + 1
            + 4
            + self.tiers.iter().map(|t| 1 + t.len()).sum::<usize>()
            + 8 * self.tiers.len()
            + self.weights.len()
            + 4
    }

    /// The probability of each of the model's tiers, in [`Model::tiers`] order.
    pub fn probabilities(&self, body: &RequestBody) -> Vec<f64> {
        self.score(body).probabilities
    }

    pub fn score(&self, body: &RequestBody) -> Scored {
        let (logits, tokens) = self.logits(body);
        Scored {
            probabilities: softmax(&logits),
            tokens,
        }
    }

    /// Each tier's logit, and the tokens read.
    pub fn logits(&self, body: &RequestBody) -> (Vec<f64>, usize) {
        let t = self.tiers.len();
        let mut sums = [0i32; format::MAX_TIERS];
        let mut tokens = 0;
        let n = self.spec.for_each(body, |f| {
            tokens += usize::from(f.unigram);
            let at = f.bucket as usize * t;
            if let (Some(row), Some(acc)) = (self.weights.get(at..at + t), sums.get_mut(..t)) {
                for (s, w) in acc.iter_mut().zip(row) {
                    *s += i32::from(*w);
                }
            }
        });
        let norm = if n == 0 { 0.0 } else { 1.0 / (n as f64).sqrt() };
        let logits = (0..t)
            .map(|i| {
                let bias = f64::from(self.bias.get(i).copied().unwrap_or(0.0));
                let scale = f64::from(self.scales.get(i).copied().unwrap_or(0.0));
                bias + scale * f64::from(sums.get(i).copied().unwrap_or(0)) * norm
            })
            .collect();
        (logits, tokens)
    }

    /// The features that raised `tier`'s logit most, as text (lowercase, a bigram's two
    /// tokens with what lay between them), strongest first, each bucket once.
    pub fn explain(&self, body: &RequestBody, tier: usize, top: usize) -> Vec<String> {
        let t = self.tiers.len();
        let mut best: Vec<(i8, Feature)> = Vec::with_capacity(top + 1);
        self.spec.for_each(body, |f| {
            let Some(&w) = self.weights.get(f.bucket as usize * t + tier) else {
                return;
            };
            if w <= 0 || f.window == STRUCTURAL || best.iter().any(|(_, b)| b.bucket == f.bucket) {
                return;
            }
            let at = best
                .iter()
                .position(|(bw, _)| *bw < w)
                .unwrap_or(best.len());
            if at < top {
                best.insert(at, (w, f));
                best.truncate(top);
            }
        });
        let windows: Vec<&[u8]> = body
            .system
            .iter()
            .chain(body.last_user.iter().flat_map(|w| w.iter()))
            .collect();
        best.iter()
            .filter_map(|(_, f)| {
                let bytes = windows.get(f.window)?.get(f.start..f.end)?;
                let text = String::from_utf8_lossy(bytes);
                Some(
                    text.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_lowercase(),
                )
            })
            .collect()
    }
}

pub fn softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// The index and value of the largest entry (the first on ties).
pub fn argmax(values: &[f64]) -> Option<(usize, f64)> {
    values
        .iter()
        .copied()
        .enumerate()
        .fold(None, |best, (i, v)| match best {
            Some((_, b)) if v <= b => best,
            _ => Some((i, v)),
        })
}
