//! Model profiles: a request goes only to a model that serves its API shape (else to a
//! compatible fallback, and the decision says which), and the body is adapted to the model it
//! is sent to: the completion-cap field it takes, the parameters it refuses. Each adaptation is
//! an owned edit in the log (`tier_router.edits`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{compile, default_config, minimal};
use serde_json::{json, Value};
use tier_router_core::adapt::ShapeFallback;
use tier_router_core::names::state;
use tier_router_core::{Config, Decision, RequestHead};

fn head<'a>(path: &'a str, task: Option<&'a str>) -> RequestHead<'a> {
    RequestHead {
        path,
        task,
        session: None,
        request_id: None,
        ..RequestHead::default()
    }
}

/// (upstream body as JSON, decision) of `body` sent to `path` with task `task`.
fn route(config: &Config, path: &str, task: Option<&str>, body: &Value) -> (Value, Decision) {
    let bytes = body.to_string().into_bytes();
    let routed = config.route(&head(path, task), Some(&bytes));
    let sent = routed
        .new_body
        .map_or_else(|| body.clone(), |b| serde_json::from_slice(&b).unwrap());
    (sent, routed.decision)
}

fn log_field(config: &Config, decision: &Decision, key: &str) -> Option<String> {
    config
        .decision_fields(decision)
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

#[test]
fn a_chat_request_to_the_reasoning_model_takes_its_cap_field_and_loses_refused_parameters() {
    let config = default_config();
    let body = json!({
        "model": "gpt-4o", "max_tokens": 100, "temperature": 0.2, "top_p": 0.9,
        "logprobs": true, "seed": 7,
        "messages": [{"role": "user", "content": "Prove it step by step."}]
    });
    let (sent, decision) = route(&config, "/v1/chat/completions", Some("analysis"), &body);
    assert_eq!(
        sent,
        json!({
            "model": "reasoning-large", "max_completion_tokens": 4096, "seed": 7,
            "messages": [{"role": "user", "content": "Prove it step by step."}]
        })
    );
    assert_eq!(
        log_field(&config, &decision, state::EDITS).as_deref(),
        Some("model,max_tokens->max_completion_tokens,drop:temperature,drop:top_p,drop:logprobs,floor")
    );
    assert_eq!(decision.shape_fallback, None);
}

#[test]
fn with_both_cap_fields_the_one_the_model_refuses_is_dropped() {
    let config = default_config();
    let body = json!({"model": "reasoning-large", "max_tokens": 10, "max_completion_tokens": 5000});
    let (sent, decision) = route(&config, "/v1/chat/completions", Some("analysis"), &body);
    assert_eq!(
        sent,
        json!({"model": "reasoning-large", "max_completion_tokens": 5000})
    );
    assert_eq!(config.edit_list(&decision), "drop:max_tokens");
    assert_eq!(decision.floor_applied, None);
}

#[test]
fn responses_requests_keep_their_one_cap_field_and_lose_refused_parameters() {
    let config = default_config();
    let body =
        json!({"model": "m", "max_output_tokens": 100, "temperature": 1, "input": "derive it"});
    let (sent, decision) = route(&config, "/v1/responses", Some("analysis"), &body);
    assert_eq!(
        sent,
        json!({"model": "reasoning-large", "max_output_tokens": 4096, "input": "derive it"})
    );
    assert_eq!(config.edit_list(&decision), "model,drop:temperature,floor");
}

#[test]
fn models_without_a_profile_get_the_body_as_sent() {
    let config = default_config();
    let body = json!({"model": "m", "max_tokens": 5, "temperature": 0.2, "top_p": 1});
    let (sent, decision) = route(&config, "/v1/chat/completions", Some("label"), &body);
    assert_eq!(
        sent,
        json!({"model": "small-instruct", "max_tokens": 5, "temperature": 0.2, "top_p": 1})
    );
    assert_eq!(config.edit_list(&decision), "model");
}

#[test]
fn an_anthropic_request_for_an_openai_only_tier_goes_to_the_fallback_model() {
    // The issue's case: `analysis` has only the OpenAI-shaped reasoning model.
    let config = default_config();
    let body = json!({
        "model": "claude-x", "max_tokens": 1024, "temperature": 0.5,
        "messages": [{"role": "user", "content": "Prove step by step that 2 + 2 = 4."}]
    });
    let (sent, decision) = route(&config, "/v1/messages", None, &body);
    assert_eq!(config.tier_name(&decision), "analysis");
    assert_eq!(config.model(decision.model).name, "general-mini");
    assert_eq!(decision.shape_fallback, Some(ShapeFallback::FallbackModel));
    assert_eq!(
        log_field(&config, &decision, state::SHAPE_FALLBACK).as_deref(),
        Some("fallback_model")
    );
    // The fallback model has no profile edits: `temperature` stays; the tier's floor applies.
    assert_eq!(sent["model"], "general-mini");
    assert_eq!(sent["temperature"], 0.5);
    assert_eq!(sent["max_tokens"], 4096);
    assert!(decision.is_served());
}

/// The minimal config with an Anthropic-only model `claude` in the `analysis` tier.
fn mixed() -> Value {
    let mut config = minimal();
    config["models"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "claude", "cluster": "c_claude", "profile": "anthropic"}));
    config["profiles"] = json!({"anthropic": {"apis": ["anthropic_messages"]}});
    config["tiers"][1]["models"] = json!(["big", "claude"]);
    config
}

