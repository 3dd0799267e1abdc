//! Cost, counterfactual cost, timing and the log fields of a finished call, and the
//! `stream_options` the router adds so streamed calls report usage.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::default_config;
use serde_json::json;
use std::collections::HashMap;

use tier_router_core::account::{record_json, Reply, Timing, STATUS_CLASSES};
use tier_router_core::usage::{Usage, UsageScanner, UsageSource};
use tier_router_core::RequestHead;

fn route_label(
    body: &serde_json::Value,
    path: &str,
) -> (tier_router_core::Config, tier_router_core::Routed) {
    let config = default_config();
    let routed = config.route(
        &RequestHead {
            path,
            task: Some("classify"),
            session: None,
            request_id: None,
            ..RequestHead::default()
        },
        Some(body.to_string().as_bytes()),
    );
    (config, routed)
}

#[test]
fn reported_usage_is_priced_on_the_model_and_the_baseline() {
    let (config, routed) = route_label(
        &json!({"messages": [{"role": "user", "content": "hi"}]}),
        "/v1/chat/completions",
    );
    let mut response = UsageScanner::new();
    response.feed(br#"{"usage":{"prompt_tokens":1000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":400}}}"#);
    let timing = Timing {
        start_ns: 1_000_000_000,
        first_byte_ns: Some(1_020_000_000),
        first_token_ns: Some(1_045_000_000),
        end_ns: Some(1_150_500_000),
    };
    let account = config.account(&routed.decision, &response, timing, Reply::upstream(200));
    assert_eq!(account.usage_source, UsageSource::Reported);
    // small-instruct: 600 × 0.10 + 400 × 0.025 + 200 × 0.30 = 60 + 10 + 60 micro-USD.
    assert_eq!(account.cost_micro_usd, Some(130));
    // frontier-chat baseline: 600 × 3 + 400 × 0.30 + 200 × 15 = 1800 + 120 + 3000.
    assert_eq!(account.baseline_micro_usd, Some(4920));
    let fields: std::collections::HashMap<_, _> = config.log_fields(&account).into_iter().collect();
    assert_eq!(fields["gen_ai.usage.input_tokens"], "1000");
    assert_eq!(fields["gen_ai.usage.cache_read.input_tokens"], "400");
    assert_eq!(fields["tier_router.cost_usd"], "0.000130");
    assert_eq!(fields["tier_router.baseline_cost_usd"], "0.004920");
    assert_eq!(fields["tier_router.ttft_ms"], "45.000");
    assert_eq!(fields["tier_router.ttfb_ms"], "20.000");
    assert_eq!(fields["tier_router.latency_ms"], "150.500");
    assert_eq!(fields["tier_router.usage_source"], "reported");
    assert_eq!(fields["tier_router.upstream_status"], "200");
}

#[test]
fn a_2xx_answer_without_usage_is_estimated_and_priced() {
    let prompt = "x".repeat(400);
    let (config, routed) = route_label(
        &json!({"messages": [{"role": "user", "content": prompt}]}),
        "/v1/chat/completions",
    );
    let mut response = UsageScanner::new();
    response.feed(&[b'a'; 80]);
    let account = config.account(
        &routed.decision,
        &response,
        Timing::default(),
        Reply::upstream(200),
    );
    assert_eq!(account.usage_source, UsageSource::Estimated);
    assert_eq!(
        (account.usage.input_tokens, account.usage.output_tokens),
        (100, 20)
    );
    // small-instruct: 100 × 0.10 + 20 × 0.30 micro-USD.
    assert_eq!(account.cost_micro_usd, Some(16));
    let fields = fields_of(&config, &account);
    assert_eq!(fields["tier_router.usage_source"], "estimated");
    assert!(
        !fields.contains_key("tier_router.ttft_ms"),
        "no first byte, no TTFT"
    );
}

fn fields_of(
    config: &tier_router_core::Config,
    account: &tier_router_core::account::Account,
) -> HashMap<&'static str, String> {
    config.log_fields(account).into_iter().collect()
}

/// An account of a 400-byte prompt whose response had a first byte 5 ms in and `body`.
fn account_of(
    reply: Reply,
    body: &[u8],
) -> (
    tier_router_core::account::Account,
    HashMap<&'static str, String>,
) {
    let (config, routed) = route_label(
        &json!({"messages": [{"role": "user", "content": "x".repeat(400)}]}),
        "/v1/chat/completions",
    );
    let mut response = UsageScanner::new();
    response.feed(body);
    let timing = Timing {
        start_ns: 0,
        first_byte_ns: Some(5_000_000),
        first_token_ns: Some(5_000_000),
        end_ns: Some(6_000_000),
    };
    let account = config.account(&routed.decision, &response, timing, reply);
    let fields = fields_of(&config, &account);
    (account, fields)
}

