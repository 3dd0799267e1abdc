//! The cascade policy natively: the gate's verdict on answers of each API shape, the bounded
//! escalation steps, the body re-edited for the next model, the logprobs the router adds and
//! strips, and the config errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use serde_json::{json, Value};
use tier_router_core::api::ApiShape;
use tier_router_core::body::RequestBody;
use tier_router_core::cascade::{strip_logprobs, AnswerContract, Mode, Reason, Step, Verdict};
use tier_router_core::{Config, Decision, RequestHead};

const CHAT: &str = "/v1/chat/completions";

/// A `label` cascade tier over cheap -> strong -> strongest, with `cascade` as given.
fn cascade_config(cascade: Value) -> Config {
    let mut config = json!({
        "fallback_model": "mini",
        "models": [
            {"name": "cheap", "cluster": "c_cheap", "price_per_1m": {"input": 0.1, "output": 0.3}},
            {"name": "strong", "cluster": "c_strong", "price_per_1m": {"input": 3.0, "output": 15.0}},
            {"name": "strongest", "cluster": "c_strongest", "price_per_1m": {"input": 10.0, "output": 40.0}},
            {"name": "mini", "cluster": "c_mini"}
        ],
        "tiers": [{"name": "label", "models": ["cheap", "strong", "strongest"], "policy": "cascade"}]
    });
    if !cascade.is_null() {
        config["tiers"][0]["cascade"] = cascade;
    }
    common::compile(&config).unwrap()
}

fn route(config: &Config, path: &str, body: &Value) -> (Decision, Vec<u8>, Vec<u8>) {
    let original = serde_json::to_vec(body).unwrap();
    let head = RequestHead {
        path,
        task: Some("label"),
        ..RequestHead::default()
    };
    let routed = config.route(&head, Some(&original));
    let sent = routed.new_body.clone().unwrap_or_else(|| original.clone());
    (routed.decision, original, sent)
}

fn chat_request(extra: Value) -> Value {
    let mut body =
        json!({"model": "x", "messages": [{"role": "user", "content": "Classify: great!"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn chat_answer(content: Value, finish: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "c1", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2}
    }))
    .unwrap()
}

/// The gate's verdict on the first model's 200 `answer` to `request` (Chat Completions).
fn verdict(config: &Config, request: Value, answer: &[u8]) -> Verdict {
    let (decision, original, _) = route(config, CHAT, &request);
    let parsed = RequestBody::parse(&original).unwrap();
    let contract = AnswerContract::of_request(&original, &parsed);
    config
        .tier(decision.tier.unwrap())
        .cascade
        .as_ref()
        .unwrap()
        .check(Some(ApiShape::ChatCompletions), &contract, answer)
}

fn escalates(reason: Reason) -> Verdict {
    Verdict::Escalate(reason)
}

#[test]
fn a_plain_good_answer_passes() {
    let config = cascade_config(Value::Null);
    let v = verdict(
        &config,
        chat_request(json!({})),
        &chat_answer(json!("positive"), "stop"),
    );
    assert_eq!(v, Verdict::Pass);
}

#[test]
fn a_cut_or_empty_answer_escalates() {
    let config = cascade_config(Value::Null);
    let req = || chat_request(json!({}));
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!("posi"), "length")),
        escalates(Reason::Length)
    );
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!("  \n"), "stop")),
        escalates(Reason::Empty)
    );
    assert_eq!(
        verdict(&config, req(), &chat_answer(Value::Null, "stop")),
        escalates(Reason::Empty)
    );
}

