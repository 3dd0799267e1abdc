//! The learned tier classifier: hashed word unigrams and bigrams of the windows the cue
//! classifier scans ([`features`]), a multinomial linear model over the tiers with i8 weights
//! and a scale per tier ([`format`] is its file), and deterministic training ([`train`]).
//! Training and serving share [`FeatureSpec::for_each`], so a model scores requests exactly as
//! it saw its training prompts.

pub mod base64;
pub mod features;
pub mod format;
pub mod train;

#[cfg(test)]
mod fused_tests;

use crate::body::RequestBody;
pub use features::FeatureSpec;
use features::{Feature, FeatureOut, STRUCTURAL};
pub use format::ModelError;

/// The default model, trained by `scripts/train_default_model.sh` (docs/classifier.md).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../../../models/default.trm");

/// Contributions listed in the access log when the model decides.
pub const EXPLAINED_FEATURES: usize = 3;

/// The model abstains on prompts of fewer tokens ("hello"): too little to go on, so the
/// fallback serves.
pub const MIN_TOKENS: usize = 2;

/// Weights of up to this many tiers are padded to it in memory, so a bucket is one aligned
/// group of lanes.
const LANES: usize = 4;

/// A linear model over hashed features: `logit[t] = bias[t] + scale[t] * sum(w[f][t]) / sqrt(n)`
/// over the `n` feature occurrences `f` of a request; softmax gives the probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) spec: FeatureSpec,
    pub(crate) tiers: Vec<String>,
    pub(crate) bias: Vec<f32>,
    pub(crate) scales: Vec<f32>,
    /// `buckets * stride`, bucket-major; the file holds `buckets * tiers` (no padding).
    weights: Vec<i8>,
    /// [`LANES`] for up to that many tiers, else the tier count.
    stride: usize,
}

/// The model's view of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Per model tier, in [`Model::tiers`] order; they sum to 1.
    pub probabilities: Vec<f64>,
    /// Word and symbol tokens read (bigrams and structural tokens not counted).
    pub tokens: usize,
}

/// Sums the weights of up to [`LANES`] tiers as the features stream by: four named
/// accumulators stay in registers (a loop over an array did not).
struct LaneSums<'w> {
    weights: &'w [i8],
    sums: [i32; LANES],
    features: usize,
    tokens: usize,
}

impl FeatureOut for LaneSums<'_> {
    #[inline(always)]
    fn feature(&mut self, f: Feature) {
        self.features += 1;
        self.tokens += usize::from(f.unigram);
        let at = f.bucket as usize * LANES;
        if let Some(&[w0, w1, w2, w3]) = self.weights.get(at..at + LANES) {
            self.sums[0] += i32::from(w0);
            self.sums[1] += i32::from(w1);
            self.sums[2] += i32::from(w2);
            self.sums[3] += i32::from(w3);
        }
    }
}

impl Model {
    /// A model from its parts; `weights` is `buckets * tiers`, bucket-major.
    pub(crate) fn from_parts(
        spec: FeatureSpec,
        tiers: Vec<String>,
        bias: Vec<f32>,
        scales: Vec<f32>,
        weights: &[i8],
    ) -> Model {
        let t = tiers.len().max(1);
        let stride = if t <= LANES { LANES } else { t };
        let mut padded = vec![0i8; spec.buckets() * stride];
        for (row, out) in weights.chunks_exact(t).zip(padded.chunks_exact_mut(stride)) {
            out.iter_mut().zip(row).for_each(|(o, w)| *o = *w);
        }
        Model {
            spec,
            tiers,
            bias,
            scales,
            weights: padded,
            stride,
        }
    }

