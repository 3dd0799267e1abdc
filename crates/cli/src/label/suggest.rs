//! The classifier's suggestion for a prompt, as `label` shows it: the tier the router would
//! pick by content, and why (its score and the cues and signals that matched, or the learned
//! model's probability and strongest features).

use tier_router_core::classify::Classification;
use tier_router_core::config::TierId;
use tier_router_core::Config;

/// How many matched cues are named.
const SHOW_CUES: usize = 4;

#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The tier Enter accepts: the classifier's winner. `None` when the router would send
    /// the prompt to the fallback model.
    pub tier: Option<TierId>,
    /// One line for the screen.
    pub text: String,
}

impl Suggestion {
    pub fn new(config: &Config, c: &Classification) -> Suggestion {
        let best = c
            .scores
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0.0)
            .max_by(|a, b| a.1.total_cmp(b.1));
        let text = match (c.winner, best) {
            // The learned model decided: its probability and strongest features.
            (Some(tier), _) if c.by_model => format!(
                "{} (model p={:.2}; features: {})",
                config.tier(tier).name,
                c.model_top().map_or(0.0, |(_, p)| p),
                c.model_features.join(", ")
            ),
            (Some(tier), _) => format!(
                "{} (score {}; {})",
                config.tier(tier).name,
                score_of(c, tier),
                evidence(config, c, tier)
            ),
            (None, Some((i, score))) => format!(
                "none: no tier wins by the configured margin, the fallback model would serve \
                 (best: {} with score {score}; {})",
                config.tier(TierId(i)).name,
                evidence(config, c, TierId(i))
            ),
            (None, None) => {
                "none: no cue or signal matched, the fallback model would serve".to_string()
            }
        };
        Suggestion {
            tier: c.winner,
            text,
        }
    }
}

fn score_of(c: &Classification, tier: TierId) -> f64 {
    c.scores.get(tier.0).copied().unwrap_or(0.0)
}

/// `cues: "step by step", signal:code_fence`, the first few of the tier's evidence.
fn evidence(config: &Config, c: &Classification, tier: TierId) -> String {
    let names: Vec<String> = c
        .evidence
        .iter()
        .filter(|(t, _)| *t == tier)
        .map(|(_, e)| config.classifier.evidence_name(*e))
        .map(|name| {
            if name.starts_with("signal:") {
                name.to_string()
            } else {
                format!("\"{name}\"")
            }
        })
        .collect();
    let more = names.len().saturating_sub(SHOW_CUES);
    let mut shown = names
        .into_iter()
        .take(SHOW_CUES)
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        shown.push_str(&format!(" and {more} more"));
    }
    format!("matched {shown}")
}
