//! Tier policies, session pins, token floors, shadow mode and canary, through `route_in` with
//! a shared store, as the filter calls it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use serde_json::{json, Value};
use tier_router_core::store::MemoryStore;
use tier_router_core::{Config, Env, RequestHead, Side, Source};

/// Three models in one `pool` tier with the given policy settings.
fn pool_config(tier: Value) -> Config {
    let mut config = json!({
        "fallback_model": "mini",
        "models": [
            {"name": "a", "cluster": "ca", "price_per_1m": {"input": 5.0, "output": 10.0}},
            {"name": "b", "cluster": "cb", "price_per_1m": {"input": 0.5, "output": 40.0}},
            {"name": "c", "cluster": "cc", "price_per_1m": {"input": 1.0, "output": 2.0}},
            {"name": "mini", "cluster": "cm"}
        ],
        "tiers": [{"name": "pool", "models": ["a", "b", "c"], "cues": {"one word": 3}}],
        "sessions": {"enabled": true}
    });
    for (k, v) in tier.as_object().unwrap() {
        config["tiers"][0][k] = v.clone();
    }
    common::compile(&config).unwrap()
}

fn head<'a>(
    task: Option<&'a str>,
    session: Option<&'a str>,
    request_id: &'a str,
) -> RequestHead<'a> {
    RequestHead {
        path: "/v1/chat/completions",
        task,
        session,
        request_id: Some(request_id),
        ..RequestHead::default()
    }
}

fn model_of(config: &Config, head: &RequestHead<'_>, body: &[u8], env: &Env<'_>) -> String {
    config
        .model(config.route_in(head, Some(body), env).decision.model)
        .name
        .clone()
}

#[test]
fn priority_takes_the_first_healthy_model() {
    let config = pool_config(json!({"policy": "priority"}));
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 1_000,
    };
    let body = common::chat("x");
    assert_eq!(
        model_of(&config, &head(Some("pool"), None, "r1"), &body, &env),
        "a"
    );
    config.mark_unhealthy(config.model_id("a").unwrap(), 1_000, &store);
    assert_eq!(
        model_of(&config, &head(Some("pool"), None, "r2"), &body, &env),
        "b"
    );
    // After `unhealthy_seconds` (30 s by default) it is tried again.
    let later = Env {
        store: &store,
        now_ns: 1_000 + 31_000_000_000,
    };
    assert_eq!(
        model_of(&config, &head(Some("pool"), None, "r3"), &body, &later),
        "a"
    );
}

#[test]
fn cheapest_depends_on_the_request_size() {
    let config = pool_config(json!({"policy": "cheapest", "expected_output_tokens": 100}));
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 0,
    };
    // Long prompt, short answer: the cheap-input model b wins.
    let long =
        json!({"max_tokens": 1, "messages": [{"role": "user", "content": "x".repeat(40_000)}]})
            .to_string();
    assert_eq!(
        model_of(
            &config,
            &head(Some("pool"), None, "r"),
            long.as_bytes(),
            &env
        ),
        "b"
    );
    // Short prompt, long answer: the cheap-output model c wins.
    let short =
        json!({"max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let routed = config.route_in(&head(Some("pool"), None, "r"), Some(short.as_bytes()), &env);
    assert_eq!(config.model(routed.decision.model).name, "c");
    let candidates: Vec<&str> = routed
        .decision
        .candidates
        .iter()
        .map(|m| config.model(*m).name.as_str())
        .collect();
    assert_eq!(candidates, ["c", "a", "b"]);
}

#[test]
fn fastest_ttft_learns_the_fast_model() {
    let config = pool_config(json!({"policy": "fastest_ttft"}));
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 0,
    };
    let ttft = |name: &str| match name {
        "a" => 300.0,
        "b" => 40.0,
        _ => 120.0,
    };
    let mut served = Vec::new();
    for i in 0..200 {
        let request_id = format!("req-{i}");
        let model = model_of(&config, &head(Some("pool"), None, &request_id), b"{}", &env);
        config.record_ttft(config.model_id(&model).unwrap(), ttft(&model), &store);
        served.push(model);
    }
    // Every model is learned first, then the fast one takes all but the exploration share.
    let last_100 = &served[100..];
    let fast = last_100.iter().filter(|m| *m == "b").count();
    assert!(fast >= 80, "b served {fast} of the last 100: {last_100:?}");
    for name in ["a", "c"] {
        assert!(served.iter().any(|m| m == name), "{name} was never tried");
    }
}

