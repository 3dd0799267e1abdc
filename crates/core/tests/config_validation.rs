//! Every configuration error names the field and says how to fix it; `on_configure` returns
//! false on exactly these (it calls the same `Config::from_json`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{compile, minimal};
use serde_json::json;
use tier_router_core::config::FilterStateLayout;

/// Applies `edit` to the minimal config and returns the error (field, message).
fn error_after(edit: impl FnOnce(&mut serde_json::Value)) -> (String, String) {
    let mut config = minimal();
    edit(&mut config);
    let err = compile(&config).expect_err("config should be rejected");
    (err.field, err.message)
}

#[test]
fn minimal_and_default_configs_are_valid() {
    let config = compile(&minimal()).unwrap();
    assert_eq!(config.tiers.len(), 2);
    let default = common::default_config();
    let names: Vec<&str> = default.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["label", "chat", "analysis"]);
    assert_eq!(default.model(default.fallback_model).name, "general-mini");
}

#[test]
fn unknown_field_is_named() {
    let (field, message) = error_after(|c| c["tiers"][1]["cuez"] = json!({}));
    assert_eq!(field, "tiers[1].cuez");
    assert!(
        message.contains("unknown field `cuez`, expected one of"),
        "{message}"
    );
    let (field, message) = error_after(|c| c["fallback_modle"] = json!("mini"));
    assert_eq!(field, "fallback_modle");
    assert!(
        message.contains("unknown field `fallback_modle`"),
        "{message}"
    );
}

#[test]
fn task_naming_a_missing_tier() {
    let (field, message) = error_after(|c| c["tasks"]["summarize"] = json!("summary"));
    assert_eq!(field, "tasks.summarize");
    assert!(
        message.contains("tier `summary` is not defined; use one of `label`, `analysis`"),
        "{message}"
    );
}

#[test]
fn path_naming_a_missing_tier_or_not_a_path() {
    let (field, message) = error_after(|c| c["paths"]["/api/chat"] = json!("chat"));
    assert_eq!(field, "paths./api/chat");
    assert!(message.contains("tier `chat` is not defined"), "{message}");
    let (field, message) = error_after(|c| c["paths"]["api/x"] = json!("label"));
    assert_eq!(field, "paths.api/x");
    assert!(
        message.contains("write it like `/api/classify`"),
        "{message}"
    );
}

#[test]
fn model_without_cluster() {
    let (field, message) = error_after(|c| {
        c["models"][0].as_object_mut().unwrap().remove("cluster");
    });
    assert_eq!(field, "models[0]");
    assert!(message.contains("missing field `cluster`"), "{message}");
    let (field, message) = error_after(|c| c["models"][0]["cluster"] = json!(" "));
    assert_eq!(field, "models[0].cluster");
    assert!(message.contains("name the Envoy cluster"), "{message}");
}

#[test]
fn negative_price() {
    let (field, message) = error_after(|c| c["models"][1]["price_per_1m"]["output"] = json!(-1.0));
    assert_eq!(field, "models[1].price_per_1m.output");
    assert!(message.contains(">= 0"), "{message}");
}

#[test]
fn missing_or_unknown_fallback() {
    let (field, message) = error_after(|c| {
        c.as_object_mut().unwrap().remove("fallback_model");
    });
    assert_eq!(field, ".");
    assert!(
        message.contains("missing field `fallback_model`"),
        "{message}"
    );
    let (field, message) = error_after(|c| c["fallback_model"] = json!("nope"));
    assert_eq!(field, "fallback_model");
    assert!(message.contains("model `nope` is not defined"), "{message}");
}

#[test]
fn duplicate_names() {
    let (field, message) = error_after(|c| c["models"][2]["name"] = json!("small"));
    assert_eq!(field, "models[2].name");
    assert!(message.contains("defined twice"), "{message}");
    let (field, message) = error_after(|c| c["tiers"][1]["name"] = json!("label"));
    assert_eq!(field, "tiers[1].name");
    assert!(message.contains("defined twice"), "{message}");
    let (field, message) = error_after(|c| c["tasks"]["label"] = json!("analysis"));
    assert_eq!(field, "tasks.label");
    assert!(message.contains("already a tier name"), "{message}");
}

#[test]
fn duplicate_json_keys_are_rejected() {
    let text = minimal().to_string().replace(
        r#""tasks":{"classify":"label"}"#,
        r#""tasks":{"classify":"label","classify":"analysis"}"#,
    );
    let err = tier_router_core::Config::from_json(text.as_bytes()).unwrap_err();
    assert_eq!(err.field, "tasks.classify");
    assert!(
        err.message.contains("duplicate key `classify`"),
        "{}",
        err.message
    );
}

#[test]
fn tier_model_must_exist_and_tier_needs_models() {
    let (field, message) = error_after(|c| c["tiers"][0]["models"] = json!(["small", "huge"]));
    assert_eq!(field, "tiers[0].models[1]");
    assert!(
        message.contains("model `huge` is not defined; add it to `models`"),
        "{message}"
    );
    let (field, _) = error_after(|c| c["tiers"][0]["models"] = json!([]));
    assert_eq!(field, "tiers[0].models");
}

