//! Failover within a tier, natively: which failures move a request on, the next model it
//! tries, the body edited for that model, Retry-After, and model health shared in the store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use serde_json::{json, Value};
use tier_router_core::failover::{Attempt, Failure, KeptBody, Next};
use tier_router_core::health::{after_failure, retry_after_seconds, Health};
use tier_router_core::store::MemoryStore;
use tier_router_core::{Config, Decision, Env, RequestHead};

const S: u64 = 1_000_000_000;
const NOW: u64 = 1_700_000_000 * S;

/// A tier `trio` of three models (the last a reasoning model with a profile), a fallback.
fn config(tier: Value) -> Config {
    let mut doc = json!({
        "fallback_model": "spare",
        "models": [
            {"name": "a", "cluster": "ca", "price_per_1m": {"input": 1.0, "output": 2.0}},
            {"name": "b", "cluster": "cb"},
            {"name": "r", "cluster": "cr", "profile": "reasoning"},
            {"name": "spare", "cluster": "cs"}
        ],
        "profiles": {"reasoning": {"completion_cap": "max_completion_tokens", "drop": ["temperature"]}},
        "tiers": [{"name": "trio", "models": ["a", "b", "r"], "cues": {"one word": 3}}],
        "sessions": {"enabled": true},
        "policies": {"unhealthy_seconds": 30, "max_retry_after_seconds": 120, "eject_after_failures": 3}
    });
    for (k, v) in tier.as_object().unwrap() {
        doc["tiers"][0][k] = v.clone();
    }
    common::compile(&doc).unwrap()
}

const BODY: &[u8] = br#"{"model":"x","max_tokens":50,"temperature":0.2,"messages":[{"role":"user","content":"one word"}]}"#;

fn head(session: Option<&str>) -> RequestHead<'_> {
    RequestHead {
        path: "/v1/chat/completions",
        // A named task wins over a pin: sessions are classified (`one word` is trio's cue).
        task: session.is_none().then_some("trio"),
        session,
        request_id: Some("req-1"),
        ..RequestHead::default()
    }
}

fn decide(config: &Config, store: &MemoryStore, session: Option<&str>) -> Decision {
    let env = Env { store, now_ns: NOW };
    config.route_in(&head(session), Some(BODY), &env).decision
}

fn id(config: &Config, name: &str) -> tier_router_core::config::ModelId {
    config.model_id(name).unwrap()
}

#[test]
fn statuses_and_envoy_replies_are_classified() {
    assert_eq!(Failure::of_response(200, true, "via_upstream"), None);
    assert_eq!(Failure::of_response(400, true, "via_upstream"), None);
    assert_eq!(
        Failure::of_response(429, true, "via_upstream"),
        Some(Failure::Status(429))
    );
    assert_eq!(
        Failure::of_response(500, true, "via_upstream"),
        Some(Failure::Status(500))
    );
    let refused = "upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_Connection_refused}";
    assert_eq!(
        Failure::of_response(503, false, refused),
        Some(Failure::ConnectFailure)
    );
    let reset = "upstream_reset_before_response_started{connection_termination}";
    assert_eq!(
        Failure::of_response(503, false, reset),
        Some(Failure::Reset)
    );
    assert_eq!(
        Failure::of_response(504, false, "upstream_response_timeout"),
        Some(Failure::Timeout)
    );
    assert_eq!(Failure::Status(429).reason(), "rate_limited");
    assert_eq!(Failure::Status(503).reason(), "server_error");
    assert!(Failure::REASONS.contains(&Failure::StreamIdle.reason()));
}

#[test]
fn a_callout_answer_that_does_not_parse_is_a_failure() {
    let json = Some("application/json");
    assert_eq!(
        Failure::of_callout(Some(200), true, json, b"{\"ok\":1}"),
        None
    );
    assert_eq!(
        Failure::of_callout(Some(200), true, json, b"<html>oops"),
        Some(Failure::BadAnswer)
    );
    // A stream is taken as sent.
    assert_eq!(
        Failure::of_callout(Some(200), true, Some("text/event-stream"), b"data: {\n\n"),
        None
    );
    // Envoy's async client answers its own failures as local replies.
    assert_eq!(
        Failure::of_callout(None, false, None, b""),
        Some(Failure::Reset)
    );
    assert_eq!(
        Failure::of_callout(Some(504), false, None, b"upstream request timeout"),
        Some(Failure::Timeout)
    );
    let refused = b"upstream connect error or disconnect/reset before headers. reset reason: remote connection failure";
    assert_eq!(
        Failure::of_callout(Some(503), false, None, refused),
        Some(Failure::ConnectFailure)
    );
    assert_eq!(
        Failure::of_callout(Some(503), true, json, b"{}"),
        Some(Failure::Status(503))
    );
}