#[test]
fn weighted_splits_by_percent() {
    let config = pool_config(json!({"policy": "weighted", "weights": {"a": 80, "c": 20}}));
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 0,
    };
    let picks: Vec<String> = (0..2000)
        .map(|i| {
            model_of(
                &config,
                &head(Some("pool"), None, &format!("id-{i}")),
                b"{}",
                &env,
            )
        })
        .collect();
    let a = picks.iter().filter(|m| *m == "a").count();
    assert!((1500..=1700).contains(&a), "a took {a} of 2000");
    assert!(!picks.iter().any(|m| m == "b"));
}

#[test]
fn weights_must_name_tier_models() {
    let mut config = common::minimal();
    config["tiers"][0]["policy"] = json!("weighted");
    config["tiers"][0]["weights"] = json!({"big": 100});
    let err = common::compile(&config).unwrap_err();
    assert_eq!(err.field, "tiers[0].weights.big");
    config["tiers"][0]["policy"] = json!("fastest");
    let err = common::compile(&config).unwrap_err();
    assert!(
        err.message.contains("unknown variant `fastest`"),
        "{}",
        err.message
    );
}

#[test]
fn a_session_keeps_its_first_decision() {
    let config = common::default_config();
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 5_000_000_000,
    };
    let label = common::chat("Classify the sentiment. Answer with only one word.");
    let analysis = common::chat("Prove step by step that 7 is prime.");
    let first = config
        .route_in(&head(None, Some("s-1"), "r1"), Some(&label), &env)
        .decision;
    assert_eq!(
        (config.tier_name(&first), first.source),
        ("label", Source::Classifier)
    );
    let second = config
        .route_in(&head(None, Some("s-1"), "r2"), Some(&analysis), &env)
        .decision;
    assert_eq!(
        (config.tier_name(&second), second.source),
        ("label", Source::Session)
    );
    // Another session is classified on its own.
    let other = config
        .route_in(&head(None, Some("s-2"), "r3"), Some(&analysis), &env)
        .decision;
    assert_eq!(config.tier_name(&other), "analysis");
    // An explicit task wins over the pin and re-pins.
    let explicit = config
        .route_in(&head(Some("reason"), Some("s-1"), "r4"), Some(&label), &env)
        .decision;
    assert_eq!(
        (config.tier_name(&explicit), explicit.source),
        ("analysis", Source::Header)
    );
    let after = config
        .route_in(&head(None, Some("s-1"), "r5"), Some(&label), &env)
        .decision;
    assert_eq!(
        (config.tier_name(&after), after.source),
        ("analysis", Source::Session)
    );
}

#[test]
fn a_get_does_not_pin_the_session() {
    let config = common::default_config();
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: 0,
    };
    config.route_in(&head(None, Some("s"), "r1"), Some(b""), &env);
    let next = config.route_in(
        &head(None, Some("s"), "r2"),
        Some(&common::chat("Prove it step by step.")),
        &env,
    );
    assert_eq!(next.decision.source, Source::Classifier);
}

