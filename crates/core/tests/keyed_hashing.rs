//! The canary split, `weighted` picks and the session pin buckets hash with a keyed SipHash:
//! a client who does not know the key cannot choose its side, its model or its bucket; a
//! configured `hash_key` makes replicas agree; without one, each process uses its own key.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use serde_json::json;
use tier_router_core::config::ModelId;
use tier_router_core::hash::HashKey;
use tier_router_core::session::{Pin, PinStore};
use tier_router_core::store::MemoryStore;
use tier_router_core::{Config, RequestHead, Side};

const KEY: &str = "8f4e2b6a1c9d3e7f0a5b8c2d6e1f4a7b";

fn canary_config(hash_key: Option<&str>) -> Config {
    let mut raw = common::minimal();
    raw["rollout"] = json!({"canary_percent": 50});
    if let Some(key) = hash_key {
        raw["hash_key"] = json!(key);
    }
    common::compile(&raw).unwrap()
}

fn routed_sessions(config: &Config, sessions: usize) -> Vec<bool> {
    (0..sessions)
        .map(|i| {
            let session = format!("session-{i}");
            let head = RequestHead {
                path: "/v1/chat/completions",
                task: Some("label"),
                session: Some(&session),
                request_id: None,
                ..RequestHead::default()
            };
            config.route(&head, Some(b"{}")).decision.side == Side::Routed
        })
        .collect()
}

/// Two replicas with the same configured key put every session on the same side, whatever
/// random key each process has; the process key is not used for a configured hash.
#[test]
fn replicas_with_a_configured_key_agree() {
    let mut replica_a = canary_config(Some(KEY));
    let mut replica_b = canary_config(Some(KEY));
    replica_a.use_process_key(HashKey([1; 16]));
    replica_b.use_process_key(HashKey([2; 16]));
    assert_eq!(
        routed_sessions(&replica_a, 500),
        routed_sessions(&replica_b, 500)
    );
}

/// Without a configured key each process keys the split itself: two processes put many
/// sessions on different sides (which is why several replicas need `hash_key`).
#[test]
fn without_a_key_each_process_splits_its_own_way() {
    let mut process_a = canary_config(None);
    let mut process_b = canary_config(None);
    process_a.use_process_key(HashKey([1; 16]));
    process_b.use_process_key(HashKey([2; 16]));
    let (a, b) = (
        routed_sessions(&process_a, 500),
        routed_sessions(&process_b, 500),
    );
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    // Independent 50% splits disagree on about half the sessions.
    assert!((150..=350).contains(&differ), "{differ} of 500 differ");
    // Within one process a session keeps its side.
    assert_eq!(a, routed_sessions(&process_a, 500));
}

/// A client who can compute the hash (as with the old unkeyed FNV, or a known key) picks
/// session ids that all land in one pin bucket and evicts everyone else's pins there. Under
/// a key it does not know, the same ids spread over the buckets.
#[test]
fn ids_chosen_for_one_bucket_spread_under_an_unknown_key() {
    let known = HashKey::default();
    let secret = HashKey::from_hex(KEY).unwrap();
    let buckets = 1_000u64; // max_sessions 4000
    let bucket_of = |key: &HashKey, id: &str| (key.hash(id.as_bytes()) >> 32) % buckets;
    let chosen: Vec<String> = (0..)
        .map(|i| format!("attacker-{i}"))
        .filter(|id| bucket_of(&known, id) == 7)
        .take(40)
        .collect();
    let same_bucket = chosen
        .iter()
        .filter(|id| bucket_of(&secret, id) == 7)
        .count();
    assert!(
        same_bucket <= 2,
        "{same_bucket} of 40 still share the bucket"
    );

    // And through the store: a victim's pin survives the flood only under the secret key.
    let victim = (0..)
        .map(|i| format!("victim-{i}"))
        .find(|id| bucket_of(&known, id) == 7)
        .unwrap();
    let pin = Pin {
        tier: None,
        model: ModelId(0),
    };
    for (key, survives) in [(known, false), (secret, true)] {
        let store = MemoryStore::new();
        let pins = PinStore::new(&store, 4_000, 1_800, 1, key);
        pins.pin(&victim, pin, 100);
        for id in &chosen {
            pins.pin(id, pin, 101);
        }
        assert_eq!(pins.lookup(&victim, 102).is_some(), survives, "key {key:?}");
    }
}

/// `weighted` picks hash the request id with the key: a client that repeats an id chosen for
/// one model under the public zero key does not get that model under the process key.
#[test]
fn weighted_picks_follow_the_key() {
    let raw = json!({
        "fallback_model": "a",
        "models": [{"name": "a", "cluster": "ca"}, {"name": "b", "cluster": "cb"}],
        "tiers": [{"name": "pool", "models": ["a", "b"], "policy": "weighted",
                   "weights": {"a": 50, "b": 50}}]
    });
    let model = |config: &Config, id: &str| {
        let head = RequestHead {
            path: "/v1/chat/completions",
            task: Some("pool"),
            session: None,
            request_id: Some(id),
            ..RequestHead::default()
        };
        config.route(&head, Some(b"{}")).decision.model
    };
    let public = common::compile(&raw).unwrap();
    let mut keyed = common::compile(&raw).unwrap();
    keyed.use_process_key(HashKey::from_hex(KEY).unwrap());
    let ids_for_b: Vec<String> = (0..)
        .map(|i| format!("id-{i}"))
        .filter(|id| public.model(model(&public, id)).name == "b")
        .take(200)
        .collect();
    let still_b = ids_for_b
        .iter()
        .filter(|id| keyed.model(model(&keyed, id)).name == "b")
        .count();
    assert!((60..=140).contains(&still_b), "{still_b} of 200 still b");
}