    /// The weights as the file holds them: `buckets * tiers`.
    pub(crate) fn file_weights(&self) -> impl Iterator<Item = i8> + '_ {
        let t = self.tiers.len();
        self.weights
            .chunks_exact(self.stride)
            .flat_map(move |row| row.iter().take(t).copied())
    }

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
            + self.spec.buckets() * self.tiers.len()
            + 4
    }

    /// The probability of each of the model's tiers, in [`Model::tiers`] order.
    pub fn probabilities(&self, body: &RequestBody) -> Vec<f64> {
        self.score(body).probabilities
    }

    /// Scores `body`: one pass over its features, each weight summed as its token is read
    /// (the loads are independent, so they overlap without a feature list in between).
    pub fn score(&self, body: &RequestBody) -> Scored {
        let t = self.tiers.len();
        let (sums, n, tokens) = self.sums(body);
        let norm = if n == 0 { 0.0 } else { 1.0 / (n as f64).sqrt() };
        let logits: Vec<f64> = (0..t)
            .map(|i| {
                let bias = f64::from(self.bias.get(i).copied().unwrap_or(0.0));
                let scale = f64::from(self.scales.get(i).copied().unwrap_or(0.0));
                bias + scale * f64::from(sums.get(i).copied().unwrap_or(0)) * norm
            })
            .collect();
        Scored {
            probabilities: softmax(&logits),
            tokens,
        }
    }

    /// Each tier's sum of weights over the features of `body`, the number of features and
    /// of tokens (unigrams).
    fn sums(&self, body: &RequestBody) -> ([i32; format::MAX_TIERS], usize, usize) {
        let mut sums = [0i32; format::MAX_TIERS];
        if self.stride == LANES {
            let mut lanes = LaneSums {
                weights: &self.weights,
                sums: [0; LANES],
                features: 0,
                tokens: 0,
            };
            self.spec.walk(body, &mut lanes);
            sums.iter_mut().zip(lanes.sums).for_each(|(s, v)| *s = v);
            return (sums, lanes.features, lanes.tokens);
        }
        let mut features = Vec::new();
        self.spec.collect(body, &mut features);
        for f in &features {
            let at = f.bucket as usize * self.stride;
            let row = self.weights.get(at..at + self.stride).unwrap_or_default();
            for (s, w) in sums.iter_mut().zip(row) {
                *s += i32::from(*w);
            }
        }
        let tokens = features.iter().filter(|f| f.unigram).count();
        (sums, features.len(), tokens)
    }

    /// The `top` text-bearing features of `body` with the largest positive weight for
    /// `tier`, each bucket once, strongest first. The features are walked again (only for a
    /// request the model decides), and kept as they stream by, without a list of them all.
    pub fn explain(&self, body: &RequestBody, tier: usize, top: usize) -> Vec<Feature> {
        let mut strongest = Strongest::new(self, tier, top);
        self.spec.walk(body, &mut strongest);
        strongest.best.into_iter().map(|(_, f)| f).collect()
    }

    /// The text of features (lowercase; a bigram's two tokens with what lay between them).
    pub fn feature_text(body: &RequestBody, features: &[Feature]) -> Vec<String> {
        let windows: Vec<&[u8]> = body
            .system
            .iter()
            .chain(body.last_user.iter().flat_map(|w| w.iter()))
            .collect();
        features
            .iter()
            .filter_map(|f| {
                let bytes = windows
                    .get(f.window as usize)?
                    .get(f.start as usize..f.end as usize)?;
                let text = String::from_utf8_lossy(bytes);
                Some(
                    text.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        // As the features fold it: ASCII letters only.
                        .to_ascii_lowercase(),
                )
            })
            .collect()
    }
}

/// The strongest features for one tier so far ([`Model::strongest`]).
struct Strongest<'m> {
    model: &'m Model,
    tier: usize,
    top: usize,
    best: Vec<(i8, Feature)>,
    /// Most features are weaker than every kept one: one compare each.
    floor: i8,
}

impl<'m> Strongest<'m> {
    fn new(model: &'m Model, tier: usize, top: usize) -> Self {
        Strongest {
            model,
            tier,
            top,
            best: Vec::with_capacity(top + 1),
            floor: 0,
        }
    }
}

impl FeatureOut for Strongest<'_> {
    fn feature(&mut self, f: Feature) {
        let w = self
            .model
            .weights
            .get(f.bucket as usize * self.model.stride + self.tier)
            .copied()
            .unwrap_or(0);
        if w > self.floor {
            self.floor = keep_top(&mut self.best, self.top, w, f);
        }
    }
}

/// Keeps `best` the `top` strongest positive, text-bearing features, each bucket once;
/// returns the weight a feature must now exceed to be kept.
fn keep_top(best: &mut Vec<(i8, Feature)>, top: usize, w: i8, f: Feature) -> i8 {
    let floor = |best: &Vec<(i8, Feature)>| {
        if best.len() < top {
            0
        } else {
            best.last().map_or(0, |(bw, _)| *bw)
        }
    };
    if f.window == STRUCTURAL || best.iter().any(|(_, b)| b.bucket == f.bucket) {
        return floor(best);
    }
    let at = best
        .iter()
        .position(|(bw, _)| *bw < w)
        .unwrap_or(best.len());
    best.insert(at, (w, f));
    best.truncate(top);
    floor(best)
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
