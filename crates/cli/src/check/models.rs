//! Model lints: a used model without prices (its calls log no cost, so savings are wrong),
//! a model nothing uses, and a config without `baseline_model` (no savings at all).

use tier_router_core::config::ModelId;
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