#[test]
fn the_next_attempt_follows_the_tier_order_and_skips_cooling_models() {
    let config = config(json!({}));
    let store = MemoryStore::new();
    let first = decide(&config, &store, None);
    assert_eq!(first.model, id(&config, "a"));
    let next = config.next_attempt(&first, &[id(&config, "a")], NOW, &store);
    assert_eq!(next, Next::Try(id(&config, "b")));
    // `b` cooling down: `r` is next.
    config.record_failure(id(&config, "b"), Failure::Status(503), None, NOW, &store);
    let next = config.next_attempt(&first, &[id(&config, "a")], NOW, &store);
    assert_eq!(next, Next::Try(id(&config, "r")));
    // max_attempts (3) bounds the attempts.
    let tried = [id(&config, "a"), id(&config, "b"), id(&config, "r")];
    assert_eq!(
        config.next_attempt(&first, &tried, NOW, &store),
        Next::GiveUp
    );
}

#[test]
fn with_every_model_tried_the_fallback_gets_a_last_attempt_or_the_tier_refuses() {
    let store = MemoryStore::new();
    let fallback = config(json!({"failover": {"max_attempts": 8}}));
    let d = decide(&fallback, &store, None);
    let tried = [id(&fallback, "a"), id(&fallback, "b"), id(&fallback, "r")];
    assert_eq!(
        fallback.next_attempt(&d, &tried, NOW, &store),
        Next::Try(id(&fallback, "spare"))
    );
    let with_spare = [tried.as_slice(), &[id(&fallback, "spare")]].concat();
    assert_eq!(
        fallback.next_attempt(&d, &with_spare, NOW, &store),
        Next::GiveUp
    );
    let error = config(json!({"on_tier_down": "error", "failover": {"max_attempts": 8}}));
    let d = decide(&error, &store, None);
    assert_eq!(error.next_attempt(&d, &tried, NOW, &store), Next::TierDown);
    assert!(error.tier_down_body(&d).contains("\"code\":\"tier_down\""));
}

#[test]
fn failover_can_be_turned_off_and_only_listed_statuses_move_on() {
    let store = MemoryStore::new();
    let off = config(json!({"failover": {"enabled": false}}));
    let d = decide(&off, &store, None);
    assert!(!off.may_fail_over(&d));
    assert!(!off.moves_on(&d, Failure::Status(429)));
    assert_eq!(off.next_attempt(&d, &[d.model], NOW, &store), Next::GiveUp);
    let only_429 = config(json!({"failover": {"on_status": [429]}}));
    let d = decide(&only_429, &store, None);
    assert!(only_429.may_fail_over(&d));
    assert!(only_429.moves_on(&d, Failure::Status(429)));
    assert!(!only_429.moves_on(&d, Failure::Status(500)));
    // Envoy's 503 for a refused connection counts as the 503 it is.
    assert!(!only_429.moves_on(&d, Failure::ConnectFailure));
    // Bytes already went to the client: a cut stream never moves on.
    assert!(!only_429.moves_on(&d, Failure::StreamCut));
}

