//! Requests the router does not rewrite: only `endpoints` are read, and every body it cannot
//! rewrite gets the configured outcome; the log names the model the upstream received.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{chat, compile, minimal};
use serde_json::{json, Value};
use tier_router_core::account::Reply;
use tier_router_core::config::Outcome;
use tier_router_core::names::{state, PASSTHROUGH_TIER, UNPRICED};
use tier_router_core::store::MemoryStore;
use tier_router_core::usage::UsageScanner;
use tier_router_core::{Admit, BodyHead, Config, Env, PassReason, RequestHead, Routed};

const JSON: BodyHead<'static> = BodyHead {
    content_type: Some("application/json"),
    content_encoding: None,
    content_length: Some(100),
    end_of_stream: false,
};

fn config_with(edit: impl FnOnce(&mut Value)) -> Config {
    let mut value = minimal();
    edit(&mut value);
    compile(&value).unwrap()
}

fn head(path: &str) -> RequestHead<'_> {
    RequestHead {
        path,
        ..RequestHead::default()
    }
}

fn env(store: &MemoryStore) -> Env<'_> {
    Env { store, now_ns: 0 }
}

fn forwarded(admit: Admit) -> Routed {
    match admit {
        Admit::Forward(routed) => routed,
        Admit::Reject(r) => panic!("rejected: {r:?}"),
    }
}

fn fields(config: &Config, routed: &Routed) -> Vec<(&'static str, String)> {
    let account = config.account(
        &routed.decision,
        &UsageScanner::new(),
        Default::default(),
        Reply::upstream(200),
    );
    config.log_record(&routed.decision, &account)
}