fn assert_unbilled(account: &tier_router_core::account::Account, fields: &HashMap<&str, String>) {
    assert_eq!(account.usage_source, UsageSource::None);
    assert_eq!(account.usage, Usage::default());
    assert_eq!(account.cost_micro_usd, Some(0));
    assert_eq!(
        account.baseline_micro_usd,
        Some(0),
        "no phantom savings either"
    );
    assert_eq!(fields["tier_router.usage_source"], "none");
    assert_eq!(fields["tier_router.cost_usd"], "0.000000");
    assert_eq!(fields["tier_router.baseline_cost_usd"], "0.000000");
    assert_eq!(fields["gen_ai.usage.input_tokens"], "0");
}

#[test]
fn upstream_errors_without_usage_cost_nothing() {
    let error = br#"{"error":{"message":"rate limited","type":"rate_limit"}}"#;
    for status in [429, 500, 503, 400] {
        let (account, fields) = account_of(Reply::upstream(status), error);
        assert_unbilled(&account, &fields);
        // The upstream did answer: its status and TTFT are its own.
        assert_eq!(fields["tier_router.upstream_status"], status.to_string());
        assert_eq!(fields["tier_router.ttft_ms"], "5.000");
    }
}

#[test]
fn envoys_own_replies_cost_nothing_and_have_no_ttft_or_upstream_status() {
    // A refused connection, no healthy upstream, a timeout, a filter's local reply.
    for status in [503, 504, 413, 200] {
        let (account, fields) = account_of(Reply::local(status), b"no healthy upstream");
        assert_unbilled(&account, &fields);
        assert_eq!(account.timing.ttft_us(), None);
        assert!(!fields.contains_key("tier_router.ttft_ms"), "{status}");
        assert!(!fields.contains_key("tier_router.ttfb_ms"), "{status}");
        assert!(
            !fields.contains_key("tier_router.upstream_status"),
            "{status}"
        );
        assert_eq!(
            fields["tier_router.latency_ms"], "6.000",
            "the client still waited"
        );
    }
    // A usage object in a local reply's body is not the upstream's report.
    let (account, _) = account_of(
        Reply::local(503),
        br#"{"usage":{"prompt_tokens":10,"completion_tokens":5}}"#,
    );
    assert_eq!(account.usage_source, UsageSource::None);
}

#[test]
fn no_response_at_all_costs_nothing() {
    let (account, fields) = account_of(Reply::default(), b"");
    assert_unbilled(&account, &fields);
    assert_eq!(account.reply.status_class(), "none");
}

#[test]
fn envoys_own_replies_cost_the_same_unread() {
    // The filter does not copy a local reply's body into the VM: read or not, its account
    // is the same, even with a usage object in it.
    let usage = br#"{"usage":{"prompt_tokens":1000,"completion_tokens":200}}"#.as_slice();
    for reply in [Reply::local(503), Reply::local(200), Reply::default()] {
        assert!(!reply.body_may_count(), "{reply:?}");
        for body in [b"no healthy upstream".as_slice(), usage] {
            assert_eq!(account_of(reply, body), account_of(reply, b""), "{reply:?}");
        }
    }
    // An upstream's answer is read, whatever its status: usage reported on an error counts.
    for reply in [Reply::upstream(200), Reply::upstream(500)] {
        assert!(reply.body_may_count(), "{reply:?}");
        assert_ne!(
            account_of(reply, usage).0,
            account_of(reply, b"").0,
            "{reply:?}"
        );
    }
}

#[test]
fn usage_the_upstream_reported_is_billed_whatever_the_status() {
    // A stream that failed after the model worked: the provider bills what it reported.
    let (account, fields) = account_of(
        Reply::upstream(500),
        br#"{"usage":{"prompt_tokens":1000,"completion_tokens":200}}"#,
    );
    assert_eq!(account.usage_source, UsageSource::Reported);
    assert_eq!(account.cost_micro_usd, Some(160));
    assert_eq!(fields["tier_router.usage_source"], "reported");
}