#[test]
fn the_body_is_edited_again_for_each_model() {
    let config = config(json!({"token_floor": {"min": 100}}));
    let store = MemoryStore::new();
    let env = Env {
        store: &store,
        now_ns: NOW,
    };
    let routed = config.route_in(&head(None), Some(BODY), &env);
    let first: Value = serde_json::from_slice(routed.new_body.as_ref().unwrap()).unwrap();
    assert_eq!(first["model"], "a");
    assert_eq!(first["max_tokens"], 100);
    let mut kept = KeptBody::new(BODY.to_vec());
    let (decision, body) = config
        .retarget(&routed.decision, id(&config, "r"), &mut kept)
        .unwrap();
    assert_eq!(decision.model, id(&config, "r"));
    let next: Value = serde_json::from_slice(&body).unwrap();
    // The reasoning model's profile: the cap renamed, temperature dropped, the floor kept.
    assert_eq!(next["model"], "r");
    assert_eq!(next["max_completion_tokens"], 100);
    assert!(next.get("max_tokens").is_none() && next.get("temperature").is_none());
    assert_eq!(next["messages"], first["messages"]);
    // Edited from the client's bytes, not the first attempt's: back to `b`, nothing dropped.
    let (_, back) = config
        .retarget(&routed.decision, id(&config, "b"), &mut kept)
        .unwrap();
    let back: Value = serde_json::from_slice(&back).unwrap();
    assert_eq!(
        (back["model"].as_str(), back["temperature"].as_f64()),
        (Some("b"), Some(0.2))
    );
}

#[test]
fn retry_after_takes_seconds_or_an_http_date() {
    let now_s = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
    assert_eq!(retry_after_seconds("120", now_s), Some(120));
    assert_eq!(retry_after_seconds(" 0 ", now_s), Some(0));
    assert_eq!(
        retry_after_seconds("Sun, 06 Nov 1994 08:50:07 GMT", now_s),
        Some(30)
    );
    // A date in the past means now.
    assert_eq!(
        retry_after_seconds("Sun, 06 Nov 1994 08:00:00 GMT", now_s),
        Some(0)
    );
    assert_eq!(
        retry_after_seconds("Thu, 01 Jan 2026 00:00:00 GMT", 1_767_225_600 - 10),
        Some(10)
    );
    for bad in [
        "",
        "soon",
        "-5",
        "1.5",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 32 Nov 1994 08:49:37 GMT",
    ] {
        assert_eq!(retry_after_seconds(bad, now_s), None, "{bad:?}");
    }
    assert_eq!(
        retry_after_seconds("99999999999999999999999", now_s),
        Some(u64::MAX)
    );
}

#[test]
fn health_cools_hard_failures_at_once_and_ejects_after_soft_ones() {
    let fresh = Health::default();
    let cool = |h, f, ra| after_failure(h, f, ra, NOW, 30, 120, 3);
    // Retry-After on a 429 or 503, capped.
    assert_eq!(
        cool(fresh, Failure::Status(429), Some(10)).cooling_until_ns,
        NOW + 10 * S
    );
    assert_eq!(
        cool(fresh, Failure::Status(503), Some(9999)).cooling_until_ns,
        NOW + 120 * S
    );
    // Not on a 500: the default cool-down.
    assert_eq!(
        cool(fresh, Failure::Status(500), Some(10)).cooling_until_ns,
        NOW + 30 * S
    );
    assert_eq!(
        cool(fresh, Failure::ConnectFailure, None).cooling_until_ns,
        NOW + 30 * S
    );
    // Soft failures count; the third in a row ejects.
    let once = cool(fresh, Failure::StreamCut, None);
    let twice = cool(once, Failure::BadAnswer, None);
    assert!(!twice.is_cooling(NOW));
    let thrice = cool(twice, Failure::StreamIdle, None);
    assert_eq!(
        (thrice.failures, thrice.cooling_until_ns),
        (3, NOW + 30 * S)
    );
}

#[test]
fn health_is_shared_in_the_store_and_a_success_clears_it() {
    let config = config(json!({}));
    let store = MemoryStore::new();
    let a = id(&config, "a");
    config.record_failure(a, Failure::Status(429), Some(5), NOW, &store);
    assert!(!config.is_healthy(a, NOW, &store));
    assert!(!config.is_healthy(a, NOW + 4 * S, &store));
    assert!(config.is_healthy(a, NOW + 5 * S, &store));
    config.record_failure(a, Failure::StreamCut, None, NOW, &store);
    assert_eq!(config.health(a, &store).failures, 2);
    config.record_success(a, &store);
    assert_eq!(config.health(a, &store), Health::default());
    assert!(config.is_healthy(a, NOW, &store));
}