fn field<'a>(fields: &'a [(&'static str, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn only_llm_endpoints_are_read() {
    let config = compile(&minimal()).unwrap();
    for path in [
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/responses",
        "/v1/messages",
        "/api/classify/v1/chat/completions?task=x",
        "/v1/chat/completions/",
    ] {
        assert_eq!(config.screen(path, &JSON), None, "{path}");
    }
    for path in [
        "/v1/embeddings",
        "/v1/images/generations",
        "/v1/audio/transcriptions",
        "/v1/moderations",
        "/v1/files",
        "/v1/messages/count_tokens",
        "/v1/models",
    ] {
        assert_eq!(
            config.screen(path, &JSON),
            Some(PassReason::Endpoint),
            "{path}"
        );
    }
}

#[test]
fn endpoints_are_configurable_and_validated() {
    let config = config_with(|c| c["endpoints"] = json!(["/generate"]));
    assert_eq!(config.screen("/v1/generate", &JSON), None);
    assert_eq!(
        config.screen("/v1/chat/completions", &JSON),
        Some(PassReason::Endpoint)
    );
    for (bad, at) in [
        (json!([]), "endpoints"),
        (json!(["chat/completions"]), "endpoints[0]"),
        (json!(["/ok", "/x?y"]), "endpoints[1]"),
        (json!(["/"]), "endpoints[0]"),
    ] {
        let mut value = minimal();
        value["endpoints"] = bad;
        let err = compile(&value).unwrap_err();
        assert_eq!(err.field, at, "{}", err.message);
    }
    let mut value = minimal();
    value["endpoints"] = json!(vec!["/a"; 33]);
    assert!(compile(&value).unwrap_err().message.contains("at most 32"));
}

#[test]
fn unrewritable_config_is_validated_with_field_names() {
    let mut value = minimal();
    value["unrewritable"] = json!({"too_large": "drop"});
    let err = compile(&value).unwrap_err();
    assert_eq!(err.field, "unrewritable.too_large");
    assert!(
        err.message.contains("expected `pass` or `reject`"),
        "{}",
        err.message
    );
    value["unrewritable"] = json!({"gzip": "pass"});
    assert_eq!(compile(&value).unwrap_err().field, "unrewritable.gzip");
    value = minimal();
    value["passthrough"] = json!({"cluster": "has space"});
    assert_eq!(compile(&value).unwrap_err().field, "passthrough.cluster");
    let config = compile(&minimal()).unwrap();
    for reason in PassReason::ALL {
        assert_eq!(config.outcome(reason), Outcome::Pass, "{reason:?}");
    }
}

#[test]
fn headers_decide_which_bodies_cannot_be_read() {
    let config = compile(&minimal()).unwrap();
    let path = "/v1/chat/completions";
    let screen = |body: BodyHead| config.screen(path, &body);
    let gzip = BodyHead {
        content_encoding: Some("gzip"),
        ..JSON
    };
    assert_eq!(screen(gzip), Some(PassReason::Encoded));
    let identity = BodyHead {
        content_encoding: Some("identity"),
        ..JSON
    };
    assert_eq!(screen(identity), None);
    let text = BodyHead {
        content_type: Some("text/plain"),
        ..JSON
    };
    assert_eq!(screen(text), Some(PassReason::NotJson));
    let large = BodyHead {
        content_length: Some(config.max_body_bytes + 1),
        ..JSON
    };
    assert_eq!(screen(large), Some(PassReason::TooLarge));
    let none = BodyHead {
        end_of_stream: true,
        ..JSON
    };
    assert_eq!(screen(none), Some(PassReason::NoBody));
    let unread = config_with(|c| c["read_body"] = json!(false));
    assert_eq!(unread.screen(path, &JSON), Some(PassReason::BodyNotRead));
}

#[test]
fn a_body_too_large_with_a_task_is_not_sent_to_the_tier_under_the_clients_model() {
    // The 2 MB + `x-task` case: no cluster header (the catch-all), no router model logged.
    let config = compile(&minimal()).unwrap();
    let store = MemoryStore::new();
    let h = RequestHead {
        path: "/v1/chat/completions",
        task: Some("classify"),
        ..RequestHead::default()
    };
    let routed = forwarded(config.unrewritten(&h, PassReason::TooLarge, None, &env(&store)));
    assert_eq!(routed.new_body, None);
    assert_eq!(config.cluster_for(&routed.decision), None);
    let f = fields(&config, &routed);
    assert_eq!(field(&f, state::TIER), Some(PASSTHROUGH_TIER));
    assert_eq!(field(&f, state::MODEL), None, "the model was not read");
    assert_eq!(field(&f, state::REWRITTEN), Some("false"));
    assert_eq!(field(&f, state::PASS_REASON), Some("too_large"));
    assert_eq!(field(&f, state::PRICED_AS), Some(UNPRICED));
    assert_eq!(field(&f, state::COST_USD), None, "unpriced: no dollars");
}

#[test]
fn a_passed_body_is_priced_as_the_clients_configured_model() {
    let config = config_with(|c| c["passthrough"] = json!({"cluster": "catch_all"}));
    let store = MemoryStore::new();
    let h = head("/v1/chat/completions");
    let routed = forwarded(config.unrewritten(&h, PassReason::NotJson, Some("big"), &env(&store)));
    assert_eq!(config.cluster_for(&routed.decision), Some("catch_all"));
    let f = fields(&config, &routed);
    assert_eq!(field(&f, state::MODEL), Some("big"));
    assert_eq!(field(&f, state::PRICED_AS), Some("big"));
    assert!(field(&f, state::COST_USD).is_some());
    // A model the config does not know is logged as sent, and unpriced.
    let routed =
        forwarded(config.unrewritten(&h, PassReason::NotJson, Some("gpt-4o"), &env(&store)));
    let f = fields(&config, &routed);
    assert_eq!(field(&f, state::MODEL), Some("gpt-4o"));
    assert_eq!(field(&f, state::PRICED_AS), Some(UNPRICED));
    assert_eq!(field(&f, state::COST_USD), None);
}

#[test]
fn reject_answers_in_the_openai_error_shape() {
    let config = config_with(|c| {
        c["unrewritable"] = json!({
            "too_large": "reject", "encoded": "reject", "not_json": "reject", "invalid_json": "reject"
        })
    });
    let store = MemoryStore::new();
    let h = head("/v1/chat/completions");
    for (reason, status, code) in [
        (PassReason::TooLarge, 413, "request_too_large"),
        (PassReason::Encoded, 415, "unsupported_content_encoding"),
        (PassReason::NotJson, 415, "unsupported_content_type"),
        (PassReason::InvalidJson, 400, "invalid_json"),
    ] {
        let Admit::Reject(r) = config.unrewritten(&h, reason, None, &env(&store)) else {
            panic!("{reason:?} was not rejected");
        };
        assert_eq!((r.status, r.reason), (status, reason));
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(body["error"]["message"].as_str().unwrap().len() > 10);
        let f = config.rejection_fields(&r);
        assert_eq!(field(&f, state::REJECTED), Some("true"));
        assert_eq!(field(&f, state::PASS_REASON), Some(reason.as_str()));
    }
    // Endpoints and bodiless requests always pass.
    for reason in [PassReason::Endpoint, PassReason::NoBody] {
        assert!(matches!(
            config.unrewritten(&h, reason, None, &env(&store)),
            Admit::Forward(_)
        ));
    }
}

#[test]
fn invalid_json_gets_its_outcome_and_is_never_rewritten() {
    let store = MemoryStore::new();
    let h = RequestHead {
        path: "/v1/chat/completions",
        task: Some("classify"),
        ..RequestHead::default()
    };
    let config = compile(&minimal()).unwrap();
    for body in [
        &b"{\"model\": \"x\", "[..],
        b"[1,2]",
        b"\"text\"",
        b"{\"a\":1}}",
    ] {
        let routed = forwarded(config.route_body(&h, body, &env(&store)));
        assert_eq!(routed.new_body, None);
        let untouched = routed.decision.untouched.as_ref().unwrap();
        assert_eq!(untouched.reason, PassReason::InvalidJson);
        assert_eq!(config.cluster_for(&routed.decision), None);
    }
    let reject = config_with(|c| c["unrewritable"] = json!({"invalid_json": "reject"}));
    let Admit::Reject(r) = reject.route_body(&h, b"{oops", &env(&store)) else {
        panic!("not rejected");
    };
    assert_eq!(r.status, 400);
}

#[test]
fn a_leading_bom_is_tolerated_and_kept() {
    let config = compile(&minimal()).unwrap();
    let store = MemoryStore::new();
    let h = RequestHead {
        path: "/v1/chat/completions",
        task: Some("classify"),
        ..RequestHead::default()
    };
    let body = [b"\xEF\xBB\xBF".as_slice(), &chat("hello")].concat();
    let routed = forwarded(config.route_body(&h, &body, &env(&store)));
    assert!(routed.decision.untouched.is_none());
    let new_body = routed.new_body.clone().unwrap();
    assert!(new_body.starts_with(b"\xEF\xBB\xBF"));
    let parsed: Value = serde_json::from_slice(&new_body[3..]).unwrap();
    assert_eq!(parsed["model"], "small");
    assert_eq!(config.cluster_for(&routed.decision), Some("c_small"));
    let f = fields(&config, &routed);
    assert_eq!(field(&f, state::MODEL), Some("small"));
    assert_eq!(field(&f, state::REWRITTEN), Some("true"));
    assert_eq!(field(&f, state::PASS_REASON), None);
}

#[test]
fn header_only_routing_logs_no_model_it_did_not_write() {
    let config = config_with(|c| c["read_body"] = json!(false));
    let store = MemoryStore::new();
    let h = RequestHead {
        path: "/v1/chat/completions",
        task: Some("classify"),
        ..RequestHead::default()
    };
    let routed = forwarded(config.unrewritten(&h, PassReason::BodyNotRead, None, &env(&store)));
    // Routed by cluster, as `read_body: false` documents; the body is the client's.
    assert_eq!(config.cluster_for(&routed.decision), Some("c_small"));
    let f = fields(&config, &routed);
    assert_eq!(field(&f, state::TIER), Some("label"));
    assert_eq!(field(&f, state::MODEL), None);
    assert_eq!(field(&f, state::REWRITTEN), Some("false"));
    assert_eq!(field(&f, state::PASS_REASON), Some("body_not_read"));
    assert_eq!(field(&f, state::COST_USD), None);
}

// --- the client's `model` of a body passed through unparsed ------------------------------

use tier_router_core::bypass::ClientModelScanner;

/// The model the scanner reads from `body` fed whole, in every two-piece split, and byte by
/// byte; all must agree.
fn scanned(body: &[u8]) -> Option<String> {
    let mut whole = ClientModelScanner::new();
    whole.feed(body);
    let expected = whole.model().map(str::to_string);
    for cut in 0..=body.len() {
        let mut split = ClientModelScanner::new();
        split.feed(&body[..cut]);
        split.feed(&body[cut..]);
        assert_eq!(split.model(), expected.as_deref(), "split at {cut}");
    }
    let mut bytes = ClientModelScanner::new();
    for b in body {
        bytes.feed(std::slice::from_ref(b));
    }
    assert_eq!(bytes.model(), expected.as_deref(), "byte by byte");
    expected
}

#[test]
fn the_client_model_is_read_from_a_passing_body() {
    let cases: [(&[u8], Option<&str>); 14] = [
        (br#"{"model":"gpt-4o","messages":[]}"#, Some("gpt-4o")),
        // The SDKs write `messages` first: the model comes after the whole prompt.
        (
            br#"{"messages":[{"role":"user","content":"say \"model\": \"x\" {[\\"}],"model" : "gpt-4o"}"#,
            Some("gpt-4o"),
        ),
        (b"\xEF\xBB\xBF {\n \"model\" :\t\"m-1\" }", Some("m-1")),
        (br#"{"metadata":{"model":"inner"},"model":"outer"}"#, Some("outer")),
        (br#"{"metadata":{"model":"inner"}}"#, None),
        (br#"{"model":"first","x":1,"model":"last"}"#, Some("last")),
        (br#"{"model":"first","model":null}"#, None),
        (br#"{"model":42}"#, None),
        (br#"{"model":"gpt\u002d4o"}"#, None), // escaped: not guessed
        (br#"{"models":"a","mode":"b","model_x":"c"}"#, None),
        (br#"{"n":-1.5e3,"t":true,"model":"m"}"#, Some("m")),
        (br#"[{"model":"m"}]"#, None),
        (b"model=m", None),
        (br#"{"model":"gpt-4o","messages":[}"#, Some("gpt-4o")), // read up to where it breaks
    ];
    for (body, want) in cases {
        assert_eq!(
            scanned(body).as_deref(),
            want,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let long = format!(r#"{{"model":"{}"}}"#, "m".repeat(257));
    assert_eq!(scanned(long.as_bytes()), None);
}

#[test]
fn the_scanner_agrees_with_serde_on_generated_bodies() {
    // A small deterministic generator: objects with nested values, strings with escapes,
    // and `model` at varying places.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let pieces = [
        json!("plain"),
        json!("quote \" and \\ and {["),
        json!(12.5),
        json!(null),
        json!([1, {"model": "nested"}, "x]"]),
        json!({"model": {"model": "deep"}}),
    ];
    for _ in 0..300 {
        let mut object = serde_json::Map::new();
        let fields = next(5);
        let at = next(fields + 1);
        for i in 0..=fields {
            if i == at {
                object.insert("model".into(), json!(format!("model-{}", next(1000))));
            } else {
                object.insert(
                    format!("k{i}"),
                    pieces[next(pieces.len() as u64) as usize].clone(),
                );
            }
        }
        let body = Value::Object(object);
        let bytes = if next(2) == 0 {
            serde_json::to_vec(&body).unwrap()
        } else {
            serde_json::to_vec_pretty(&body).unwrap()
        };
        let want = body["model"].as_str().map(str::to_string);
        let mut scanner = ClientModelScanner::new();
        let cut = next(bytes.len() as u64 + 1) as usize;
        scanner.feed(&bytes[..cut]);
        scanner.feed(&bytes[cut..]);
        assert_eq!(scanner.model().map(str::to_string), want, "{body}");
        assert!(scanner.done());
    }
}

#[test]
fn invalid_json_logs_the_model_it_names() {
    let config = compile(&minimal()).unwrap();
    let store = MemoryStore::new();
    let routed = forwarded(config.route_body(
        &head("/v1/chat/completions"),
        br#"{"model":"big","messages":[}"#,
        &env(&store),
    ));
    let f = fields(&config, &routed);
    assert_eq!(field(&f, state::MODEL), Some("big"));
    assert_eq!(field(&f, state::PRICED_AS), Some("big"));
}

#[test]
fn a_shadow_line_says_which_model_the_upstream_received() {
    let config = config_with(|c| c["rollout"] = json!({"mode": "shadow"}));
    let store = MemoryStore::new();
    let h = RequestHead {
        path: "/v1/chat/completions",
        task: Some("classify"),
        ..RequestHead::default()
    };
    let routed = forwarded(config.route_body(&h, &chat("hello"), &env(&store)));
    assert_eq!(routed.new_body, None);
    assert_eq!(config.cluster_for(&routed.decision), None);
    let f = fields(&config, &routed);
    // The decision that was not served, and what was sent instead.
    assert_eq!(field(&f, state::MODEL), Some("small"));
    assert_eq!(field(&f, state::SHADOW), Some("true"));
    assert_eq!(field(&f, state::REWRITTEN), Some("false"));
    assert_eq!(field(&f, state::PASS_REASON), Some("shadow"));
    assert_eq!(field(&f, state::SENT_MODEL), Some("client-model"));
    // A served decision needs no such field.
    let served = compile(&minimal()).unwrap();
    let routed = forwarded(served.route_body(&h, &chat("hello"), &env(&store)));
    assert_eq!(field(&fields(&served, &routed), state::SENT_MODEL), None);
}
