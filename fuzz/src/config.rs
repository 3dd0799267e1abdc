//! Config parsing: `Config::from_json` never panics, every error names where it is, and a
//! valid config means the same when written out again.

use arbitrary::{Arbitrary, Unstructured};
use serde_json::Value;
use std::sync::OnceLock;
use tier_router_core::Config;

use crate::json;
use crate::route;

/// One change to the default config.
#[derive(Debug, Arbitrary)]
pub enum Edit {
    /// Replace the node at `path` (an index into the default config's nodes) with `value`.
    Set { path: u16, value: json::Value },
    /// Remove the node at `path` from its object or array.
    Remove { path: u16 },
    /// Add `key: value` to the object at `path`.
    Insert {
        path: u16,
        key: json::Text,
        value: json::Value,
    },
}

/// Every node of the shipped default config, as JSON pointers.
fn default_paths() -> &'static (Value, Vec<String>) {
    static PATHS: OnceLock<(Value, Vec<String>)> = OnceLock::new();
    PATHS.get_or_init(|| {
        let doc: Value = serde_json::from_slice(include_bytes!("../../envoy/tier-router.json"))
            .expect("the shipped config is JSON");
        let mut paths = Vec::new();
        collect(&doc, String::new(), &mut paths);
        (doc, paths)
    })
}

fn collect(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                collect(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `data`: first byte even: the rest is the config as bytes; odd: edits of the default config.
pub fn check(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check_document(rest);
        return;
    }
    let Ok(edits) = Vec::<Edit>::arbitrary_take_rest(Unstructured::new(rest)) else {
        return;
    };
    let (default, paths) = default_paths();
    let mut doc = default.clone();
    for edit in edits.iter().take(8) {
        apply(&mut doc, paths, edit);
    }
    check_document(doc.to_string().as_bytes());
}

fn apply(doc: &mut Value, paths: &[String], edit: &Edit) {
    let pick = |i: &u16| &paths[usize::from(*i) % paths.len()];
    match edit {
        Edit::Set { path, value } => {
            if let (Some(node), Ok(v)) = (doc.pointer_mut(pick(path)), parse(value)) {
                *node = v;
            }
        }
        Edit::Remove { path } => {
            let path = pick(path);
            let Some((parent, last)) = path.rsplit_once('/') else {
                return;
            };
            match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        if i < items.len() {
                            items.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
        Edit::Insert { path, key, value } => {
            let key = match parse(&json::Value::Str(key.clone())) {
                Ok(Value::String(k)) => k,
                _ => return,
            };
            if let (Some(Value::Object(map)), Ok(v)) = (doc.pointer_mut(pick(path)), parse(value)) {
                map.insert(key, v);
            }
        }
    }
}

fn parse(value: &json::Value) -> serde_json::Result<Value> {
    serde_json::from_str(&json::value_json(value))
}

fn check_document(bytes: &[u8]) {
    let text = || String::from_utf8_lossy(bytes).into_owned();
    match Config::from_json(bytes) {
        Err(e) => {
            assert!(
                !e.message.is_empty(),
                "an error without a message\n{}",
                text()
            );
            let doc = serde_json::from_slice::<Value>(bytes).ok();
            if let Some(Value::Object(map)) = &doc {
                check_error_field(map, &e.field, &e.message, &text);
            }
        }
        Ok(config) => {
            check_valid(&config, bytes, &text);
        }
    }
}

/// An error in an object document names a field: one under a top-level key of the
/// document, or the whole document for a missing required field.
fn check_error_field(
    doc: &serde_json::Map<String, Value>,
    field: &str,
    message: &str,
    text: &dyn Fn() -> String,
) {
    if field.is_empty() || field == "." {
        // A missing field is missing from the whole document; an unknown field named ``
        // has the empty name.
        assert!(
            message.contains("missing field") || message.contains("unknown field ``"),
            "error `{message}` names no field\n{}",
            text()
        );
        return;
    }
    // Keys may contain `.` (path prefixes do): match whole top-level keys, not segments. A
    // path names a key as decoded (`tasks.x`) or as written in the document (`\u0001`).
    let ends_segment =
        |rest: &str| rest.is_empty() || rest.starts_with('.') || rest.starts_with('[');
    let literal = doc
        .keys()
        .any(|k| field.strip_prefix(k.as_str()).is_some_and(ends_segment));
    let as_written = field
        .char_indices()
        .map(|(i, _)| i)
        .chain([field.len()])
        .filter(|i| ends_segment(&field[*i..]))
        .any(|i| {
            serde_json::from_str::<String>(&format!("\"{}\"", &field[..i]))
                .is_ok_and(|key| doc.contains_key(&key))
        });
    let under_a_key = literal || as_written;
    assert!(
        under_a_key || message.contains("missing field"),
        "error at `{field}` ({message}) is under no field of the document\n{}",
        text()
    );
}

/// A valid config: written out again (pretty-printed) it means the same; requests route
/// through it with the rewrite properties intact.
fn check_valid(config: &Config, bytes: &[u8], text: &dyn Fn() -> String) {
    crate::bounds::check(config, text);
    let respaced = respace(bytes);
    match Config::from_json(&respaced) {
        Ok(again) => assert_eq!(
            summary(config),
            summary(&again),
            "the config means something else with other whitespace\n{}",
            text()
        ),
        Err(e) => panic!(
            "the config is invalid with other whitespace: {e}\n{}",
            text()
        ),
    }
    for (selector, body) in PROBES.iter().enumerate() {
        route::check(config, &route::head(selector as u8 * 7), body.as_bytes());
    }
}

/// The document with its whitespace outside strings replaced (keys keep their order and
/// strings their escapes, which a parse and re-serialisation would not).
fn respace(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b',' | b'{' | b'[' => out.extend_from_slice(&[b, b'\n', b' ', b' ']),
            b':' => out.extend_from_slice(b" :\t"),
            _ => out.push(b),
        }
    }
    out
}

/// Requests routed through every valid config.
const PROBES: &[&str] = &[
    r#"{"model":"m","messages":[{"role":"user","content":"classify the sentiment, one word"}]}"#,
    r#"{"messages":[{"role":"system","content":"prove step by step"}],"stream":true,"max_tokens":5}"#,
    r#"{"input":"let's chat","max_output_tokens":1}"#,
    "{}",
];

/// Everything a config decides, except the text fingerprint and the compiled automaton
/// (which the probes exercise instead).
fn summary(c: &Config) -> String {
    let probes: Vec<String> = PROBES
        .iter()
        .map(|body| format!("{:?}", c.route(&route::head(0), Some(body.as_bytes()))))
        .collect();
    format!(
        "{:?} {:?}",
        (
            &c.headers,
            &c.task_query_param,
            c.max_body_bytes,
            c.read_body,
            &c.models,
            &c.tiers,
            c.fallback_model,
            c.baseline_model,
            c.request_stream_usage,
            c.decision_headers,
        ),
        (
            c.filter_state,
            &c.tasks,
            &c.paths,
            &c.sessions,
            c.rollout,
            c.tuning,
            probes,
        )
    )
}