#[test]
fn a_pinned_session_whose_model_cools_down_moves_and_its_pin_moves_too() {
    let config = config(json!({}));
    let store = MemoryStore::new();
    let first = decide(&config, &store, Some("s1"));
    assert_eq!(first.model, id(&config, "a"));
    config.record_failure(
        id(&config, "a"),
        Failure::Status(429),
        Some(60),
        NOW,
        &store,
    );
    let later = decide(&config, &store, Some("s1"));
    assert_eq!(later.model, id(&config, "b"));
    // Once `a` is back, the session stays on `b`, where its conversation went on.
    config.record_success(id(&config, "a"), &store);
    assert_eq!(decide(&config, &store, Some("s1")).model, id(&config, "b"));
}

#[test]
fn a_tier_whose_every_model_cools_down_goes_to_the_fallback_or_is_refused() {
    for (on_down, model, refused) in [("fallback", "spare", false), ("error", "a", true)] {
        let config = config(json!({"on_tier_down": on_down}));
        let store = MemoryStore::new();
        for m in ["a", "b", "r"] {
            config.record_failure(id(&config, m), Failure::Status(503), None, NOW, &store);
        }
        let d = decide(&config, &store, None);
        assert!(d.tier_down, "{on_down}");
        assert_eq!(d.model, id(&config, model), "{on_down}");
        assert_eq!(config.refuses(&d), refused, "{on_down}");
    }
}

#[test]
fn the_log_lists_every_attempt() {
    let config = config(json!({}));
    let attempts = [
        Attempt {
            model: id(&config, "a"),
            status: Some(429),
            from_upstream: true,
            failure: Some(Failure::Status(429)),
            latency_us: 1_500,
            cost_micro_usd: None,
        },
        Attempt {
            model: id(&config, "b"),
            status: Some(200),
            from_upstream: true,
            failure: None,
            latency_us: 20_250,
            cost_micro_usd: Some(130),
        },
    ];
    let json: Value = serde_json::from_str(&config.attempts_json(&attempts)).unwrap();
    assert_eq!(
        json,
        json!([
            {"model": "a", "status": "429", "outcome": "failed_over:rate_limited", "latency_ms": "1.500"},
            {"model": "b", "status": "200", "outcome": "served", "latency_ms": "20.250", "cost_usd": "0.000130"}
        ])
    );
    // Envoy's own reply, and a last attempt that failed but was served all the same.
    let failed = [
        Attempt {
            status: Some(503),
            from_upstream: false,
            failure: Some(Failure::ConnectFailure),
            ..attempts[0].clone()
        },
        Attempt {
            failure: Some(Failure::Status(500)),
            status: Some(500),
            cost_micro_usd: None,
            ..attempts[1].clone()
        },
    ];
    let json: Value = serde_json::from_str(&config.attempts_json(&failed)).unwrap();
    assert_eq!(json[0]["status"], "503 (envoy)");
    assert_eq!(json[0]["outcome"], "failed_over:connect_failure");
    assert_eq!(json[1]["outcome"], "failed:server_error");
    assert!(json[1].get("cost_usd").is_none());
}

#[test]
fn failover_settings_are_checked() {
    let bad = |failover: Value| {
        let mut doc = common::minimal();
        doc["tiers"][0]["failover"] = failover;
        common::compile(&doc).unwrap_err()
    };
    let e = bad(json!({"max_attempts": 0}));
    assert_eq!(e.field, "tiers[0].failover.max_attempts");
    let e = bad(json!({"on_status": [429, 404]}));
    assert_eq!(e.field, "tiers[0].failover.on_status[1]");
    let e = bad(json!({"callout_timeout_ms": 0}));
    assert_eq!(e.field, "tiers[0].failover.callout_timeout_ms");
    let e = bad(json!({"attempts": 2}));
    assert!(e.message.contains("attempts"), "{e}");
}

#[test]
fn a_passed_json_answer_must_run_from_brace_to_brace() {
    use tier_router_core::failover::JsonEnds;
    let ends = |chunks: &[&[u8]]| {
        let mut e = JsonEnds::default();
        chunks.iter().for_each(|c| e.feed(c));
        e.is_object()
    };
    assert!(ends(&[b"  {\"a\":", b"1}\n", b"  "]));
    assert!(!ends(&[b"<html>", b"</html>"]));
    assert!(!ends(&[b"{\"a\":", b"1"])); // truncated
    assert!(!ends(&[]));
}
