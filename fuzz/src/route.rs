//! Request parse + rewrite: whatever the body, what the upstream receives is valid JSON equal
//! to the client's body except for the fields the router owns.

use serde_json::{Map, Value};
use std::sync::OnceLock;
use tier_router_core::config::ModelId;
use tier_router_core::{Config, RequestHead, Side};

/// Top-level fields the router may add, replace or remove: `model`, `stream_options`
/// (`include_usage`) and the completion-token caps (floor; renamed per model profile).
/// Extend this list when the router owns more. The parameters the chosen model's profile
/// drops (`profiles.*.drop`) are owned too: [`owned_fields`] adds them.
pub const OWNED_FIELDS: &[&str] = &[
    "model",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
];

/// The completion-token cap fields (never lowered by the router).
const CAP_FIELDS: &[&str] = &["max_tokens", "max_completion_tokens", "max_output_tokens"];

/// Every API path the router knows, a path-prefix task, and endpoints it must not rewrite.
pub const PATHS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/messages",
    "/api/classify/v1/chat/completions",
    "/api/analyze/v1/chat/completions",
    "/v1/chat/completions?task=analysis",
    "/v1/embeddings",
    "/v1/models",
];

/// No task header, each tier of the default config, an alias, and an unknown task.
pub const TASKS: &[Option<&str>] = &[
    None,
    Some("label"),
    Some("chat"),
    Some("analysis"),
    Some("code"),
    Some("nonsense"),
];

/// The shipped default config (envoy/tier-router.json).
pub fn default_config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let json = include_bytes!("../../envoy/tier-router.json");
        Config::from_json(json).expect("the shipped config is valid")
    })
}

/// The request head numbered `selector` (path x task x session).
pub fn head(selector: u8) -> RequestHead<'static> {
    let s = usize::from(selector);
    RequestHead {
        path: PATHS[s % PATHS.len()],
        task: TASKS[(s / PATHS.len()) % TASKS.len()],
        session: (s & 0x80 != 0).then_some("fuzz-session"),
        request_id: Some("fuzz-request"),
        ..RequestHead::default()
    }
}

/// Valid JSON (any value; numbers are checked for syntax, not range).
pub fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Box<serde_json::value::RawValue>>(bytes).is_ok()
}

/// Routes `body` and checks the rewrite properties.
pub fn check(config: &Config, head: &RequestHead<'_>, body: &[u8]) {
    let routed = config.route(head, Some(body));
    let Some(new_body) = &routed.new_body else {
        return;
    };
    let context = || {
        format!(
            "head {head:?}\nbody    {}\nrewrite {}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(new_body)
        )
    };
    assert_eq!(
        routed.decision.side,
        Side::Routed,
        "a shadowed decision rewrote the body\n{}",
        context()
    );
    assert!(
        is_json(new_body),
        "the rewrite is not valid JSON\n{}",
        context()
    );
    // serde_json's Value cannot hold a number out of f64 range (`1e400`), which is valid
    // JSON: such a body is checked for validity above, and field by field only when both
    // sides are Values.
    if let Ok(Value::Object(original)) = serde_json::from_slice::<Value>(body) {
        let new: Map<String, Value> = serde_json::from_slice(new_body).unwrap_or_else(|e| {
            panic!(
                "the rewrite of an object is not an object ({e})\n{}",
                context()
            )
        });
        let model = &config.model(routed.decision.model).name;
        assert_eq!(
            new.get("model").and_then(Value::as_str),
            Some(model.as_str()),
            "the rewrite does not name the chosen model\n{}",
            context()
        );
        let owned = owned_fields(config, routed.decision.model);
        assert_eq!(
            without(&original, &owned),
            without(&new, &owned),
            "the rewrite changed a field the router does not own\n{}",
            context()
        );
        check_owned(&original, &new, &context);
    }
    // Routing the rewritten body again changes nothing more (when the same model is chosen).
    let again = config.route(head, Some(new_body));
    if again.decision.model == routed.decision.model {
        assert_eq!(
            again.new_body.as_deref().map(String::from_utf8_lossy),
            None,
            "rewriting is not idempotent\n{}",
            context()
        );
    }
}

/// The fields the router may change for a request sent to `model`.
pub fn owned_fields(config: &Config, model: ModelId) -> Vec<&str> {
    let profile = &config.model(model).profile;
    let dropped = profile
        .drop
        .iter()
        .filter_map(|i| config.dropped_fields.get(*i))
        .map(String::as_str);
    OWNED_FIELDS.iter().copied().chain(dropped).collect()
}

fn without(object: &Map<String, Value>, owned: &[&str]) -> Map<String, Value> {
    let mut object = object.clone();
    for field in owned {
        object.remove(*field);
    }
    object
}

/// Owned fields change only as the router means them to.
fn check_owned(
    original: &Map<String, Value>,
    new: &Map<String, Value>,
    context: &dyn Fn() -> String,
) {
    if new.get("stream_options") != original.get("stream_options") {
        assert_eq!(
            new.get("stream_options")
                .and_then(|o| o.get("include_usage")),
            Some(&Value::Bool(true)),
            "stream_options changed but does not ask for usage\n{}",
            context()
        );
    }
    for field in CAP_FIELDS {
        let before = original.get(*field).and_then(Value::as_u64);
        let after = new.get(*field).and_then(Value::as_u64);
        if let (Some(before), Some(after)) = (before, after) {
            assert!(
                after >= before,
                "{field} was lowered from {before} to {after}\n{}",
                context()
            );
        }
    }
}
