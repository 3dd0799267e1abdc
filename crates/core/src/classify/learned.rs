//! The learned model as the classifier runs it: the model, which configured tier each of its
//! tiers is, and the probability its top tier needs to decide.

use crate::config::TierId;
use crate::learn::Model;

/// Where the classifier's model came from, for `tier-router check` and the docs' promise
/// that a mismatch is never silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The built-in default model.
    Builtin,
    /// `classifier.model.weights_base64`.
    Config,
    /// `classifier.model.enabled: false`.
    Disabled,
    /// The built-in model names tiers this config does not have, so it is off.
    BuiltinTiersMissing(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct TierModel {
    pub model: Model,
    /// The configured tier of each of the model's tiers, in the model's order.
    pub tiers: Vec<TierId>,
    pub min_confidence: f64,
}

impl TierModel {
    /// The probability of each configured tier (0 for tiers the model does not know).
    pub fn probabilities(&self, probs_by_model_tier: &[f64], tier_count: usize) -> Vec<f64> {
        let mut out = vec![0.0; tier_count];
        for (tier, p) in self.tiers.iter().zip(probs_by_model_tier) {
            if let Some(slot) = out.get_mut(tier.0) {
                *slot = *p;
            }
        }
        out
    }
}