#[test]
fn an_answer_made_of_tool_calls_is_not_empty() {
    let config = cascade_config(Value::Null);
    let answer = serde_json::to_vec(&json!({"choices": [{"message": {"content": null,
        "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        "finish_reason": "tool_calls"}]}))
    .unwrap();
    assert_eq!(
        verdict(&config, chat_request(json!({})), &answer),
        Verdict::Pass
    );
}

#[test]
fn refusal_phrases_match_case_insensitively_with_either_apostrophe() {
    let config = cascade_config(Value::Null);
    for text in [
        "I CAN'T HELP WITH that.",
        "Sorry, I can\u{2019}t help with that.",
        "Honestly, I'm not sure.",
    ] {
        let v = verdict(
            &config,
            chat_request(json!({})),
            &chat_answer(json!(text), "stop"),
        );
        assert_eq!(v, escalates(Reason::Refusal), "{text}");
    }
    // The API's own refusal field counts too.
    let refused = serde_json::to_vec(&json!({"choices": [{"message": {"content": "x",
        "refusal": "I will not do that"}, "finish_reason": "stop"}]}))
    .unwrap();
    assert_eq!(
        verdict(&config, chat_request(json!({})), &refused),
        escalates(Reason::Refusal)
    );
}

#[test]
fn configured_phrases_replace_the_defaults_and_an_empty_list_turns_them_off() {
    let custom = cascade_config(json!({"refusal_phrases": ["needs a human"]}));
    let req = || chat_request(json!({}));
    assert_eq!(
        verdict(
            &custom,
            req(),
            &chat_answer(json!("This NEEDS A HUMAN."), "stop")
        ),
        escalates(Reason::Refusal)
    );
    assert_eq!(
        verdict(&custom, req(), &chat_answer(json!("I don't know"), "stop")),
        Verdict::Pass
    );
    let off = cascade_config(json!({"refusal_phrases": []}));
    assert_eq!(
        verdict(&off, req(), &chat_answer(json!("I don't know"), "stop")),
        Verdict::Pass
    );
}

#[test]
fn json_mode_answers_must_parse() {
    let config = cascade_config(Value::Null);
    let req = || chat_request(json!({"response_format": {"type": "json_object"}}));
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!("{\"a\": 1"), "stop")),
        escalates(Reason::InvalidJson)
    );
    assert_eq!(
        verdict(
            &config,
            req(),
            &chat_answer(json!("Sure! {\"a\": 1}"), "stop")
        ),
        escalates(Reason::InvalidJson)
    );
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!(" {\"a\": 1}\n"), "stop")),
        Verdict::Pass
    );
}

fn sentiment_schema() -> Value {
    json!({"response_format": {"type": "json_schema", "json_schema": {"name": "s", "strict": true, "schema": {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": ["positive", "negative"]}, "score": {"type": "number"}},
        "required": ["label", "score"]
    }}}})
}

#[test]
fn json_schema_answers_must_fit_the_enum_and_the_required_keys() {
    let config = cascade_config(Value::Null);
    let req = || chat_request(sentiment_schema());
    let good = chat_answer(json!("{\"label\": \"positive\", \"score\": 0.9}"), "stop");
    assert_eq!(verdict(&config, req(), &good), Verdict::Pass);
    let off_enum = chat_answer(json!("{\"label\": \"meh\", \"score\": 0.9}"), "stop");
    assert_eq!(
        verdict(&config, req(), &off_enum),
        escalates(Reason::EnumMiss)
    );
    let missing = chat_answer(json!("{\"label\": \"positive\"}"), "stop");
    assert_eq!(
        verdict(&config, req(), &missing),
        escalates(Reason::RequiredMissing)
    );
    let not_object = chat_answer(json!("[1]"), "stop");
    assert_eq!(
        verdict(&config, req(), &not_object),
        escalates(Reason::RequiredMissing)
    );
}

#[test]
fn a_top_level_schema_enum_is_a_label_set() {
    let config = cascade_config(Value::Null);
    let req = || {
        chat_request(
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "l",
        "schema": {"type": "string", "enum": ["spam", "ham"]}}}}),
        )
    };
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!("\"ham\""), "stop")),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!("\"eggs\""), "stop")),
        escalates(Reason::EnumMiss)
    );
}

#[test]
fn configured_labels_gate_plain_text_answers() {
    let config = cascade_config(json!({"labels": ["Positive", "negative", "neutral"]}));
    let req = || chat_request(json!({}));
    for text in ["positive", " \"Positive.\" ", "`neutral`"] {
        assert_eq!(
            verdict(&config, req(), &chat_answer(json!(text), "stop")),
            Verdict::Pass,
            "{text}"
        );
    }
    let v = verdict(
        &config,
        req(),
        &chat_answer(json!("It is mostly positive"), "stop"),
    );
    assert_eq!(v, escalates(Reason::LabelMiss));
}