#[test]
fn a_tier_policy_only_considers_models_serving_the_api() {
    let config = compile(&mixed()).unwrap();
    let body = json!({"messages": [{"role": "user", "content": "x"}]});
    let (sent, decision) = route(&config, "/v1/messages", Some("analysis"), &body);
    assert_eq!(sent["model"], "claude");
    let candidates: Vec<&str> = decision
        .candidates
        .iter()
        .map(|m| config.model(*m).name.as_str())
        .collect();
    assert_eq!(candidates, ["claude"]);
    assert_eq!(decision.shape_fallback, None);
    // The same tier on an OpenAI path keeps to the OpenAI model.
    let (sent, decision) = route(&config, "/v1/chat/completions", Some("analysis"), &body);
    assert_eq!(sent["model"], "big");
    assert_eq!(decision.candidates.len(), 1);
}

#[test]
fn without_a_compatible_fallback_model_the_first_compatible_model_serves() {
    // `label` has only `small` (OpenAI); the fallback `mini` is OpenAI too; `claude` serves it.
    let config = compile(&mixed()).unwrap();
    let body = json!({"messages": [{"role": "user", "content": "x"}]});
    let (sent, decision) = route(&config, "/v1/messages", Some("label"), &body);
    assert_eq!(sent["model"], "claude");
    assert_eq!(
        decision.shape_fallback,
        Some(ShapeFallback::FirstCompatible)
    );
    assert_eq!(config.tier_name(&decision), "label");
    // Unclassified requests too: the fallback model does not serve the API.
    let (sent, decision) = route(&config, "/v1/messages", None, &body);
    assert_eq!(
        (sent["model"].clone(), decision.shape_fallback),
        (json!("claude"), Some(ShapeFallback::FirstCompatible))
    );
}

#[test]
fn with_no_compatible_model_the_request_is_not_rewritten_or_routed() {
    let config = compile(&minimal()).unwrap();
    let body = br#"{"model":"claude-x","messages":[]}"#;
    let routed = config.route(&head("/v1/messages", Some("label")), Some(body));
    assert_eq!(routed.new_body, None);
    assert_eq!(
        routed.decision.shape_fallback,
        Some(ShapeFallback::NoneCompatible)
    );
    assert!(!routed.decision.is_served());
    assert_eq!(
        log_field(&config, &routed.decision, state::SHAPE_FALLBACK).as_deref(),
        Some("none")
    );
}

#[test]
fn paths_of_no_known_shape_are_not_filtered() {
    let config = compile(&mixed()).unwrap();
    let body = json!({"messages": []});
    let (sent, decision) = route(&config, "/api/classify", None, &body);
    assert_eq!(sent["model"], "small");
    assert_eq!(decision.shape_fallback, None);
}

#[test]
fn a_max_tokens_profile_renames_max_completion_tokens_and_the_floor_adds_max_tokens() {
    let mut config = minimal();
    config["profiles"] = json!({"legacy": {"completion_cap": "max_tokens"}});
    config["models"][1]["profile"] = json!("legacy");
    config["tiers"][1]["token_floor"] = json!({"min": 1000, "add_when_absent": true});
    let config = compile(&config).unwrap();
    let (sent, decision) = route(
        &config,
        "/v1/chat/completions",
        Some("analysis"),
        &json!({"max_completion_tokens": 10}),
    );
    assert_eq!(sent, json!({"model": "big", "max_tokens": 1000}));
    assert_eq!(
        config.edit_list(&decision),
        "model,max_completion_tokens->max_tokens,floor"
    );
    let (sent, _) = route(
        &config,
        "/v1/chat/completions",
        Some("analysis"),
        &json!({}),
    );
    assert_eq!(sent, json!({"model": "big", "max_tokens": 1000}));
}

