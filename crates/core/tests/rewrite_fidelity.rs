//! The upstream body differs from the client's only in `model`: every other byte survives.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::default_config;
use tier_router_core::{BodyStatus, RequestHead};

const HEAD: RequestHead<'static> = RequestHead {
    path: "/v1/chat/completions",
    task: Some("classify"),
    session: None,
    request_id: None,
    caller: tier_router_core::trust::Caller::UNKNOWN,
};

/// The body with the first `"model": <value>` replaced by `"model":"<model>"`.
fn expected(body: &str, old_value: &str, model: &str) -> String {
    body.replacen(old_value, &format!("\"{model}\""), 1)
}

#[test]
fn only_the_model_changes() {
    let body = r#" { "model" : "gpt-client",
  "messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"q\" \/ tab\t"}],
  "big": 12345678901234567890, "price": 0.10, "huge": 1e400, "neg": -0.0,
  "nested": {"a": [1, 2.50, {"b": null}], "unknown_field": true}, "tail":"x"
}
"#;
    let config = default_config();
    let routed = config.route(&HEAD, Some(body.as_bytes()));
    let new_body = String::from_utf8(routed.new_body.unwrap()).unwrap();
    assert_eq!(
        new_body,
        expected(body, r#""gpt-client""#, "small-instruct")
    );
    assert_eq!(routed.decision.body, BodyStatus::Json);
}

#[test]
fn model_is_added_when_absent() {
    let config = default_config();
    let routed = config.route(&HEAD, Some(br#"{"messages":[]}"#));
    assert_eq!(
        routed.new_body.unwrap(),
        br#"{"model":"small-instruct","messages":[]}"#
    );
    let routed = config.route(&HEAD, Some(b"{ }"));
    assert_eq!(routed.new_body.unwrap(), br#"{"model":"small-instruct" }"#);
}

#[test]
fn body_already_naming_the_model_is_not_copied() {
    let config = default_config();
    let routed = config.route(&HEAD, Some(br#"{"model":"small-instruct","messages":[]}"#));
    assert_eq!(routed.new_body, None);
}

#[test]
fn every_duplicate_model_key_is_rewritten() {
    let config = default_config();
    let routed = config.route(&HEAD, Some(br#"{"model":"a","x":1,"model":"b"}"#));
    assert_eq!(
        routed.new_body.unwrap(),
        br#"{"model":"small-instruct","x":1,"model":"small-instruct"}"#
    );
}

#[test]
fn nested_model_fields_are_not_touched() {
    let config = default_config();
    let body = br#"{"metadata":{"model":"keep"},"model":"m","messages":[{"role":"user","content":"model"}]}"#;
    let routed = config.route(&HEAD, Some(body));
    assert_eq!(
        routed.new_body.unwrap(),
        br#"{"metadata":{"model":"keep"},"model":"small-instruct","messages":[{"role":"user","content":"model"}]}"#
    );
}

#[test]
fn non_json_and_empty_bodies_pass_untouched_to_the_fallback() {
    let config = default_config();
    let head = RequestHead {
        path: "/v1/chat/completions",
        task: None,
        session: None,
        request_id: None,
        ..RequestHead::default()
    };
    for body in [
        &b"not json at all"[..],
        b"[1,2,3]",
        b"{\"model\":",
        b"\xff\xfe\xfd",
    ] {
        let routed = config.route(&head, Some(body));
        assert_eq!(routed.new_body, None);
        assert_eq!(routed.decision.body, BodyStatus::NotJson);
        assert_eq!(config.tier_name(&routed.decision), "fallback");
    }
    let routed = config.route(&head, Some(b""));
    assert_eq!(
        (routed.new_body, routed.decision.body),
        (None, BodyStatus::Absent)
    );
}

#[test]
fn explicit_task_on_a_non_json_body_routes_without_rewriting() {
    let config = default_config();
    let routed = config.route(&HEAD, Some(b"plain text"));
    assert_eq!(routed.new_body, None);
    assert_eq!(config.tier_name(&routed.decision), "label");
}

#[test]
fn model_names_are_escaped() {
    let mut config = common::minimal();
    config["models"][0]["name"] = serde_json::json!("we\"ird\\name");
    config["tiers"][0]["models"] = serde_json::json!(["we\"ird\\name"]);
    let config = common::compile(&config).unwrap();
    let routed = config.route(
        &RequestHead {
            path: "/",
            task: Some("label"),
            session: None,
            request_id: None,
            ..RequestHead::default()
        },
        Some(br#"{"model":"x"}"#),
    );
    let body = routed.new_body.unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed["model"], "we\"ird\\name");
}