#[test]
fn the_token_floor_raises_but_never_lowers() {
    let config = common::default_config();
    let route = |body: Value, path: &str| {
        let routed = config.route(
            &RequestHead {
                path,
                task: Some("analysis"),
                session: None,
                request_id: None,
                ..RequestHead::default()
            },
            Some(body.to_string().as_bytes()),
        );
        let sent: Value = routed
            .new_body
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or(body);
        (sent, routed.decision.floor_applied)
    };
    // Every cap below the floor is raised, none lowered (Completions takes both fields as sent).
    let (sent, floor) = route(
        json!({"model": "m", "max_tokens": 100, "max_completion_tokens": 9000}),
        "/v1/completions",
    );
    assert_eq!(
        (
            sent["max_tokens"].clone(),
            sent["max_completion_tokens"].clone(),
            floor
        ),
        (json!(4096), json!(9000), Some(4096))
    );
    // The reasoning model takes `max_completion_tokens` only: `max_tokens` is renamed to it
    // before the floor raises it, or dropped when the client sent both.
    let (sent, floor) = route(
        json!({"model": "m", "max_tokens": 100}),
        "/v1/chat/completions",
    );
    assert_eq!(
        (sent, floor),
        (
            json!({"model": "reasoning-large", "max_completion_tokens": 4096}),
            Some(4096)
        )
    );
    let (sent, floor) = route(
        json!({"model": "m", "max_tokens": 100, "max_completion_tokens": 9000}),
        "/v1/chat/completions",
    );
    assert_eq!(
        (sent, floor),
        (
            json!({"model": "reasoning-large", "max_completion_tokens": 9000}),
            None
        )
    );
    let (sent, floor) = route(json!({"model": "m"}), "/v1/chat/completions");
    assert_eq!(
        (sent["max_completion_tokens"].clone(), floor),
        (json!(4096), Some(4096))
    );
    let (sent, _) = route(json!({"model": "m"}), "/v1/responses");
    assert_eq!(sent["max_output_tokens"], 4096);
    let (sent, floor) = route(json!({"model": "m", "max_tokens": 5000}), "/v1/messages");
    assert_eq!((sent["max_tokens"].clone(), floor), (json!(5000), None));
    // Tiers without a floor leave caps alone.
    let routed = config.route(
        &RequestHead {
            path: "/v1/chat/completions",
            task: Some("label"),
            session: None,
            request_id: None,
            ..RequestHead::default()
        },
        Some(br#"{"model":"small-instruct","max_tokens":3}"#),
    );
    assert_eq!(
        (routed.new_body, routed.decision.floor_applied),
        (None, None)
    );
}

#[test]
fn shadow_mode_decides_but_leaves_the_body_alone() {
    let mut raw = common::minimal();
    raw["rollout"] = json!({"mode": "shadow"});
    let config = common::compile(&raw).unwrap();
    let body = br#"{"model":"client","stream":true,"messages":[{"role":"user","content":"one word please"}]}"#;
    let routed = config.route(&head(None, None, "r"), Some(body));
    assert_eq!(routed.new_body, None);
    assert_eq!(routed.decision.side, Side::Shadow);
    assert_eq!(config.tier_name(&routed.decision), "label");
}

#[test]
fn canary_splits_sessions_deterministically() {
    let mut raw = common::minimal();
    raw["rollout"] = json!({"canary_percent": 20});
    let config = common::compile(&raw).unwrap();
    let side = |session: &str, request: &str| {
        config
            .route(&head(Some("label"), Some(session), request), Some(b"{}"))
            .decision
            .side
    };
    let routed = (0..5000)
        .filter(|i| side(&format!("session-{i}"), "r1") == Side::Routed)
        .count();
    assert!(
        (900..=1100).contains(&routed),
        "{routed} of 5000 sessions routed"
    );
    for i in 0..200 {
        let session = format!("session-{i}");
        assert_eq!(
            side(&session, "first"),
            side(&session, "second"),
            "{session} changed sides"
        );
    }
}

#[test]
fn a_million_sessions_leave_the_pin_store_bounded() {
    // The default `max_sessions`: 100,000 slots in 4-way buckets, one store key per bucket.
    let store = MemoryStore::new();
    let pins =
        tier_router_core::session::PinStore::new(&store, 100_000, 1800, 1, Default::default());
    let pin = tier_router_core::session::Pin {
        tier: None,
        model: tier_router_core::config::ModelId(0),
    };
    for i in 0..1_000_000u32 {
        pins.pin(
            &format!("client-invented-session-{i}"),
            pin,
            1_000 + u64::from(i / 1000),
        );
    }
    assert_eq!(store.len(), 25_000);
    // 16 bytes a slot plus the key: about 2 MB of data however many sessions arrive.
    let bytes = store.bytes();
    assert!(
        bytes <= 25_000 * (4 * 16 + "tier_router.pins.24999".len()),
        "{bytes}"
    );
    println!(
        "pin store after 1,000,000 sessions: {} keys, {bytes} bytes of keys and values",
        store.len()
    );
}
