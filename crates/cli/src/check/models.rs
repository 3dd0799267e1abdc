//! Model lints: a used model without prices (its calls log no cost, so savings are wrong),
//! an Anthropic model whose cache writes cost no more than input, a model nothing uses, and a
//! config without `baseline_model` (no savings at all).

use tier_router_core::api::ApiShape;
use tier_router_core::config::{Model, ModelId};
use tier_router_core::Config;

use super::Finding;

pub fn lint(config: &Config, findings: &mut Vec<Finding>) {
    for (index, model) in config.models.iter().enumerate() {
        let id = ModelId(index);
        let roles = roles(config, id);
        if roles.is_empty() {
            findings.push(Finding::new(
                "unused-model",
                format!(
                    "model `{}` is in no tier and is neither the fallback nor the baseline; \
                     remove it or add it to a tier",
                    model.name
                ),
            ));
        } else if model.price.is_none() {
            findings.push(Finding::new(
                "unpriced-model",
                format!(
                    "model `{}` ({}) has no price_per_1m: its calls are logged without {}, so \
                     `report` understates spend and savings; add {{\"input\", \"output\"}} in \
                     USD per 1M tokens",
                    model.name,
                    roles.join(", "),
                    if config.baseline_model == Some(id) {
                        "a baseline cost (for every call)"
                    } else {
                        "a cost"
                    }
                ),
            ));
        } else {
            lint_cache_writes(model, findings);
        }
    }
    if config.baseline_model.is_none() {
        findings.push(Finding::new(
            "no-baseline",
            "no baseline_model: access logs carry no baseline cost, so `report` and `classify` \
             cannot show what routing saved; set it to the model every call would use without \
             the router"
                .to_string(),
        ));
    }
}

/// Anthropic bills prompt-cache writes above input (1.25x, 2x for the 1-hour cache); a write
/// price equal to input is what an absent `cache_write` defaults to, so it was likely left out.
fn lint_cache_writes(model: &Model, findings: &mut Vec<Finding>) {
    let Some(price) = model.price else { return };
    if !model.profile.apis.contains(ApiShape::AnthropicMessages) || price.cache_write > price.input
    {
        return;
    }
    findings.push(Finding::new(
        "cache-writes-at-input",
        format!(
            "model `{}` serves anthropic_messages but bills prompt-cache writes at its input \
             price ({} USD per 1M); Anthropic bills them at 1.25x input (2x for the 1-hour \
             cache): set price_per_1m.cache_write and cache_write_1h",
            model.name, price.input
        ),
    ));
}

/// What the model is used as: `tier <name>`, `fallback`, `baseline`.
fn roles(config: &Config, id: ModelId) -> Vec<String> {
    let mut roles: Vec<String> = config
        .tiers
        .iter()
        .filter(|t| t.models.contains(&id))
        .map(|t| format!("tier {}", t.name))
        .collect();
    if config.fallback_model == id {
        roles.push("fallback".to_string());
    }
    if config.baseline_model == Some(id) {
        roles.push("baseline".to_string());
    }
    roles
}
