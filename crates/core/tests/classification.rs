//! The default config's cue classifier (the learned model off: tests/model_routing.rs covers
//! it) on prompts shaped like each tier's output, written for these tests from the tier
//! definitions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{chat, cues_only_config};
use serde_json::json;
use tier_router_core::trust::UntrustedReason;
use tier_router_core::{RequestHead, Source, UntrustedTask};

const CHAT_PATH: RequestHead<'static> = RequestHead {
    path: "/v1/chat/completions",
    task: None,
    session: None,
    request_id: None,
    caller: tier_router_core::trust::Caller::UNKNOWN,
};

fn decide(body: &[u8]) -> (String, String, Vec<String>) {
    let config = cues_only_config();
    let routed = config.route(&CHAT_PATH, Some(body));
    let cues = config.cue_list(&routed.decision);
    let cues = cues
        .split(',')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    (
        config.tier_name(&routed.decision).to_string(),
        routed.decision.source.as_str().to_string(),
        cues,
    )
}

#[test]
fn label_shaped_prompts() {
    for prompt in [
        "Classify the sentiment of this review. Answer with only one word: positive or negative. Review: it broke.",
        "Which category does this ticket belong to: billing, shipping or other? Ticket: I was charged twice.",
        "Extract the invoice number from: 'Invoice INV-2291 due 3 May'. Return only the number.",
        "Is this email spam? Answer yes or no.",
    ] {
        let (tier, source, cues) = decide(&chat(prompt));
        assert_eq!((tier.as_str(), source.as_str()), ("label", "classifier"), "{prompt}: {cues:?}");
        assert!(!cues.is_empty());
    }
}

#[test]
fn analysis_shaped_prompts() {
    for prompt in [
        "Prove step by step that the square root of 2 is irrational.",
        "Write a function that merges k sorted lists and analyze its complexity.",
        "Derive the closed form of the sum of the first n cubes and show your work.",
    ] {
        let (tier, source, cues) = decide(&chat(prompt));
        assert_eq!(
            (tier.as_str(), source.as_str()),
            ("analysis", "classifier"),
            "{prompt}: {cues:?}"
        );
    }
}

#[test]
fn chat_shaped_conversation() {
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "My landlord wants to raise the rent."},
        {"role": "assistant", "content": "That sounds stressful. How can I help?"},
        {"role": "user", "content": "Help me write a reply to him, in a friendly tone."}
    ]});
    let (tier, source, cues) = decide(body.to_string().as_bytes());
    assert_eq!(
        (tier.as_str(), source.as_str()),
        ("chat", "classifier"),
        "{cues:?}"
    );
    assert!(cues.contains(&"signal:multi_turn".to_string()), "{cues:?}");
}

#[test]
fn unmatched_prompt_falls_back() {
    let (tier, source, cues) = decide(&chat("hello there"));
    assert_eq!((tier.as_str(), source.as_str()), ("fallback", "fallback"));
    assert!(cues.is_empty());
}

#[test]
fn a_tie_between_tiers_falls_back() {
    // One strong label cue and one strong analysis cue: no margin, so no tier is trusted.
    let (tier, _, cues) = decide(&chat("Answer yes or no, then prove it."));
    assert_eq!(tier, "fallback", "{cues:?}");
}

#[test]
fn structural_signals_count() {
    let body = json!({"model": "m", "max_tokens": 5,
        "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "string", "enum": ["x", "y"]}}},
        "messages": [{"role": "user", "content": "The printer is on fire."}]});
    let (tier, _, cues) = decide(body.to_string().as_bytes());
    assert_eq!(tier, "label");
    assert_eq!(cues, ["signal:small_max_tokens", "signal:enum_schema"]);

    let body = json!({"model": "m", "reasoning_effort": "high", "messages": [{"role": "user", "content": "Why?"}]});
    assert_eq!(decide(body.to_string().as_bytes()).0, "analysis");
}

#[test]
fn cue_in_the_tail_of_a_long_message_is_seen() {
    let document = "lorem ipsum ".repeat(2000);
    let (tier, _, _) = decide(&chat(&format!(
        "{document}\n\nSummarise the above in one word. Answer with only that word."
    )));
    assert_eq!(tier, "label");
}

#[test]
fn cue_in_the_unscanned_middle_is_not_seen() {
    let filler = "lorem ipsum ".repeat(400); // 9.6 KB in all: over the 8 KiB window, under long_prompt
    let (tier, _, _) = decide(&chat(&format!("{filler} prove step by step {filler}")));
    assert_eq!(
        tier, "fallback",
        "scanning is bounded to the head and tail of the message"
    );
}

#[test]
fn system_prompt_is_scanned() {
    let body = json!({"model": "m", "messages": [
        {"role": "system", "content": "You are a ticket router. Reply with only the category name."},
        {"role": "user", "content": "My package never arrived."}
    ]});
    assert_eq!(decide(body.to_string().as_bytes()).0, "label");
}

#[test]
fn explicit_task_order_header_query_path() {
    let config = cues_only_config();
    let body = chat("hello");
    let route = |path: &str, task: Option<&str>| {
        let d = config
            .route(
                &RequestHead {
                    path,
                    task,
                    session: None,
                    request_id: None,
                    ..RequestHead::default()
                },
                Some(&body),
            )
            .decision;
        (
            config.tier_name(&d).to_string(),
            d.source,
            d.untrusted_task.map(|u| u.source),
        )
    };
    assert_eq!(
        route("/api/chat?task=reason", Some("Classify")),
        ("label".into(), Source::Header, None)
    );
    assert_eq!(
        route("/api/chat?task=reason", None),
        ("analysis".into(), Source::Query, None)
    );
    assert_eq!(
        route("/api/chat/v1/chat/completions", None),
        ("chat".into(), Source::Path, None)
    );
    assert_eq!(
        route("/api/chatty", None),
        ("fallback".into(), Source::Fallback, None)
    );
    // An unknown value is not trusted: recorded, then the next source decides.
    assert_eq!(
        route("/v1/chat/completions?task=reason", Some("nonsense")),
        ("analysis".into(), Source::Query, Some(Source::Header))
    );
    assert_eq!(
        route("/v1/chat/completions", Some("nonsense")),
        ("fallback".into(), Source::Fallback, Some(Source::Header))
    );
}

#[test]
fn untrusted_task_still_classifies_the_body() {
    let config = cues_only_config();
    let body = chat("Prove step by step that 7 is prime.");
    let d = config
        .route(
            &RequestHead {
                path: "/v1/chat/completions",
                task: Some("gold-tier"),
                session: None,
                request_id: None,
                ..RequestHead::default()
            },
            Some(&body),
        )
        .decision;
    assert_eq!(
        (config.tier_name(&d), d.source, d.untrusted_task),
        (
            "analysis",
            Source::Classifier,
            Some(UntrustedTask {
                source: Source::Header,
                reason: UntrustedReason::UnknownTask
            })
        )
    );
}
