//! What a client can buy with the words of its prompt (SECURITY.md, "cue stuffing"): a cue
//! repeated counts once, and stuffing the cues of several tiers buys no tier.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{chat, compile, minimal};
use tier_router_core::classify::Evidence;
use tier_router_core::{Config, RequestHead};

const CHAT_PATH: RequestHead<'static> = RequestHead {
    path: "/v1/chat/completions",
    task: None,
    session: None,
    request_id: None,
    caller: tier_router_core::trust::Caller::UNKNOWN,
};

/// The tier decided for `prompt` (`fallback` when none) and the cues it matched, one entry
/// per time a cue was counted.
fn decide(config: &Config, prompt: &str) -> (String, Vec<usize>) {
    let routed = config.route(&CHAT_PATH, Some(&chat(prompt)));
    let classification = routed.decision.classification.clone().unwrap();
    let cues = classification
        .evidence
        .iter()
        .filter_map(|(_, evidence)| match evidence {
            Evidence::Cue(id) => Some(*id),
            Evidence::Signal(_) => None,
        })
        .collect();
    (config.tier_name(&routed.decision).to_string(), cues)
}

#[test]
fn a_cue_said_500_times_counts_once() {
    let config = compile(&minimal()).unwrap();
    let (tier_once, cues_once) = decide(&config, "Is this spam? Answer in one word.");
    let stuffed = format!("Is this spam? {}", "Answer in one word. ".repeat(500));
    let (tier_stuffed, cues_stuffed) = decide(&config, &stuffed);
    assert_eq!(tier_once, "label");
    assert_eq!(tier_stuffed, "label");
    assert_eq!(cues_once.len(), 1, "{cues_once:?}");
    assert_eq!(cues_stuffed, cues_once, "a repeated cue is counted once");
}

#[test]
fn stuffing_the_cues_of_every_tier_buys_no_tier() {
    let config = compile(&minimal()).unwrap();
    let stuffed = "one word, step by step. ".repeat(200);
    let (tier, cues) = decide(&config, &stuffed);
    assert_eq!(cues.len(), 2, "each tier's cue once: {cues:?}");
    assert_eq!(tier, "fallback", "equal scores leave no margin");
}
