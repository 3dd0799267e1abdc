//! `classifier.model`: the learned model the classifier falls back on when no cue decides.
//! The built-in default model serves unless the config gives its own (`weights_base64`) or
//! turns it off (`enabled: false`).

use serde::Deserialize;

use super::bounds::check_range;
use super::{ConfigError, Tier, TierId};
use crate::classify::{ModelSource, TierModel};
use crate::learn::{base64, Model};

/// The measured default (docs/classifier.md): the probability the model's top tier needs.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.45;

const FIELD: &str = "classifier.model.weights_base64";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassifierModel {
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f64,
    /// A model file (`tier-router train --out`), base64-encoded; replaces the built-in one.
    #[serde(default)]
    pub weights_base64: Option<String>,
}

impl Default for RawClassifierModel {
    fn default() -> Self {
        RawClassifierModel {
            enabled: true,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            weights_base64: None,
        }
    }
}

fn default_enabled() -> bool {
    true
}
fn default_min_confidence() -> f64 {
    DEFAULT_MIN_CONFIDENCE
}

pub(super) fn compile_model(
    raw: &RawClassifierModel,
    tiers: &[Tier],
) -> Result<(Option<TierModel>, ModelSource), ConfigError> {
    check_range(
        "classifier.model.min_confidence",
        raw.min_confidence,
        0.0,
        1.0,
        "the probability the model's top tier needs to decide",
    )?;
    if !raw.enabled {
        if raw.weights_base64.is_some() {
            return Err(ConfigError::new(
                FIELD,
                "a model is given but classifier.model.enabled is false; remove one of them",
            ));
        }
        return Ok((None, ModelSource::Disabled));
    }
    let Some(text) = &raw.weights_base64 else {
        return builtin(raw, tiers);
    };
    let bytes = base64::decode(text).map_err(|at| {
        ConfigError::new(
            FIELD,
            format!(
                "not base64 (a bad character at offset {at}); encode the file `tier-router \
                 train --out` wrote with `base64 -w0 MODEL`"
            ),
        )
    })?;
    let model = Model::from_bytes(&bytes).map_err(|e| {
        ConfigError::new(
            FIELD,
            format!("{e}; give a model file written by `tier-router train`"),
        )
    })?;
    let mapped = map_tiers(&model, tiers).map_err(|missing| {
        ConfigError::new(
            FIELD,
            format!(
                "the model's tier {missing:?} is not one of this config's tiers; retrain with \
                 labels that name this config's tiers, or add the tier"
            ),
        )
    })?;
    Ok((Some(tier_model(model, mapped, raw)), ModelSource::Config))
}

/// The built-in model, when this config has every tier it names; else it is off and
/// `tier-router check` says so.
fn builtin(
    raw: &RawClassifierModel,
    tiers: &[Tier],
) -> Result<(Option<TierModel>, ModelSource), ConfigError> {
    let model = Model::builtin().map_err(|e| {
        ConfigError::new(
            "classifier.model",
            format!("the built-in model is damaged ({e}); rebuild the module"),
        )
    })?;
    let missing: Vec<String> = model
        .tiers()
        .iter()
        .filter(|name| !tiers.iter().any(|t| &t.name == *name))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Ok((None, ModelSource::BuiltinTiersMissing(missing)));
    }
    let mapped = map_tiers(&model, tiers).unwrap_or_default();
    Ok((Some(tier_model(model, mapped, raw)), ModelSource::Builtin))
}

/// The configured tier of each model tier; on a miss, the missing name.
fn map_tiers(model: &Model, tiers: &[Tier]) -> Result<Vec<TierId>, String> {
    model
        .tiers()
        .iter()
        .map(|name| {
            tiers
                .iter()
                .position(|t| &t.name == name)
                .map(TierId)
                .ok_or_else(|| name.clone())
        })
        .collect()
}

fn tier_model(model: Model, tiers: Vec<TierId>, raw: &RawClassifierModel) -> TierModel {
    TierModel {
        model,
        tiers,
        min_confidence: raw.min_confidence,
    }
}

impl super::Config {
    /// Replaces the classifier's model (the CLI's `--model`), keeping the configured
    /// `min_confidence` unless `min_confidence` is given; every model tier must be a tier of
    /// this config.
    pub fn use_model(&mut self, model: Model, min_confidence: Option<f64>) -> Result<(), String> {
        let mapped = map_tiers(&model, &self.tiers).map_err(|missing| {
            format!(
                "the model's tier {missing:?} is not one of the config's tiers ({})",
                self.tiers
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let min_confidence = min_confidence
            .or_else(|| self.classifier.model().map(|m| m.min_confidence))
            .unwrap_or(DEFAULT_MIN_CONFIDENCE);
        let tier_model = TierModel {
            model,
            tiers: mapped,
            min_confidence,
        };
        self.classifier
            .set_model(Some(tier_model), ModelSource::Config);
        Ok(())
    }
}
