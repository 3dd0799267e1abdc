//! The learned model against the config: the tiers it can pick, the ones it cannot, its size.

use tier_router_core::classify::ModelSource;
use tier_router_core::Config;

use super::Finding;

/// The default model's budget; larger models still load, but cost every worker the memory.
pub const MAX_MODEL_BYTES: usize = 256 * 1024;

pub fn lint(config: &Config, findings: &mut Vec<Finding>) {
    if let ModelSource::BuiltinTiersMissing(missing) = config.classifier.model_source() {
        findings.push(Finding::new(
            "model-off",
            format!(
                "the built-in model picks among label, chat and analysis, and this config has \
                 no tier {}; so the model is off and only cues classify. Train one on this \
                 config's tiers (`tier-router train --config`) and give it as \
                 classifier.model.weights_base64, or set classifier.model.enabled to false",
                missing.join(", ")
            ),
        ));
    }
    let Some(model) = config.classifier.model() else {
        return;
    };
    let never: Vec<&str> = config
        .tiers
        .iter()
        .enumerate()
        .filter(|(i, _)| !model.tiers.iter().any(|t| t.0 == *i))
        .map(|(_, t)| t.name.as_str())
        .collect();
    if !never.is_empty() {
        findings.push(Finding::new(
            "model-tiers",
            format!(
                "the model never picks tier {} (it was trained without it); only cues and \
                 explicit tasks reach it. Retrain with labelled prompts for it",
                never.join(", ")
            ),
        ));
    }
    let size = model.model.file_len();
    if size > MAX_MODEL_BYTES {
        findings.push(Finding::new(
            "model-size",
            format!(
                "the model is {size} bytes, over the {MAX_MODEL_BYTES}-byte budget every Envoy \
                 worker holds; retrain with a smaller --hash-bits"
            ),
        ));
    }
}

/// How the check summary names the model.
pub fn describe(config: &Config) -> String {
    let source = config.classifier.model_source();
    match (config.classifier.model(), source) {
        (Some(m), ModelSource::Builtin) => {
            format!("built-in model, {} bytes", m.model.file_len())
        }
        (Some(m), _) => format!("configured model, {} bytes", m.model.file_len()),
        (None, ModelSource::Disabled) => "model off".to_string(),
        (None, _) => "model off (tiers do not match)".to_string(),
    }
}