#[test]
fn reserved_and_malformed_tier_names() {
    let (field, message) = error_after(|c| c["tiers"][0]["name"] = json!("fallback"));
    assert_eq!(field, "tiers[0].name");
    assert!(message.contains("reserved"), "{message}");
    let (_, message) = error_after(|c| c["tiers"][0]["name"] = json!("Label Tier"));
    assert!(message.contains("not a valid tier name"), "{message}");
}

#[test]
fn signal_naming_a_missing_tier() {
    let (field, message) = error_after(|c| {
        c["classifier"] = json!({"signals": {"multi_turn": {"tier": "chat", "weight": 1}}})
    });
    assert_eq!(field, "classifier.signals.multi_turn.tier");
    assert!(message.contains("tier `chat` is not defined"), "{message}");
}

#[test]
fn bad_numbers_and_headers() {
    let (field, _) = error_after(|c| c["classifier"] = json!({"scan_bytes": 1}));
    assert_eq!(field, "classifier.scan_bytes");
    let (field, _) = error_after(|c| c["classifier"] = json!({"min_margin": -1}));
    assert_eq!(field, "classifier.min_margin");
    let (field, _) = error_after(|c| c["max_body_bytes"] = json!(0));
    assert_eq!(field, "max_body_bytes");
    let (field, message) = error_after(|c| c["headers"] = json!({"task": "X-Task"}));
    assert_eq!(field, "headers.task");
    assert!(message.contains("lowercase"), "{message}");
    let (field, _) = error_after(|c| c["headers"] = json!({"task": "x-a", "cluster": "x-a"}));
    assert_eq!(field, "headers.cluster");
}

#[test]
fn duplicate_cue_ignoring_case() {
    let (field, message) =
        error_after(|c| c["tiers"][0]["cues"] = json!({"One Word": 1, "one word": 2}));
    assert_eq!(field, "tiers[0].cues.one word");
    assert!(message.contains("listed twice"), "{message}");
}

