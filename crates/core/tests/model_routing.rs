//! The learned model in the decision: cues decide first, then the model's top tier when its
//! probability reaches `classifier.model.min_confidence`, else the fallback; an operator's
//! model given inline replaces the built-in one; config errors name the field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{chat, compile, minimal};
use serde_json::{json, Value};
use tier_router_core::body::RequestBody;
use tier_router_core::classify::ModelSource;
use tier_router_core::learn::train::{train, Example, Options};
use tier_router_core::learn::{base64, Model, DEFAULT_MODEL};
use tier_router_core::{Config, RequestHead, Source};

const HEAD: RequestHead<'static> = RequestHead {
    path: "/v1/chat/completions",
    task: None,
    session: None,
    request_id: None,
    caller: tier_router_core::trust::Caller::UNKNOWN,
};

/// A toy model over `minimal()`'s tiers: "zebra" prompts are label, "quantum" analysis.
fn toy_model(tiers: &[&str]) -> Model {
    let options = Options {
        epochs: 5,
        ..Options::default()
    };
    let prompts = [
        ("zebra stripes zebra", 0),
        ("a zebra at the zoo", 0),
        ("zebra crossing", 0),
        ("quantum field theory", 1),
        ("quantum tunnelling quantum", 1),
        ("the quantum computer", 1),
    ];
    let examples: Vec<Example> = prompts
        .iter()
        .map(|(p, tier)| {
            let body = RequestBody::parse(&chat(p)).unwrap();
            Example::new(&options.spec, &body, *tier)
        })
        .collect();
    let names: Vec<String> = tiers.iter().map(|t| t.to_string()).collect();
    train(&names, &examples, &options)
}

fn with_model(model: &Model, extra: Value) -> Value {
    let mut config = minimal();
    let mut m = json!({"weights_base64": base64::encode(&model.to_bytes())});
    if let (Value::Object(m), Value::Object(extra)) = (&mut m, extra) {
        m.extend(extra);
    }
    config["classifier"] = json!({"model": m});
    config
}

fn decide(config: &Config, prompt: &str) -> (String, Source, String) {
    let routed = config.route(&HEAD, Some(&chat(prompt)));
    (
        config.tier_name(&routed.decision).to_string(),
        routed.decision.source,
        config.cue_list(&routed.decision),
    )
}

#[test]
fn an_operator_model_decides_when_no_cue_does_and_names_its_features() {
    let config = compile(&with_model(&toy_model(&["label", "analysis"]), json!({}))).unwrap();
    assert_eq!(config.classifier.model_source(), &ModelSource::Config);
    let (tier, source, cues) = decide(&config, "tell me about the zebra");
    assert_eq!((tier.as_str(), source), ("label", Source::Model), "{cues}");
    assert!(cues.starts_with("model:label p=0."), "{cues}");
    assert!(cues.contains("zebra"), "{cues}");
    let (tier, source, _) = decide(&config, "quantum things");
    assert_eq!((tier.as_str(), source), ("analysis", Source::Model));
}

#[test]
fn cues_decide_before_the_model() {
    let config = compile(&with_model(&toy_model(&["label", "analysis"]), json!({}))).unwrap();
    // The model says label (zebra); the analysis cue decides.
    let (tier, source, cues) = decide(&config, "zebra zebra, step by step");
    assert_eq!((tier.as_str(), source), ("analysis", Source::Classifier));
    assert_eq!(cues, "step by step");
}

#[test]
fn below_min_confidence_the_fallback_serves() {
    let config = compile(&with_model(
        &toy_model(&["label", "analysis"]),
        json!({"min_confidence": 1.0}),
    ))
    .unwrap();
    let routed = config.route(&HEAD, Some(&chat("zebra")));
    assert_eq!(routed.decision.source, Source::Fallback);
    // The probabilities are still there, for the log and the labeller's suggestion.
    let c = routed.decision.classification.unwrap();
    let (top, p) = c.model_top().unwrap();
    assert_eq!(config.tier(top).name, "label");
    assert!(p > 0.5 && p < 1.0, "{p}");
    assert!((c.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn the_model_can_be_turned_off() {
    let mut value = common::minimal();
    value["tiers"] = json!([
        {"name": "label", "models": ["small"]},
        {"name": "chat", "models": ["mini"]},
        {"name": "analysis", "models": ["big"]}
    ]);
    let on = compile(&value).unwrap();
    assert_eq!(on.classifier.model_source(), &ModelSource::Builtin);
    assert_ne!(decide(&on, "hello there, how are you").1, Source::Fallback);
    value["classifier"] = json!({"model": {"enabled": false}});
    let off = compile(&value).unwrap();
    assert!(off.classifier.model().is_none());
    assert_eq!(decide(&off, "hello there, how are you").1, Source::Fallback);
}

#[test]
fn the_builtin_model_is_off_when_the_config_lacks_its_tiers() {
    // minimal() has label and analysis, no chat.
    let config = compile(&minimal()).unwrap();
    assert_eq!(
        config.classifier.model_source(),
        &ModelSource::BuiltinTiersMissing(vec!["chat".to_string()])
    );
    assert_eq!(decide(&config, "hello there").1, Source::Fallback);
}

#[test]
fn the_builtin_model_fits_its_budget_and_parses() {
    assert!(DEFAULT_MODEL.len() <= 256 * 1024, "{}", DEFAULT_MODEL.len());
    let model = Model::builtin().unwrap();
    assert_eq!(model.tiers(), ["label", "chat", "analysis"]);
    assert_eq!(model.to_bytes(), DEFAULT_MODEL);
}

fn error_of(value: &Value) -> (String, String) {
    let e = compile(value).unwrap_err();
    (e.field, e.message)
}

#[test]
fn config_errors_name_the_field_and_the_fix() {
    let model = toy_model(&["label", "analysis"]);
    let mut value = with_model(&model, json!({}));
    value["classifier"]["model"]["weights_base64"] = json!("not base64!");
    let (field, message) = error_of(&value);
    assert_eq!(field, "classifier.model.weights_base64");
    assert!(message.contains("base64 -w0"), "{message}");

    let mut damaged = model.to_bytes();
    damaged[40] ^= 1;
    value["classifier"]["model"]["weights_base64"] = json!(base64::encode(&damaged));
    let (field, message) = error_of(&value);
    assert_eq!(field, "classifier.model.weights_base64");
    assert!(message.contains("checksum"), "{message}");

    let other = with_model(&toy_model(&["label", "poetry"]), json!({}));
    let (field, message) = error_of(&other);
    assert_eq!(field, "classifier.model.weights_base64");
    assert!(
        message.contains("\"poetry\" is not one of this config's tiers"),
        "{message}"
    );

    let (field, _) = error_of(&with_model(&model, json!({"min_confidence": 1.5})));
    assert_eq!(field, "classifier.model.min_confidence");

    let (field, message) = error_of(&with_model(&model, json!({"enabled": false})));
    assert_eq!(field, "classifier.model.weights_base64");
    assert!(message.contains("remove one"), "{message}");

    let (field, message) = error_of(&with_model(&model, json!({"weights": "x"})));
    assert!(message.contains("weights"), "{field}: {message}");
}