/// Labels fold ASCII letters only (no Unicode case tables in the module): a non-ASCII label
/// matches as written, and in another case only where its non-ASCII letters agree.
#[test]
fn labels_fold_ascii_letters_only() {
    let config = cascade_config(json!({"labels": ["négatif", "Ärger"]}));
    let req = || chat_request(json!({}));
    for text in ["négatif", "NéGATIF.", "ärger", "Ärger"] {
        let v = verdict(&config, req(), &chat_answer(json!(text), "stop"));
        let expected = if text == "ärger" {
            escalates(Reason::LabelMiss)
        } else {
            Verdict::Pass
        };
        assert_eq!(v, expected, "{text}");
    }
}

#[test]
fn a_low_mean_logprob_escalates_when_configured() {
    let config = cascade_config(json!({"min_mean_logprob": -1.0}));
    let with_logprobs = |values: &[f64]| {
        let content: Vec<Value> = values
            .iter()
            .map(|v| json!({"token": "t", "logprob": v}))
            .collect();
        serde_json::to_vec(&json!({"choices": [{"message": {"content": "positive"},
            "logprobs": {"content": content}, "finish_reason": "stop"}]}))
        .unwrap()
    };
    let req = || chat_request(json!({}));
    assert_eq!(
        verdict(&config, req(), &with_logprobs(&[-0.1, -0.5])),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&config, req(), &with_logprobs(&[-0.5, -2.0])),
        escalates(Reason::LowLogprob)
    );
    // An answer without logprobs gives no signal.
    assert_eq!(
        verdict(&config, req(), &chat_answer(json!("positive"), "stop")),
        Verdict::Pass
    );
}

#[test]
fn a_body_that_is_no_answer_escalates_as_unreadable() {
    let config = cascade_config(Value::Null);
    assert_eq!(
        verdict(&config, chat_request(json!({})), b"<html>oops</html>"),
        escalates(Reason::Unreadable)
    );
}

#[test]
fn responses_and_anthropic_answers_are_read_in_their_shapes() {
    let config = cascade_config(Value::Null);
    let gate = config
        .tier(config.tier_id("label").unwrap())
        .cascade
        .as_ref()
        .unwrap();
    let none = AnswerContract::default();
    let responses = |text: &str, incomplete: Value| {
        serde_json::to_vec(&json!({"object": "response", "incomplete_details": incomplete, "output": [
            {"type": "reasoning", "summary": []},
            {"type": "message", "content": [{"type": "output_text", "text": text, "annotations": []}]}]}))
        .unwrap()
    };
    let r = Some(ApiShape::Responses);
    assert_eq!(
        gate.check(r, &none, &responses("positive", Value::Null)),
        Verdict::Pass
    );
    assert_eq!(
        gate.check(r, &none, &responses("", Value::Null)),
        escalates(Reason::Empty)
    );
    let cut = responses("posi", json!({"reason": "max_output_tokens"}));
    assert_eq!(gate.check(r, &none, &cut), escalates(Reason::Length));
    let anthropic = |text: &str, stop: &str| {
        serde_json::to_vec(&json!({"type": "message", "content": [{"type": "text", "text": text}], "stop_reason": stop}))
            .unwrap()
    };
    let a = Some(ApiShape::AnthropicMessages);
    assert_eq!(
        gate.check(a, &none, &anthropic("positive", "end_turn")),
        Verdict::Pass
    );
    assert_eq!(
        gate.check(a, &none, &anthropic("posi", "max_tokens")),
        escalates(Reason::Length)
    );
    assert_eq!(
        gate.check(a, &none, &anthropic("I do not know.", "end_turn")),
        escalates(Reason::Refusal)
    );
    // Responses declares its schema under `text.format`.
    let contract = AnswerContract::of_format(
        br#"{"format": {"type": "json_schema", "name": "s", "schema": {"type": "object", "required": ["label"]}}}"#,
    );
    assert!(contract.json);
    assert_eq!(
        gate.check(r, &contract, &responses("{\"x\": 1}", Value::Null)),
        escalates(Reason::RequiredMissing)
    );
}

