//! Shared helpers for the native tests: the default config and a small valid one to mutate.
#![allow(dead_code, clippy::unwrap_used)]

use serde_json::{json, Value};
use tier_router_core::{Config, ConfigError};

pub fn default_config() -> Config {
    let json = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../envoy/tier-router.json"
    ))
    .unwrap();
    Config::from_json(&json).unwrap()
}

/// The default config with the learned model off: the cue classifier alone.
pub fn cues_only_config() -> Config {
    let json = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../envoy/tier-router.json"
    ))
    .unwrap();
    let mut value: Value = serde_json::from_slice(&json).unwrap();
    value["classifier"]["model"] = json!({"enabled": false});
    compile(&value).unwrap()
}

/// A minimal valid config, as a JSON value tests can break one field at a time.
pub fn minimal() -> Value {
    json!({
        "fallback_model": "mini",
        "models": [
            {"name": "small", "cluster": "c_small", "price_per_1m": {"input": 0.1, "output": 0.3}},
            {"name": "big", "cluster": "c_big", "price_per_1m": {"input": 3.0, "cached_input": 0.3, "output": 15.0}},
            {"name": "mini", "cluster": "c_mini"}
        ],
        "tiers": [
            {"name": "label", "models": ["small"], "cues": {"one word": 3}},
            {"name": "analysis", "models": ["big"], "cues": {"step by step": 3}}
        ],
        "tasks": {"classify": "label"},
        "paths": {"/api/classify": "label"}
    })
}

pub fn compile(value: &Value) -> Result<Config, ConfigError> {
    Config::from_json(value.to_string().as_bytes())
}

/// A Chat Completions body with one user message.
pub fn chat(text: &str) -> Vec<u8> {
    json!({"model": "client-model", "messages": [{"role": "user", "content": text}]})
        .to_string()
        .into_bytes()
}
