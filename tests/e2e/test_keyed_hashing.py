"""The canary split hashes session ids with a keyed SipHash, in a real Envoy with two worker
threads: with the same configured `hash_key`, two Envoy processes (replicas) agree on every
session's side; without one, each process draws its own random key (WASI `random_get`,
which Envoy implements) and its worker VMs share it, so a session keeps its side within a
process while two processes split differently."""

import pytest

import harness
from prompts import LABEL_PROMPT, chat

CHAT = "/v1/chat/completions"
SESSIONS = [f"replica-user-{i}" for i in range(40)]
KEY = "5f0c2a9e4b7d1836a0e9c4b2d7f1e356"


def config(hash_key=None):
    doc = {
        "fallback_model": "general",
        "models": [
            {"name": "thrifty", "cluster": "thrifty", "price_per_1m": {"input": 0.1, "output": 0.3}},
            {"name": "general", "cluster": "general", "price_per_1m": {"input": 0.15, "output": 0.6}},
        ],
        "tiers": [{"name": "label", "models": ["thrifty"], "cues": {"one word": 3, "classify": 2}}],
        "rollout": {"mode": "route", "canary_percent": 50},
        # The canary splits by session id only where the session header is read.
        "sessions": {"enabled": True},
    }
    if hash_key:
        doc["hash_key"] = hash_key
    return doc


def start(tmp_path_factory, envoy_bin, wasm_path, name, doc):
    stack = harness.Stack(tmp_path_factory.mktemp(name), envoy_bin, wasm_path, doc, concurrency=2)
    return stack.start()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, envoy_bin, wasm_path):
    stacks = [
        start(tmp_path_factory, envoy_bin, wasm_path, "keyed-a", config(KEY)),
        start(tmp_path_factory, envoy_bin, wasm_path, "keyed-b", config(KEY)),
        start(tmp_path_factory, envoy_bin, wasm_path, "random-a", config()),
        start(tmp_path_factory, envoy_bin, wasm_path, "random-b", config()),
    ]
    yield stacks
    for stack in stacks:
        stack.stop()


def sides(stack, rounds=1):
    """Each session's canary side; every round must agree (any worker thread may serve it)."""
    seen = {}
    for _ in range(rounds):
        for session in SESSIONS:
            outcome = stack.call(CHAT, chat(LABEL_PROMPT), headers={"x-session-id": session})
            side = outcome.log["tier_router.canary"]
            assert outcome.upstream == ("thrifty" if side == "in" else "general")
            assert seen.setdefault(session, side) == side, f"{session} changed sides"
    return seen


def test_replicas_with_the_same_hash_key_agree(replicas):
    keyed_a, keyed_b, _, _ = replicas
    assert sides(keyed_a) == sides(keyed_b)


def test_without_a_key_each_process_draws_its_own(replicas):
    _, _, random_a, random_b = replicas
    a, b = sides(random_a, rounds=2), sides(random_b, rounds=2)
    # Independent random keys: 40 sessions at 50% all agreeing has odds of 2^-40.
    assert a != b
    assert 5 <= sum(side == "in" for side in a.values()) <= 35
    for stack in (random_a, random_b):
        log = stack.envoy.log_tail(400)
        assert "random_get failed" not in log, log
        assert "shared data unusable" not in log, log