#[test]
fn a_cascade_starts_at_the_first_model_and_escalates_in_order_up_to_the_bound() {
    let config = cascade_config(json!({"max_escalations": 2}));
    let (decision, original, _) = route(&config, CHAT, &chat_request(json!({})));
    let name = |m| config.model(m).name.clone();
    assert_eq!(name(decision.model), "cheap");
    assert_eq!(config.cascade_mode(&decision), Some(Mode::Gated));
    let parsed = RequestBody::parse(&original).unwrap();
    let contract = AnswerContract::of_request(&original, &parsed);
    let bad = chat_answer(json!(""), "stop");
    let good = chat_answer(json!("positive"), "stop");
    // Each step is asked with the decision of the attempt that answered.
    let at = |model: &str| Decision {
        model: config.model_id(model).unwrap(),
        ..decision.clone()
    };
    let step = |n, status, body: &[u8]| {
        let model = ["cheap", "strong", "strongest"][n];
        config.cascade_step(&at(model), n, &contract, status, body)
    };
    let Step::Escalate { reason, to } = step(0, Some(200), &bad) else {
        panic!("expected an escalation")
    };
    assert_eq!((reason, name(to).as_str()), (Reason::Empty, "strong"));
    let Step::Escalate { reason, to } = step(1, Some(429), b"{}") else {
        panic!("expected an escalation")
    };
    assert_eq!(
        (reason, name(to).as_str()),
        (Reason::UpstreamError, "strongest")
    );
    // The bound is reached: the last answer is served with the gate's verdict on it.
    assert_eq!(
        step(2, Some(200), &bad),
        Step::Serve {
            verdict: Some(escalates(Reason::Empty))
        }
    );
    assert_eq!(
        step(0, Some(200), &good),
        Step::Serve {
            verdict: Some(Verdict::Pass)
        }
    );
    assert_eq!(
        step(1, None, b""),
        Step::Escalate {
            reason: Reason::UpstreamError,
            to: config.model_id("strongest").unwrap()
        }
    );
}

#[test]
fn a_pinned_session_turn_cascades_too() {
    use tier_router_core::store::MemoryStore;
    use tier_router_core::{Env, Source};
    let config = common::compile(&json!({
        "fallback_model": "mini",
        "models": [{"name": "cheap", "cluster": "a"}, {"name": "strong", "cluster": "b"}, {"name": "mini", "cluster": "m"}],
        "tiers": [{"name": "label", "models": ["cheap", "strong"], "policy": "cascade"}],
        "sessions": {"enabled": true}
    }))
    .unwrap();
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 1,
    };
    let body = serde_json::to_vec(&chat_request(json!({}))).unwrap();
    let head = RequestHead {
        path: CHAT,
        task: Some("label"),
        session: Some("s1"),
        ..RequestHead::default()
    };
    config.route_in(&head, Some(&body), &env);
    let later = RequestHead { task: None, ..head };
    let turn = config.route_in(&later, Some(&body), &env).decision;
    assert_eq!(turn.source, Source::Session);
    let step = config.cascade_step(
        &turn,
        0,
        &AnswerContract::default(),
        Some(200),
        &chat_answer(json!(""), "stop"),
    );
    assert_eq!(
        step,
        Step::Escalate {
            reason: Reason::Empty,
            to: config.model_id("strong").unwrap()
        }
    );
}

#[test]
fn the_default_bound_is_one_escalation() {
    let config = cascade_config(Value::Null);
    let (decision, original, _) = route(&config, CHAT, &chat_request(json!({})));
    let contract = AnswerContract::of_request(&original, &RequestBody::parse(&original).unwrap());
    let bad = chat_answer(json!(""), "stop");
    assert!(matches!(
        config.cascade_step(&decision, 0, &contract, Some(200), &bad),
        Step::Escalate { .. }
    ));
    assert!(matches!(
        config.cascade_step(&decision, 1, &contract, Some(200), &bad),
        Step::Serve { .. }
    ));
}

