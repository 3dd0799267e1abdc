//! Anthropic prompt-cache writes: their prices in the config (defaults, bounds), the 5-minute
//! and 1-hour counts in Anthropic's usage, and what they cost.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{compile, minimal};
use serde_json::json;
use tier_router_core::config::Price;
use tier_router_core::cost::micro_usd;
use tier_router_core::usage::{Usage, UsageScanner};

fn price_of(price: serde_json::Value) -> Price {
    let mut config = minimal();
    config["models"][1]["price_per_1m"] = price;
    compile(&config).unwrap().models[1].price.unwrap()
}

#[test]
fn absent_write_prices_fall_back_to_input_then_to_the_5m_price() {
    // As before cache writes had a price: a config that names none bills them at `input`.
    let p = price_of(json!({"input": 3.0, "output": 15.0}));
    assert_eq!((p.cache_write, p.cache_write_1h), (3.0, 3.0));
    let p = price_of(json!({"input": 3.0, "cache_write": 3.75, "output": 15.0}));
    assert_eq!((p.cache_write, p.cache_write_1h), (3.75, 3.75));
    let p =
        price_of(json!({"input": 3.0, "cache_write": 3.75, "cache_write_1h": 6.0, "output": 15.0}));
    assert_eq!(
        (p.cached_input, p.cache_write, p.cache_write_1h),
        (3.0, 3.75, 6.0)
    );
}

#[test]
fn write_prices_out_of_range_name_the_field() {
    for (field, value) in [("cache_write", -0.5), ("cache_write_1h", 10_000.5)] {
        let mut config = minimal();
        config["models"][1]["price_per_1m"][field] = json!(value);
        let err = compile(&config).expect_err("rejected");
        assert_eq!(err.field, format!("models[1].price_per_1m.{field}"));
        assert!(
            err.message
                .contains("out of range; use 0 to 10000 (USD per 1M tokens"),
            "{}",
            err.message
        );
    }
    // A misspelt price is refused, not ignored.
    let mut config = minimal();
    config["models"][1]["price_per_1m"]["cache_writes"] = json!(3.75);
    let err = compile(&config).expect_err("rejected");
    assert!(
        err.message.contains("unknown field `cache_writes`"),
        "{}",
        err.message
    );
}

#[test]
fn shipped_anthropic_models_price_cache_writes_as_anthropic_bills_them() {
    let config = common::default_config();
    let mut anthropic = 0;
    for m in &config.models {
        let Some(p) = m.price else { continue };
        if m.profile
            .apis
            .contains(tier_router_core::api::ApiShape::AnthropicMessages)
        {
            anthropic += 1;
            assert_eq!(p.cache_write, p.input * 1.25, "{}", m.name);
            assert_eq!(p.cache_write_1h, p.input * 2.0, "{}", m.name);
        }
    }
    assert!(anthropic > 0);
}

/// Usage from an Anthropic body, split at every byte, normalised.
fn usage_of(body: &str) -> Usage {
    let bytes = body.as_bytes();
    let mut whole = UsageScanner::new();
    whole.feed(bytes);
    let usage = whole.usage().unwrap().normalize().unwrap();
    for cut in 0..=bytes.len() {
        let mut split = UsageScanner::new();
        split.feed(&bytes[..cut]);
        split.feed(&bytes[cut..]);
        assert_eq!(
            split.usage().unwrap().normalize().unwrap(),
            usage,
            "cut at {cut}"
        );
    }
    usage
}

#[test]
fn anthropic_writes_by_lifetime_are_read_and_billed() {
    let body = r#"{"type":"message","usage":{"input_tokens":20,"cache_creation_input_tokens":1500,
        "cache_read_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":1000,
        "ephemeral_1h_input_tokens":500},"output_tokens":40,"service_tier":"standard"}}"#;
    let usage = usage_of(body);
    assert_eq!((usage.input_tokens, usage.cached_input_tokens), (1820, 300));
    assert_eq!(
        (usage.cache_creation_tokens, usage.cache_creation_1h_tokens),
        (1500, 500)
    );
    let price = price_of(
        json!({"input": 3.0, "cached_input": 0.3, "cache_write": 3.75,
        "cache_write_1h": 6.0, "output": 15.0}),
    );
    // 20 × 3 + 300 × 0.3 + 1000 × 3.75 + 500 × 6 + 40 × 15 = 60 + 90 + 3750 + 3000 + 600
    assert_eq!(micro_usd(&price, &usage), 7500);
    // Without write prices, as before: 1520 × 3 + 300 × 0.3 + 40 × 15.
    let old = price_of(json!({"input": 3.0, "cached_input": 0.3, "output": 15.0}));
    assert_eq!(micro_usd(&old, &usage), 5250);
}

#[test]
fn a_stream_carries_the_lifetimes_in_message_start() {
    // message_delta repeats the counts without the breakdown; the breakdown stays.
    let body = "event: message_start\n\
        data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":2000,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":2000},\"output_tokens\":1}}}\n\n\
        event: message_delta\n\
        data: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":2000,\"output_tokens\":9}}\n\n";
    let usage = usage_of(body);
    assert_eq!(
        (
            usage.cache_creation_tokens,
            usage.cache_creation_1h_tokens,
            usage.output_tokens
        ),
        (2000, 2000, 9)
    );
}

#[test]
fn other_apis_have_no_cache_writes() {
    let usage = usage_of(
        r#"{"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":60}}}"#,
    );
    assert_eq!(
        (usage.cache_creation_tokens, usage.cache_creation_1h_tokens),
        (0, 0)
    );
}