#[test]
fn dropped_fields_go_with_exactly_one_comma_wherever_they_are() {
    let config = default_config();
    for body in [
        r#"{"temperature":1,"model":"m"}"#,
        r#"{"model":"m","temperature":1}"#,
        r#"{ "temperature" : 1 , "top_p":1, "model":"m" , "logprobs":true }"#,
        r#"{"temperature":1,"top_p":1}"#,
        r#"{"temperature":1,"temperature":2,"x":{"temperature":3}}"#,
    ] {
        let routed = config.route(
            &head("/v1/chat/completions", Some("analysis")),
            Some(body.as_bytes()),
        );
        let sent = routed.new_body.unwrap();
        let sent: Value = serde_json::from_slice(&sent)
            .unwrap_or_else(|e| panic!("{body} gave {}: {e}", String::from_utf8_lossy(&sent)));
        let object = sent.as_object().unwrap();
        assert!(!object.contains_key("temperature"), "{body}");
        assert!(!object.contains_key("top_p"), "{body}");
        assert_eq!(object["model"], "reasoning-large");
    }
    // A nested field of the same name is not the model's parameter: it stays.
    let routed = config.route(
        &head("/v1/chat/completions", Some("analysis")),
        Some(br#"{"x":{"temperature":3}}"#),
    );
    let sent: Value = serde_json::from_slice(&routed.new_body.unwrap()).unwrap();
    assert_eq!(sent["x"], json!({"temperature": 3}));
}

/// Applies `edit` to the minimal config and returns the error (field, message).
fn error_after(edit: impl FnOnce(&mut Value)) -> (String, String) {
    let mut config = minimal();
    edit(&mut config);
    let err = compile(&config).expect_err("config should be rejected");
    (err.field, err.message)
}

#[test]
fn profile_errors_name_the_field_and_the_fix() {
    let (field, message) = error_after(|c| c["models"][0]["profile"] = json!("nope"));
    assert_eq!(field, "models[0].profile");
    assert!(
        message.contains("profile `nope` is not defined; add it to `profiles`"),
        "{message}"
    );
    let (field, message) = error_after(|c| c["profiles"] = json!({"p": {"apis": ["grpc"]}}));
    assert_eq!(field, "profiles.p.apis[0]");
    assert!(message.contains("unknown variant `grpc`"), "{message}");
    let (field, message) = error_after(|c| c["profiles"] = json!({"p": {"apis": []}}));
    assert_eq!(field, "profiles.p.apis");
    assert!(message.contains("lists no API"), "{message}");
    let (field, message) =
        error_after(|c| c["profiles"] = json!({"p": {"apis": ["responses", "responses"]}}));
    assert_eq!(field, "profiles.p.apis[1]");
    assert!(message.contains("listed twice"), "{message}");
    let (field, message) =
        error_after(|c| c["profiles"] = json!({"p": {"drop": ["top_p", "model"]}}));
    assert_eq!(field, "profiles.p.drop[1]");
    assert!(message.contains("cannot be dropped"), "{message}");
    let (field, message) = error_after(|c| c["profiles"] = json!({"p": {"drop": ["max_tokens"]}}));
    assert_eq!(field, "profiles.p.drop[0]");
    assert!(message.contains("use `completion_cap`"), "{message}");
    let (field, message) = error_after(|c| c["profiles"] = json!({"p": {"drop": ["a", "a"]}}));
    assert_eq!(field, "profiles.p.drop[1]");
    assert!(message.contains("listed twice"), "{message}");
    let (field, message) =
        error_after(|c| c["profiles"] = json!({"p": {"completion_cap": "max_output_tokens"}}));
    assert_eq!(field, "profiles.p.completion_cap");
    assert!(message.contains("unknown variant"), "{message}");
    let (field, message) = error_after(|c| c["profiles"] = json!({"p": {"api": []}}));
    assert_eq!(field, "profiles.p.api");
    assert!(message.contains("unknown field `api`"), "{message}");
    let many: Vec<String> = (0..65).map(|i| format!("f{i}")).collect();
    let (field, _) = error_after(|c| c["profiles"] = json!({"p": {"drop": many}}));
    assert_eq!(field, "profiles.p.drop");
}

#[test]
fn every_model_a_tier_decision_names_is_among_its_decidable_models() {
    // The filter defines its per-(tier, model) metrics from `decidable_models`: a model the
    // shape fallback picks must be there, or the request's tokens and cost go uncounted.
    let paths = [
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/responses",
        "/v1/messages",
    ];
    let body = json!({"messages": [{"role": "user", "content": "x"}]});
    for config in [compile(&mixed()).unwrap(), default_config()] {
        let tasks = [None, Some("label"), Some("chat"), Some("analysis")];
        for (path, task) in paths.iter().flat_map(|p| tasks.map(|t| (*p, t))) {
            let (_, decision) = route(&config, path, task, &body);
            if decision.is_served() {
                let models = config.decidable_models(decision.tier);
                assert!(
                    models.contains(&decision.model),
                    "{path} {task:?}: {} not in {models:?}",
                    config.model(decision.model).name
                );
            }
        }
    }
    // `label` (only `small`) also names `claude`, which takes its Anthropic requests.
    let config = compile(&mixed()).unwrap();
    let label = config.tiers.iter().position(|t| t.name == "label").unwrap();
    let names: Vec<&str> = config
        .decidable_models(Some(tier_router_core::config::TierId(label)))
        .into_iter()
        .map(|m| config.model(m).name.as_str())
        .collect();
    assert_eq!(names, ["small", "mini", "claude"]);
}