#[test]
fn status_classes_label_what_the_client_got() {
    let class = |reply: Reply| reply.status_class();
    assert_eq!(class(Reply::upstream(200)), "2xx");
    assert_eq!(class(Reply::upstream(429)), "4xx");
    assert_eq!(class(Reply::local(503)), "5xx");
    assert_eq!(class(Reply::default()), "none");
    for c in ["2xx", "4xx", "5xx", "none"] {
        assert!(STATUS_CLASSES.contains(&c));
    }
}

#[test]
fn streaming_chat_gets_include_usage() {
    let body =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (_, routed) = route_label(&body, "/v1/chat/completions");
    let sent: serde_json::Value = serde_json::from_slice(&routed.new_body.unwrap()).unwrap();
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent["model"], "small-instruct");
}

#[test]
fn client_stream_options_are_kept_and_completed() {
    let body = r#"{"model":"small-instruct","stream":true,"stream_options":{"x":1},"messages":[]}"#;
    let config = default_config();
    let head = RequestHead {
        path: "/v1/chat/completions",
        task: Some("classify"),
        session: None,
        request_id: None,
        ..RequestHead::default()
    };
    let routed = config.route(&head, Some(body.as_bytes()));
    assert_eq!(
        String::from_utf8(routed.new_body.unwrap()).unwrap(),
        r#"{"model":"small-instruct","stream":true,"stream_options":{"include_usage":true,"x":1},"messages":[]}"#
    );
    // The client's explicit choice, either way, is left alone.
    let body =
        r#"{"model":"small-instruct","stream":true,"stream_options":{"include_usage":false}}"#;
    assert_eq!(config.route(&head, Some(body.as_bytes())).new_body, None);
}

#[test]
fn only_openai_completion_paths_get_stream_options() {
    let body = json!({"model": "m", "stream": true, "messages": []});
    for path in ["/v1/messages", "/v1/responses"] {
        let (_, routed) = route_label(&body, path);
        let sent: serde_json::Value = serde_json::from_slice(&routed.new_body.unwrap()).unwrap();
        assert!(sent.get("stream_options").is_none(), "{path}");
    }
    let (_, routed) = route_label(
        &json!({"model": "m", "stream": false, "messages": []}),
        "/v1/chat/completions",
    );
    let sent: serde_json::Value = serde_json::from_slice(&routed.new_body.unwrap()).unwrap();
    assert!(sent.get("stream_options").is_none());
}

#[test]
fn stream_usage_can_be_turned_off() {
    let mut config = common::minimal();
    config["request_stream_usage"] = json!(false);
    let config = common::compile(&config).unwrap();
    let body = br#"{"model":"small","stream":true}"#;
    let routed = config.route(
        &RequestHead {
            path: "/v1/chat/completions",
            task: Some("classify"),
            session: None,
            request_id: None,
            ..RequestHead::default()
        },
        Some(body),
    );
    assert_eq!(routed.new_body, None);
}

#[test]
fn the_log_record_is_one_json_object_of_every_field() {
    let (config, routed) = route_label(
        &json!({"messages": [{"role": "user", "content": "Reply with one word: the sentiment of 'great'"}]}),
        "/v1/chat/completions",
    );
    let mut response = UsageScanner::new();
    response.feed(br#"{"usage":{"prompt_tokens":12,"completion_tokens":1}}"#);
    let account = config.account(
        &routed.decision,
        &response,
        Timing::default(),
        Reply::upstream(200),
    );
    let fields = config.log_record(&routed.decision, &account);
    let expected: Vec<(&str, String)> = config
        .decision_fields(&routed.decision)
        .into_iter()
        .chain(config.log_fields(&account))
        .collect();
    assert_eq!(fields, expected);
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&record_json(&fields)).unwrap();
    assert_eq!(parsed.len(), fields.len(), "every field, once");
    for (key, value) in &fields {
        assert_eq!(
            parsed[*key],
            serde_json::Value::String(value.clone()),
            "{key}"
        );
    }
    assert_eq!(parsed["tier_router.tier"], "label");
}

#[test]
fn record_json_escapes_what_json_must() {
    let awkward = "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} é 模型 🚀";
    let fields = vec![
        ("tier_router.matched_cues", awkward.to_string()),
        ("k\"ey", String::new()),
    ];
    let text = record_json(&fields);
    assert!(!text.contains('\n') && !text.contains('\u{7}'), "{text}");
    let parsed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["tier_router.matched_cues"], awkward);
    assert_eq!(parsed["k\"ey"], "");
    assert_eq!(record_json(&[]), "{}");
}
