//! Bad input never crashes the core: truncated, corrupted and oddly typed bodies and response
//! streams all produce a decision (or nothing), never a panic, which in Envoy would trap the VM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use tier_router_core::account::{Reply, Timing};
use tier_router_core::usage::UsageScanner;
use tier_router_core::RequestHead;

const BODIES: &[&str] = &[
    r#"{"model":"m","stream":true,"stream_options":{"a":1},"max_tokens":5,"messages":[{"role":"system","content":"Reply with only one word."},{"role":"user","content":[{"type":"text","text":"caf\u00e9 ```code``` prove it step by step"}]}]}"#,
    r#"{"model":"m","instructions":"x","input":[{"role":"user","content":[{"type":"input_text","text":"extract the id"}]}],"reasoning":{"effort":"high"},"text":{"format":{"enum":["a"]}}}"#,
    r#"{"model":"claude","system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"r"}]}]}],"thinking":{"type":"enabled"}}"#,
    r#"{"prompt":["a","b"],"max_completion_tokens":null,"max_output_tokens":"9"}"#,
];

const RESPONSE: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"h\u{e9}\"}}],\"usage\":null}\r\n\r\nevent: message_start\ndata: {\"message\":{\"usage\":{\"input_tokens\":3,\"cache_read_input_tokens\":1}}}\n\ndata: {\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\ndata: [DONE]\n\n";

/// Deterministic pseudo-random bytes (xorshift), so a failure reproduces.
fn noise(seed: &mut u64) -> u8 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 24) as u8
}

#[test]
fn truncated_and_corrupted_bodies_route_without_panicking() {
    let config = common::default_config();
    let heads = [
        RequestHead {
            path: "/v1/chat/completions",
            task: None,
            session: Some("s"),
            request_id: Some("r"),
            ..RequestHead::default()
        },
        RequestHead {
            path: "/v1/responses?task=%ff%",
            task: Some("\u{0}"),
            session: None,
            request_id: None,
            ..RequestHead::default()
        },
        RequestHead {
            path: "/api/analyze",
            task: Some("analysis"),
            session: Some(""),
            request_id: Some(""),
            ..RequestHead::default()
        },
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for body in BODIES {
        let bytes = body.as_bytes();
        for cut in 0..=bytes.len() {
            for head in &heads {
                let routed = config.route(head, Some(&bytes[..cut]));
                if let Some(new_body) = routed.new_body {
                    // Whatever the router writes is still JSON.
                    serde_json::from_slice::<serde_json::Value>(&new_body).unwrap();
                }
            }
        }
        for _ in 0..2_000 {
            let mut corrupted = bytes.to_vec();
            let at = usize::from(noise(&mut seed)) * corrupted.len() / 256;
            corrupted[at] = noise(&mut seed);
            config.route(&heads[0], Some(&corrupted));
        }
    }
}

#[test]
fn corrupted_response_streams_are_scanned_without_panicking() {
    let config = common::default_config();
    let decision = config
        .route(&RequestHead::default(), Some(BODIES[0].as_bytes()))
        .decision;
    let mut seed = 42;
    let bytes = RESPONSE.as_bytes();
    for _ in 0..3_000 {
        let mut corrupted = bytes.to_vec();
        for _ in 0..3 {
            let at = usize::from(noise(&mut seed)) * corrupted.len() / 256;
            corrupted[at] = noise(&mut seed);
        }
        let mut scanner = UsageScanner::new();
        for chunk in corrupted.chunks(usize::from(noise(&mut seed) % 17) + 1) {
            scanner.feed(chunk);
        }
        let account = config.account(
            &decision,
            &scanner,
            Timing {
                start_ns: 5,
                first_byte_ns: Some(1),
                first_token_ns: Some(2),
                end_ns: Some(0),
            },
            Reply::upstream(200),
        );
        config.log_fields(&account);
    }
}

#[test]
fn huge_and_hostile_token_counts_do_not_overflow() {
    let config = common::default_config();
    let decision = config.route(&RequestHead::default(), Some(b"{}")).decision;
    let mut scanner = UsageScanner::new();
    scanner.feed(br#"{"usage":{"input_tokens":18446744073709551615,"cache_read_input_tokens":18446744073709551615,"output_tokens":18446744073709551615}}"#);
    let account = config.account(&decision, &scanner, Timing::default(), Reply::upstream(200));
    config.log_fields(&account);
}

/// Invalid UTF-8 inside a JSON string makes the body not JSON (serde_json does not check the
/// strings it skips): it passes through untouched instead of being rewritten (found by the
/// route_bytes fuzz target).
#[test]
fn invalid_utf8_in_a_string_is_not_json() {
    let config = common::default_config();
    let head = RequestHead {
        path: "/v1/responses",
        ..RequestHead::default()
    };
    let body = b"{\"max_tmodel\": \"m\", \"inxut\": \"Classify \xff\xfe one word\"}";
    let routed = config.route(&head, Some(body));
    assert_eq!(routed.decision.body, tier_router_core::BodyStatus::NotJson);
    assert_eq!(routed.new_body, None);
}
