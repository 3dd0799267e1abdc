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
