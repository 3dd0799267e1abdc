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
    /// Every feature occurrence, in order, for [`Model::strongest`].
    pub features: Vec<Feature>,
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

    /// Scores `body`. The features are gathered
    /// first and summed in a loop of their own, so the weight loads (a random walk over the
    /// table) overlap instead of waiting on each other.
    pub fn score(&self, body: &RequestBody) -> Scored {
        // About one feature per two bytes of scanned text (a token is ~4.5 bytes, and a word
        // and its bigram are two features); a larger guess costs page faults.
        let scanned = body.system.len() + body.last_user.as_ref().map_or(0, |w| w.len());
        let mut features: Vec<Feature> = Vec::with_capacity(scanned / 2 + 8);
        self.spec.collect(body, &mut features);
        let n = features.len();
        let t = self.tiers.len();
        let sums = self.sums(&features);
        let tokens = features.iter().filter(|f| f.unigram).count();
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
            features,
        }
    }

    /// Each tier's sum of weights over `features`.
    fn sums(&self, features: &[Feature]) -> [i32; format::MAX_TIERS] {
        let mut sums = [0i32; format::MAX_TIERS];
        if self.stride == LANES {
            // Four named accumulators stay in registers (a loop over an array did not).
            let (mut a, mut b, mut c, mut d) = (0i32, 0i32, 0i32, 0i32);
            for f in features {
                let at = f.bucket as usize * LANES;
                if let Some(&[w0, w1, w2, w3]) = self.weights.get(at..at + LANES) {
                    a += i32::from(w0);
                    b += i32::from(w1);
                    c += i32::from(w2);
                    d += i32::from(w3);
                }
            }
            sums.iter_mut().zip([a, b, c, d]).for_each(|(s, v)| *s = v);
            return sums;
        }
        for f in features {
            let at = f.bucket as usize * self.stride;
            let row = self.weights.get(at..at + self.stride).unwrap_or_default();
            for (s, w) in sums.iter_mut().zip(row) {
                *s += i32::from(*w);
            }
        }
        sums
    }

    /// The `top` text-bearing features with the largest positive weight for `tier`, each
    /// bucket once, strongest first.
    pub fn strongest(&self, features: &[Feature], tier: usize, top: usize) -> Vec<Feature> {
        let mut best: Vec<(i8, Feature)> = Vec::with_capacity(top + 1);
        // Most features are weaker than every kept one: one compare each.
        let mut floor = 0i8;
        for f in features {
            let w = self
                .weights
                .get(f.bucket as usize * self.stride + tier)
                .copied()
                .unwrap_or(0);
            if w > floor {
                floor = keep_top(&mut best, top, w, *f);
            }
        }
        best.into_iter().map(|(_, f)| f).collect()
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
                        .to_lowercase(),
                )
            })
            .collect()
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
