//! Per-tier lints: reasoning tiers whose completion-token floor is too small, tiers nothing
//! can route to, and tiers whose cues cannot win a classification even all together.

use serde_json::{json, Value};
use tier_router_core::config::{Tier, TierId};
use tier_router_core::{Config, RequestHead};

use super::Finding;

/// Reasoning models spend completion tokens thinking before they answer; under this cap many
/// stop with no answer at all.
pub const MIN_REASONING_FLOOR: u64 = 4096;

/// Name fragments of a reasoning tier.
const REASONING_NAMES: &[&str] = &["analy", "reason", "think"];

/// A path no deployment routes explicitly, so the probe reaches the classifier.
const PROBE_PATH: &str = "/tier-router-check/v1/chat/completions";

pub fn lint(config: &Config, document: &Value, findings: &mut Vec<Finding>) {
    let signal_tiers = signal_tiers(document);
    for (index, tier) in config.tiers.iter().enumerate() {
        let id = TierId(index);
        reasoning_floor(tier, findings);
        let has_cues = config.classifier.cues().iter().any(|c| c.tier == id);
        let has_signal = signal_tiers.contains(&tier.name);
        if !has_cues && !has_signal && !explicitly_routed(config, id) {
            findings.push(Finding::new(
                "unreachable-tier",
                format!(
                    "tier `{0}` has no cues, no signal, no task alias and no path: only a \
                     request that names it (`x-task: {0}`) reaches it; add cues or a \
                     `tasks`/`paths` entry, or remove the tier",
                    tier.name
                ),
            ));
        }
        if has_cues {
            cues_can_win(config, id, findings);
        }
    }
}

fn reasoning_floor(tier: &Tier, findings: &mut Vec<Finding>) {
    let by_name = REASONING_NAMES.iter().any(|n| tier.name.contains(n));
    let floor = tier.token_floor.map(|f| f.min);
    let why = if by_name {
        "its name"
    } else {
        "its token_floor"
    };
    let message = match floor {
        Some(min) if min >= MIN_REASONING_FLOOR => return,
        Some(min) => format!(
            "tier `{}` is a reasoning tier ({why}) with token_floor.min {min}, under \
             {MIN_REASONING_FLOOR}: reasoning models spend completion tokens before they \
             answer, and a small cap ends them with no answer; raise it to at least \
             {MIN_REASONING_FLOOR}",
            tier.name
        ),
        None if by_name => format!(
            "tier `{}` is a reasoning tier (its name) with no token_floor: a client's small \
             max_tokens can end a reasoning model before it answers; add \"token_floor\": \
             {{\"min\": {MIN_REASONING_FLOOR}}}",
            tier.name
        ),
        None => return,
    };
    findings.push(Finding::new("reasoning-floor", message));
}

/// A task alias other than the tier's own name, or a path prefix, routes to the tier.
fn explicitly_routed(config: &Config, id: TierId) -> bool {
    let name = &config.tier(id).name;
    config
        .tasks
        .iter()
        .any(|(task, t)| *t == id && task != name)
        || config.paths.iter().any(|(_, t)| *t == id)
}

/// The tiers named by `classifier.signals.*.tier` (the compiled classifier keeps them
/// private, so they are read from the document the filter accepted).
fn signal_tiers(document: &Value) -> Vec<String> {
    let Some(signals) = document
        .pointer("/classifier/signals")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    signals
        .values()
        .filter_map(|s| s.get("tier").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Classifies a prompt made of every cue of the tier, with the filter's own code: when even
/// that does not pick the tier (`min_score`, `min_margin`, or other tiers' cues inside these
/// ones), no prompt reaches it by its cues.
fn cues_can_win(config: &Config, id: TierId, findings: &mut Vec<Finding>) {
    let phrases: Vec<&str> = config
        .classifier
        .cues()
        .iter()
        .filter(|c| c.tier == id)
        .map(|c| c.phrase.as_str())
        .collect();
    let body = json!({"messages": [{"role": "user", "content": phrases.join(". ")}]});
    let head = RequestHead {
        path: PROBE_PATH,
        ..RequestHead::default()
    };
    let routed = config.route(&head, Some(body.to_string().as_bytes()));
    let Some(classification) = routed.decision.classification else {
        return; // Decided explicitly (a catch-all path): the classifier is never used.
    };
    if classification.winner == Some(id) {
        return;
    }
    let scores: Vec<String> = config
        .tiers
        .iter()
        .zip(&classification.scores)
        .map(|(t, s)| format!("{} {s}", t.name))
        .collect();
    findings.push(Finding::new(
        "cues-cannot-win",
        format!(
            "tier `{}`: a prompt containing every one of its cues is not routed to it (scores: \
             {}; the winner needs classifier.min_score and classifier.min_margin over the \
             runner-up): raise its cue weights or remove other tiers' cues inside them",
            config.tier(id).name,
            scores.join(", ")
        ),
    ));
}