#[test]
fn empty_and_malformed_documents() {
    let err = tier_router_core::Config::from_json(b"  ").unwrap_err();
    assert!(
        err.message.contains("configuration is empty"),
        "{}",
        err.message
    );
    let err = tier_router_core::Config::from_json(b"{\"models\": [").unwrap_err();
    assert!(
        err.to_string().starts_with("invalid tier-router config"),
        "{err}"
    );
    let err = tier_router_core::Config::from_json(br#"{"models": 3}"#).unwrap_err();
    assert_eq!(err.field, "models");
}

#[test]
fn error_display_names_field_and_fix() {
    let mut config = minimal();
    config["tasks"]["x"] = json!("nope");
    let text = compile(&config).unwrap_err().to_string();
    assert_eq!(text, "invalid tier-router config at `tasks.x`: tier `nope` is not defined; use one of `label`, `analysis`");
}

#[test]
fn filter_state_layout_is_record_or_fields() {
    assert_eq!(
        compile(&minimal()).unwrap().filter_state,
        FilterStateLayout::Fields
    );
    let mut raw = minimal();
    raw["filter_state"] = json!("record");
    assert_eq!(
        compile(&raw).unwrap().filter_state,
        FilterStateLayout::Record
    );
    let (field, message) = error_after(|c| c["filter_state"] = json!("per_key"));
    assert_eq!(field, "filter_state");
    assert!(
        message.contains("unknown variant `per_key`, expected `fields` or `record`"),
        "{message}"
    );
}

/// Every number has an upper bound: one over it is rejected, naming the field, the range
/// and what the number means.
#[test]
fn numbers_over_their_bounds_are_named_with_the_range() {
    use tier_router_core::config::bounds;
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str, String); 18] = [
        (
            |c| c["max_body_bytes"] = json!(bounds::MAX_BODY_BYTES + 1),
            "max_body_bytes",
            format!("use 1 to {}", bounds::MAX_BODY_BYTES),
        ),
        (
            |c| c["sessions"] = json!({"ttl_seconds": 604_801}),
            "sessions.ttl_seconds",
            "use 1 to 604800".into(),
        ),
        (
            |c| c["sessions"] = json!({"max_sessions": 10_000_001}),
            "sessions.max_sessions",
            "use 4 to 10000000".into(),
        ),
        (
            |c| c["sessions"] = json!({"max_sessions": 3}),
            "sessions.max_sessions",
            "use 4 to 10000000".into(),
        ),
        (
            |c| c["classifier"] = json!({"scan_bytes": 1_048_577}),
            "classifier.scan_bytes",
            "use 64 to 1048576".into(),
        ),
        (
            |c| c["classifier"] = json!({"min_score": 1e7}),
            "classifier.min_score",
            "use 0 to 1000000".into(),
        ),
        (
            |c| c["classifier"] = json!({"min_margin": 1e7}),
            "classifier.min_margin",
            "use 0 to 1000000".into(),
        ),
        (
            |c| c["tiers"][0]["cues"] = json!({"one word": 1001}),
            "tiers[0].cues.one word",
            "use -1000 to 1000".into(),
        ),
        (
            |c| c["classifier"] = json!({"signals": {"small_max_tokens": {"tier": "label", "weight": 1, "at_most": 2_000_000}}}),
            "classifier.signals.small_max_tokens.at_most",
            "use 0 to 1000000".into(),
        ),
        (
            |c| c["classifier"] = json!({"signals": {"multi_turn": {"tier": "label", "weight": 1, "min_turns": 100_001}}}),
            "classifier.signals.multi_turn.min_turns",
            "use 0 to 100000".into(),
        ),
        (
            |c| {
                c["classifier"] =
                    json!({"signals": {"long_prompt": {"tier": "label", "weight": -1e4}}})
            },
            "classifier.signals.long_prompt.weight",
            "use -1000 to 1000".into(),
        ),
        (
            |c| c["models"][0]["price_per_1m"]["input"] = json!(10_001.0),
            "models[0].price_per_1m.input",
            "use 0 to 10000 (USD per 1M tokens".into(),
        ),
        (
            |c| c["tiers"][1]["expected_output_tokens"] = json!(1_000_001),
            "tiers[1].expected_output_tokens",
            "use 0 to 1000000".into(),
        ),
        (
            |c| c["tiers"][1]["token_floor"] = json!({"min": 1_000_001}),
            "tiers[1].token_floor.min",
            "use 1 to 1000000".into(),
        ),
        (
            |c| c["tiers"][1]["token_floor"] = json!({"min": 0}),
            "tiers[1].token_floor.min",
            "use 1 to 1000000".into(),
        ),
        (
            |c| c["rollout"] = json!({"canary_percent": 100.5}),
            "rollout.canary_percent",
            "use 0 to 100".into(),
        ),
        (
            |c| c["policies"] = json!({"unhealthy_seconds": 3601}),
            "policies.unhealthy_seconds",
            "use 0 to 3600".into(),
        ),
        (
            |c| c["policies"] = json!({"ttft_min_samples": 1_000_001}),
            "policies.ttft_min_samples",
            "use 0 to 1000000".into(),
        ),
    ];
    for (edit, expected_field, range) in cases {
        let (field, message) = error_after(edit);
        assert_eq!(field, expected_field, "{message}");
        assert!(message.contains("is out of range"), "{field}: {message}");
        assert!(message.contains(&range), "{field}: {message}");
    }
    // A weighted tier's percentages are bounded too.
    let (field, message) = error_after(|c| {
        c["tiers"][0]["models"] = json!(["small", "mini"]);
        c["tiers"][0]["policy"] = json!("weighted");
        c["tiers"][0]["weights"] = json!({"small": 150, "mini": 1});
    });
    assert_eq!(field, "tiers[0].weights.small");
    assert!(message.contains("use 0 to 100"), "{message}");
}

/// Each bound itself is accepted: the check is `<=`, not `<`.
#[test]
fn numbers_at_their_bounds_are_accepted() {
    use tier_router_core::config::bounds;
    let mut config = minimal();
    config["max_body_bytes"] = json!(bounds::MAX_BODY_BYTES);
    config["sessions"] = json!({"ttl_seconds": bounds::MAX_SESSION_TTL_SECONDS, "max_sessions": bounds::MAX_SESSIONS});
    config["policies"] = json!({"unhealthy_seconds": bounds::MAX_UNHEALTHY_SECONDS});
    config["tiers"][1]["token_floor"] = json!({"min": bounds::MAX_TOKENS});
    config["tiers"][1]["expected_output_tokens"] = json!(bounds::MAX_TOKENS);
    config["models"][0]["price_per_1m"]["output"] = json!(bounds::MAX_PRICE);
    let config = compile(&config).unwrap();
    assert_eq!(config.max_body_bytes, bounds::MAX_BODY_BYTES);
}

#[test]
fn hash_keys_are_32_hex_digits() {
    let config = compile(&minimal()).unwrap();
    assert!(!config.hash_keys.route_configured && !config.hash_keys.pins_configured);
    let mut raw = minimal();
    raw["hash_key"] = json!("000102030405060708090a0b0c0d0e0f");
    raw["sessions"] = json!({"hash_key": "ffeeddccbbaa99887766554433221100"});
    let config = compile(&raw).unwrap();
    assert!(config.hash_keys.route_configured && config.hash_keys.pins_configured);
    assert_ne!(config.hash_keys.route, config.hash_keys.pins);
    let (field, message) = error_after(|c| c["hash_key"] = json!("secret"));
    assert_eq!(field, "hash_key");
    assert!(message.contains("32 hex digits"), "{message}");
    assert!(message.contains("openssl rand -hex 16"), "{message}");
    let (field, _) = error_after(|c| c["sessions"] = json!({"hash_key": "00"}));
    assert_eq!(field, "sessions.hash_key");
}