#[test]
fn a_streaming_request_skips_the_gate_and_other_policies_have_none() {
    let config = cascade_config(Value::Null);
    let (decision, _, _) = route(&config, CHAT, &chat_request(json!({"stream": true})));
    assert_eq!(config.cascade_mode(&decision), Some(Mode::SkippedStream));
    let other = common::default_config();
    let head = RequestHead {
        path: CHAT,
        task: Some("classify"),
        ..RequestHead::default()
    };
    let routed = other.route(
        &head,
        Some(&serde_json::to_vec(&chat_request(json!({}))).unwrap()),
    );
    assert_eq!(other.cascade_mode(&routed.decision), None);
}

#[test]
fn the_next_model_gets_the_original_body_edited_for_it() {
    let config = cascade_config(Value::Null);
    let request =
        chat_request(json!({"temperature": 0.2, "response_format": {"type": "json_object"}}));
    let (decision, original, sent) = route(&config, CHAT, &request);
    assert_eq!(
        serde_json::from_slice::<Value>(&sent).unwrap()["model"],
        "cheap"
    );
    let strong = config.model_id("strong").unwrap();
    let (body, next) = config.body_for_model(&original, &decision, strong).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let mut expected = request.clone();
    expected["model"] = json!("strong");
    assert_eq!(body, expected);
    assert_eq!(next.model, strong);
    assert_eq!(config.edit_list(&next), "model");
}

#[test]
fn logprobs_are_added_for_the_gate_only_where_the_client_set_none_and_stripped_after() {
    let config = cascade_config(json!({"min_mean_logprob": -1.0}));
    let (decision, original, sent) = route(&config, CHAT, &chat_request(json!({})));
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent["logprobs"], true);
    assert_eq!(config.edit_list(&decision), "model,logprobs");
    // The strong model's answer is served unchecked (the last attempt): no logprobs asked.
    let (body, _) = config
        .body_for_model(&original, &decision, config.model_id("strong").unwrap())
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&body)
        .unwrap()
        .get("logprobs")
        .is_none());
    // A client that set logprobs gets exactly what it asked for.
    let (_, _, own) = route(&config, CHAT, &chat_request(json!({"logprobs": false})));
    assert_eq!(
        serde_json::from_slice::<Value>(&own).unwrap()["logprobs"],
        false
    );
    // The answer's logprobs become null, byte for byte elsewhere.
    let answer = br#"{"id":"c","choices":[{"index":0,"message":{"content":"ok"},"logprobs":{"content":[{"token":"ok","logprob":-0.1}]},"finish_reason":"stop"}],"usage":{}}"#;
    let stripped = strip_logprobs(answer).unwrap();
    assert_eq!(
        String::from_utf8(stripped).unwrap(),
        r#"{"id":"c","choices":[{"index":0,"message":{"content":"ok"},"logprobs":null,"finish_reason":"stop"}],"usage":{}}"#
    );
    assert_eq!(strip_logprobs(&chat_answer(json!("ok"), "stop")), None);
}

