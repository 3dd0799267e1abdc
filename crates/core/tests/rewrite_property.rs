//! Property: whatever object a client sends, the rewritten body is valid JSON and equals the
//! original plus exactly the fields the router owns (`model`, `stream_options.include_usage`,
//! the token floor, the reasoning model's profile: `max_tokens` renamed to
//! `max_completion_tokens`, `temperature` and `top_p` dropped). Bodies are generated with random
//! keys and values, nested objects and arrays, random whitespace, and with or without each
//! owned field, for every API path.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tier_router_core::{Config, RequestHead};

const PATHS: [&str; 4] = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/messages",
];
const TASKS: [&str; 3] = ["label", "chat", "analysis"];
const CAPS: [&str; 3] = ["max_tokens", "max_completion_tokens", "max_output_tokens"];
/// Fields with a meaning to the router; random keys never take these names.
const KNOWN: [&str; 8] = [
    "model",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "temperature",
    "top_p",
];
/// No whitespace most often: edits that meet at one offset are the ones to get wrong.
const WHITESPACE: [&str; 8] = ["", "", "", " ", "\n", "\t", "\r\n  ", "   "];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        text().prop_map(Value::String),
    ]
}

/// Any characters: quotes, backslashes, control characters and non-ASCII need escapes.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..6).prop_map(String::from_iter)
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn cap() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        2 => (0u64..10_000).prop_map(|n| Some(Value::from(n))),
        1 => prop_oneof![Just(Value::Null), Just(json!("x")), Just(json!(1e3))].prop_map(Some),
    ]
}

/// The owned fields a body may carry, each absent or with a value of its usual or an odd type.
fn owned() -> impl Strategy<Value = Vec<(&'static str, Option<Value>)>> {
    let model = prop_oneof![
        2 => Just(None),
        2 => text().prop_map(|t| Some(Value::String(t))),
        1 => Just(Some(json!("small-instruct"))),
        1 => Just(Some(Value::Null)),
    ];
    let stream = prop_oneof![
        Just(None),
        Just(Some(json!(true))),
        Just(Some(json!(false)))
    ];
    let options = prop_oneof![
        2 => Just(None),
        1 => Just(Some(json!({}))),
        1 => Just(Some(json!({"include_usage": false}))),
        1 => Just(Some(json!({"x": [1, {"y": null}]}))),
        1 => Just(Some(Value::Null)),
    ];
    let sampling = prop_oneof![Just(None), (0.0f64..2.0).prop_map(|t| Some(Value::from(t)))];
    (
        model,
        stream,
        options,
        cap(),
        cap(),
        cap(),
        sampling.clone(),
        sampling,
    )
        .prop_map(|(m, s, o, a, b, c, t, p)| {
            vec![
                ("model", m),
                ("stream", s),
                ("stream_options", o),
                ("max_tokens", a),
                ("max_completion_tokens", b),
                ("max_output_tokens", c),
                ("temperature", t),
                ("top_p", p),
            ]
        })
}

/// A top-level object as (key, value) pairs in document order, keys unique.
fn members() -> impl Strategy<Value = Vec<(String, Value)>> {
    let random = prop::collection::vec((text(), value()), 0..6);
    let messages = prop_oneof![
        Just(None),
        Just(Some(json!([{"role": "user", "content": "hi"}]))),
        value().prop_map(Some),
    ];
    (random, owned(), messages, any::<u64>()).prop_map(|(random, owned, messages, seed)| {
        let mut out: Vec<(String, Value)> = Vec::new();
        for (k, v) in random {
            if !KNOWN.contains(&k.as_str()) && !out.iter().any(|(seen, _)| *seen == k) {
                out.push((k, v));
            }
        }
        if let Some(m) = messages {
            out.retain(|(k, _)| k != "messages");
            out.push(("messages".into(), m));
        }
        // Owned fields in a seeded order at seeded positions, half of them at the front: they
        // come first (where new members are spliced in), last and in between.
        let mut seed = seed;
        let mut next = || {
            seed = seed.rotate_right(7) ^ 0x9e37_79b9_7f4a_7c15;
            seed
        };
        let mut owned: Vec<(&str, Value)> = owned
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        for i in (1..owned.len()).rev() {
            owned.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        for (k, v) in owned {
            let at = if next() % 2 == 0 {
                0
            } else {
                (next() % (out.len() as u64 + 1)) as usize
            };
            out.insert(at, (k.to_string(), v));
        }
        out
    })
}

/// JSON text with whitespace from `ws` between every token.
struct Renderer<'a> {
    ws: &'a [usize],
    next: usize,
    out: String,
}

