//! One `classify` output line: the decision as the filter would log it, plus the scores and
//! the model's probabilities.

use serde_json::{json, Map, Value};
use tier_router_core::{BodyStatus, Config, Routed};

/// One output line: the decision as the filter would log it, plus the per-tier scores.
pub fn decision_json(config: &Config, routed: &Routed, line: usize) -> Value {
    let decision = &routed.decision;
    let model = config.model(decision.model);
    let cues: Vec<&str> = decision
        .classification
        .iter()
        .flat_map(|c| c.evidence.iter())
        .map(|(_, e)| config.classifier.evidence_name(*e))
        .collect();
    let mut scores = Map::new();
    if let Some(c) = &decision.classification {
        for (tier, score) in config.tiers.iter().zip(&c.scores) {
            scores.insert(tier.name.clone(), json!(score));
        }
    }
    let mut record = json!({
        "line": line,
        "tier": config.tier_name(decision),
        "model": model.name,
        "cluster": model.cluster,
        "source": decision.source.as_str(),
        "cues": cues,
        "scores": scores,
    });
    if let Value::Object(fields) = &mut record {
        if decision.body == BodyStatus::NotJson {
            fields.insert(
                "note".into(),
                json!("body is not a JSON object; passed through untouched"),
            );
        }
        if let Some(untrusted) = decision.untrusted_task {
            fields.insert("untrusted_task".into(), json!(untrusted.source.as_str()));
            fields.insert("untrusted_reason".into(), json!(untrusted.reason.as_str()));
        }
        if let Some(c) = decision
            .classification
            .as_ref()
            .filter(|c| !c.probabilities.is_empty())
        {
            let probabilities: Map<String, Value> = config
                .tiers
                .iter()
                .zip(&c.probabilities)
                .map(|(tier, p)| (tier.name.clone(), json!((p * 1000.0).round() / 1000.0)))
                .collect();
            fields.insert("model_probabilities".into(), Value::Object(probabilities));
        }
        if decision.source == tier_router_core::Source::Model {
            fields.insert("matched_cues".into(), json!(config.cue_list(decision)));
        }
        if !decision.edits.is_empty() {
            fields.insert("edits".into(), json!(config.edit_list(decision)));
        }
        if let Some(how) = decision.shape_fallback {
            fields.insert("shape_fallback".into(), json!(how.as_str()));
        }
    }
    record
}