#[test]
fn cascade_config_errors_name_the_field_and_the_fix() {
    let mut one_model = common::minimal();
    one_model["tiers"][0]["policy"] = json!("cascade");
    let e = common::compile(&one_model).unwrap_err();
    assert_eq!(e.field, "tiers[0].models");
    assert!(e.message.contains("at least two models"), "{e}");

    let mut stray = common::minimal();
    stray["tiers"][0]["cascade"] = json!({"max_escalations": 1});
    let e = common::compile(&stray).unwrap_err();
    assert_eq!(e.field, "tiers[0].cascade");
    assert!(e.message.contains("\"policy\": \"cascade\""), "{e}");

    let cases = [
        (
            json!({"max_escalations": 0}),
            "tiers[0].cascade.max_escalations",
            "use 1 to 2",
        ),
        (
            json!({"max_escalations": 3}),
            "tiers[0].cascade.max_escalations",
            "use 1 to 2",
        ),
        (
            json!({"min_mean_logprob": 0.5}),
            "tiers[0].cascade.min_mean_logprob",
            "negative",
        ),
        (
            json!({"refusal_phrases": ["ok", "  "]}),
            "tiers[0].cascade.refusal_phrases[1]",
            "not blank",
        ),
        (
            json!({"labels": [""]}),
            "tiers[0].cascade.labels[0]",
            "not blank",
        ),
        (
            json!({"labls": ["a"]}),
            "tiers[0].cascade.labls",
            "unknown field",
        ),
    ];
    for (cascade, field, hint) in cases {
        let mut config = json!({
            "fallback_model": "a",
            "models": [{"name": "a", "cluster": "ca"}, {"name": "b", "cluster": "cb"}, {"name": "c", "cluster": "cc"}],
            "tiers": [{"name": "t", "models": ["a", "b", "c"], "policy": "cascade", "cascade": cascade.clone()}]
        });
        let e = common::compile(&config).unwrap_err();
        assert_eq!(e.field, field, "{cascade}: {e}");
        assert!(e.message.contains(hint), "{cascade}: {e}");
        config["tiers"][0]["cascade"] = json!({});
        assert!(common::compile(&config).is_ok());
    }
}

#[test]
fn the_log_names_every_attempt_and_adds_their_costs_up() {
    use tier_router_core::account::{Reply, Timing};
    use tier_router_core::usage::UsageScanner;
    let config = cascade_config(Value::Null);
    let (decision, original, _) = route(&config, CHAT, &chat_request(json!({})));
    let answer = |content: &str| {
        let mut usage = UsageScanner::new();
        usage.feed(&chat_answer(json!(content), "stop"));
        usage
    };
    let timing = |start, end| Timing {
        start_ns: start,
        first_byte_ns: None,
        first_token_ns: None,
        end_ns: Some(end),
    };
    let (first, first_account) = config.escalated_attempt(
        &decision,
        &answer(""),
        timing(0, 2_000_000),
        Reply::upstream(200),
        Reason::Empty,
    );
    // 10 input and 2 output tokens on the cheap model: 0.1 * 10 + 0.3 * 2 micro-USD, rounded.
    assert_eq!(first_account.cost_micro_usd, first.cost_micro_usd);
    let strong = config.model_id("strong").unwrap();
    let (_, served) = config.body_for_model(&original, &decision, strong).unwrap();
    let mut account = config.account(
        &served,
        &answer("positive"),
        timing(2_000_000, 9_000_000),
        Reply::upstream(200),
    );
    let strong_cost = account.cost_micro_usd.unwrap();
    let fields = config.cascade_fields(
        Mode::Gated,
        std::slice::from_ref(&first),
        &served,
        &mut account,
        Some(Verdict::Pass),
    );
    assert_eq!(
        account.cost_micro_usd,
        Some(strong_cost + first.cost_micro_usd.unwrap())
    );
    let field = |k: &str| {
        fields
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("tier_router.cascade").as_deref(), Some("pass"));
    assert_eq!(field("tier_router.escalated").as_deref(), Some("true"));
    assert_eq!(
        field("tier_router.escalation_reasons").as_deref(),
        Some("empty")
    );
    let attempts: Value = serde_json::from_str(&field("tier_router.attempts").unwrap()).unwrap();
    assert_eq!(attempts[0]["model"], "cheap");
    assert_eq!(attempts[0]["outcome"], "escalated:empty");
    assert_eq!(attempts[0]["latency_ms"], "2.000");
    assert_eq!(attempts[1]["model"], "strong");
    assert_eq!(attempts[1]["outcome"], "served");
    assert_eq!(attempts[1]["status"], "200");
    // A stream skips the gate and says so.
    let mut account = config.account(&decision, &answer("x"), timing(0, 1), Reply::upstream(200));
    let fields = config.cascade_fields(Mode::SkippedStream, &[], &decision, &mut account, None);
    assert_eq!(
        fields[0],
        ("tier_router.cascade", "skipped_stream".to_string())
    );
    assert_eq!(fields[1], ("tier_router.escalated", "false".to_string()));
}