impl Renderer<'_> {
    fn space(&mut self) {
        let pick = self.ws.get(self.next % self.ws.len().max(1)).copied();
        self.next += 1;
        self.out
            .push_str(WHITESPACE[pick.unwrap_or(0) % WHITESPACE.len()]);
    }

    fn object<'v>(&mut self, members: impl Iterator<Item = (&'v String, &'v Value)>) {
        self.out.push('{');
        for (i, (k, v)) in members.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.space();
            self.out.push_str(&serde_json::to_string(k).unwrap());
            self.space();
            self.out.push(':');
            self.space();
            self.value(v);
            self.space();
        }
        self.out.push('}');
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Object(map) => self.object(map.iter()),
            Value::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.space();
                    self.value(item);
                }
                self.space();
                self.out.push(']');
            }
            leaf => self.out.push_str(&leaf.to_string()),
        }
    }
}

fn render(members: &[(String, Value)], ws: &[usize]) -> String {
    let mut r = Renderer {
        ws,
        next: 0,
        out: String::new(),
    };
    r.space();
    r.object(members.iter().map(|(k, v)| (k, v)));
    r.space();
    r.out
}

/// The model a task's request goes to on `path`: the tier's model when it serves the API,
/// else the fallback model (which serves all four in the default config).
fn model_for(path: &str, task: &str) -> &'static str {
    let openai_only = path.ends_with("/messages");
    let reasoning_apis = path.ends_with("/chat/completions") || path.ends_with("/responses");
    match task {
        "label" if !openai_only => "small-instruct",
        "chat" => "frontier-chat",
        "analysis" if reasoning_apis => "reasoning-large",
        _ => "general-mini",
    }
}

/// What the upstream must receive: the original object with the owned fields set as the
/// router's rules say, computed here independently of the router's code.
fn expected(original: &Map<String, Value>, path: &str, task: &str) -> Map<String, Value> {
    let mut out = original.clone();
    let model = model_for(path, task);
    out.insert("model".into(), json!(model));
    let streams_usage = path.ends_with("/chat/completions") || path.ends_with("/completions");
    if streams_usage && original.get("stream") == Some(&json!(true)) {
        match out.get_mut("stream_options") {
            Some(Value::Object(o)) => {
                o.entry("include_usage").or_insert(json!(true));
            }
            _ => {
                out.insert("stream_options".into(), json!({"include_usage": true}));
            }
        }
    }
    // The reasoning model's profile: `max_completion_tokens` only, no sampling parameters.
    if model == "reasoning-large" {
        if path.ends_with("/chat/completions") {
            if let Some(cap) = out.remove("max_tokens") {
                out.entry("max_completion_tokens").or_insert(cap);
            }
        }
        out.remove("temperature");
        out.remove("top_p");
    }
    if task == "analysis" {
        let present: Vec<&str> = CAPS.into_iter().filter(|c| out.contains_key(*c)).collect();
        if present.is_empty() {
            let field = if path.ends_with("/chat/completions") {
                "max_completion_tokens"
            } else if path.ends_with("/responses") {
                "max_output_tokens"
            } else {
                "max_tokens"
            };
            out.insert(field.into(), json!(4096));
        }
        for cap in present {
            if out[cap].as_u64().is_some_and(|n| n < 4096) {
                out.insert(cap.into(), json!(4096));
            }
        }
    }
    out
}

fn route(config: &Config, path: &str, task: &str, body: &[u8]) -> Vec<u8> {
    let head = RequestHead {
        path,
        task: Some(task),
        session: None,
        request_id: None,
        ..RequestHead::default()
    };
    config
        .route(&head, Some(body))
        .new_body
        .unwrap_or_else(|| body.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn rewritten_bodies_are_the_original_plus_the_owned_fields(
        members in members(),
        ws in prop::collection::vec(any::<usize>(), 1..16),
        path in prop::sample::select(&PATHS[..]),
        task in prop::sample::select(&TASKS[..]),
    ) {
        let config = common::default_config();
        let body = render(&members, &ws);
        let original: Map<String, Value> = serde_json::from_str(&body).unwrap();
        let sent = route(&config, path, task, body.as_bytes());
        let sent: Value = serde_json::from_slice(&sent).map_err(|e| {
            TestCaseError::fail(format!("invalid JSON upstream ({e}): {}", String::from_utf8_lossy(&sent)))
        })?;
        prop_assert_eq!(sent, Value::Object(expected(&original, path, task)), "body: {}", body);
    }
}

#[test]
fn the_issue_example_gives_valid_json() {
    // `x-task: analysis` with `{}` once sent `{"model":"reasoning-large""max_completion_tokens":4096}`.
    let config = common::default_config();
    for body in ["{}", " { } ", "{\n}"] {
        let sent = route(&config, "/v1/chat/completions", "analysis", body.as_bytes());
        let sent: Value = serde_json::from_slice(&sent).unwrap();
        assert_eq!(
            sent,
            json!({"model": "reasoning-large", "max_completion_tokens": 4096})
        );
    }
    let sent = route(
        &config,
        "/v1/chat/completions",
        "analysis",
        br#"{"stream":true}"#,
    );
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(
        sent,
        json!({"model": "reasoning-large", "stream": true,
               "stream_options": {"include_usage": true}, "max_completion_tokens": 4096})
    );
}
