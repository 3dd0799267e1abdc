"""Policies inside a tier, session pins across worker threads, token floors, shadow mode and
canary, through a real Envoy running with two worker threads."""

import copy
import json
import time
from collections import Counter

import pytest

import harness
from harness import MODEL, SOURCE, TIER
from prompts import ANALYSIS_PROMPT, LABEL_PROMPT, chat

CHAT = "/v1/chat/completions"


def price(i, o):
    return {"input": i, "output": o}


POOL_CONFIG = {
    "fallback_model": "general",
    "baseline_model": "pricey",
    "models": [
        {"name": "slow", "cluster": "slow", "price_per_1m": price(1, 1)},
        {"name": "quick", "cluster": "quick", "price_per_1m": price(1, 1)},
        {"name": "pricey", "cluster": "pricey", "price_per_1m": price(3, 15)},
        {"name": "thrifty", "cluster": "thrifty", "price_per_1m": price(0.1, 0.3)},
        {"name": "primary", "cluster": "primary", "price_per_1m": price(1, 1)},
        {"name": "secondary", "cluster": "secondary", "price_per_1m": price(1, 1)},
        {"name": "general", "cluster": "general", "price_per_1m": price(0.15, 0.6)},
    ],
    "tiers": [
        {"name": "speedy", "models": ["slow", "quick"], "policy": "fastest_ttft"},
        {"name": "budget", "models": ["pricey", "thrifty"], "policy": "cheapest"},
        # Failover off: this tier shows the policy alone skipping a model that failed
        # (tests/e2e/test_failover.py shows the request itself moving on).
        {
            "name": "ordered",
            "models": ["primary", "secondary"],
            "policy": "priority",
            "failover": {"enabled": False},
        },
        {
            "name": "split",
            "models": ["primary", "secondary"],
            "policy": "weighted",
            "weights": {"primary": 80, "secondary": 20},
        },
        {
            "name": "deep",
            "models": ["pricey"],
            "token_floor": {"min": 4096, "add_when_absent": True},
            "cues": {"prove": 3, "step by step": 3},
        },
        {"name": "label", "models": ["thrifty"], "cues": {"one word": 3, "classify": 2}},
    ],
    "sessions": {"enabled": True, "max_sessions": 8},
    "policies": {"ttft_min_samples": 3, "explore_percent": 10, "unhealthy_seconds": 30},
}


def start_stack(tmp_path_factory, envoy_bin, wasm_path, config, name):
    stack = harness.Stack(tmp_path_factory.mktemp(name), envoy_bin, wasm_path, config, concurrency=2)
    return stack.start()


@pytest.fixture(scope="module")
def pool(tmp_path_factory, envoy_bin, wasm_path):
    stack = start_stack(tmp_path_factory, envoy_bin, wasm_path, POOL_CONFIG, "pool")
    # Far above a stall of the fast mock on a loaded machine, so one such sample cannot
    # lift its moving average over the slow one's.
    stack.mocks["slow"].delay_s = 0.25
    yield stack
    stack.stop()


def models_served(stack, task, n, body=None, **headers):
    return [
        stack.call(CHAT, body or chat("hi"), headers={"x-task": task, **headers}).upstream
        for _ in range(n)
    ]


def test_fastest_ttft_converges_on_the_fast_model(pool):
    # The models are learned first (three samples each). Ties go to the first listed, so the
    # slow one is learned first and then served until the quick one, still learning, draws
    # its third sample from the 10% exploration share: about 15 requests on average, fewer
    # than 150 all but always (0.9^140).
    learning = Counter()
    for _ in range(150):
        learning[pool.call(CHAT, chat("hi"), headers={"x-task": "speedy"}).upstream] += 1
        if min(learning["slow"], learning["quick"]) >= 3:
            break
    assert min(learning["slow"], learning["quick"]) >= 3, learning
    # Learned, the fast one takes every request, on both worker threads: the averages live
    # in shared data.
    outcomes = [pool.call(CHAT, chat("hi"), headers={"x-task": "speedy"}) for _ in range(20)]
    ttfts = [(o.upstream, o.log["tier_router.ttft_ms"]) for o in outcomes]
    assert {o.upstream for o in outcomes} == {"quick"}, ttfts
    log = pool.call(CHAT, chat("hi"), headers={"x-task": "speedy"}).log
    assert log["tier_router.policy"] == "fastest_ttft"
    assert log["tier_router.candidates"].split(",") in (["quick", "slow"], ["slow", "quick"])


def test_cheapest_picks_by_expected_cost(pool):
    outcome = pool.call(CHAT, chat("short question"), headers={"x-task": "budget"})
    assert outcome.upstream == "thrifty"
    assert outcome.log["tier_router.candidates"] == "thrifty,pricey"


def test_priority_skips_a_model_that_answered_429(pool):
    assert models_served(pool, "ordered", 2) == ["primary", "primary"]
    pool.mocks["primary"].fail_status = 429
    # Cooled down for its Retry-After, so the other tests find it healthy again.
    pool.mocks["primary"].retry_after = "2"
    try:
        failed = pool.call(CHAT, chat("hi"), headers={"x-task": "ordered"})
        assert (failed.upstream, failed.response.status) == ("primary", 429)
        # The next requests, on either worker, go to the next model in the list.
        assert set(models_served(pool, "ordered", 6)) == {"secondary"}
    finally:
        pool.mocks["primary"].fail_status = None
        pool.mocks["primary"].retry_after = None
    time.sleep(2.1)
    assert models_served(pool, "ordered", 2) == ["primary", "primary"]


def test_weighted_splits_by_percent(pool):
    served = Counter(models_served(pool, "split", 100))
    assert 65 <= served["primary"] <= 92, served
    assert served["primary"] + served["secondary"] == 100


def test_a_session_keeps_its_model_across_turns_and_workers(pool):
    # Each turn is a new connection, so turns land on both worker threads.
    first = pool.call(CHAT, chat(LABEL_PROMPT), headers={"x-session-id": "conv-1"})
    assert (first.log[TIER], first.log[SOURCE]) == ("label", "classifier")
    later = [
        pool.call(CHAT, chat(ANALYSIS_PROMPT), headers={"x-session-id": "conv-1"}) for _ in range(10)
    ]
    assert {(o.log[TIER], o.log[SOURCE], o.upstream) for o in later} == {("label", "session", "thrifty")}
    # Without the session the same text goes to its own tier.
    alone = pool.call(CHAT, chat(ANALYSIS_PROMPT))
    assert alone.log[TIER] == "deep"


def test_the_pin_store_evicts_rather_than_grows(pool):
    # max_sessions is 8: after 200 other sessions the first pin is gone, the newest is kept.
    pool.call(CHAT, chat(LABEL_PROMPT), headers={"x-session-id": "old-session"})
    for i in range(200):
        pool.call(CHAT, chat(LABEL_PROMPT), headers={"x-session-id": f"crowd-{i}"})
    old = pool.call(CHAT, chat(ANALYSIS_PROMPT), headers={"x-session-id": "old-session"})
    new = pool.call(CHAT, chat(ANALYSIS_PROMPT), headers={"x-session-id": "crowd-199"})
    assert (old.log[SOURCE], old.log[TIER]) == ("classifier", "deep")
    assert (new.log[SOURCE], new.log[TIER]) == ("session", "label")


def test_token_floor_raises_but_never_lowers(pool):
    def sent_caps(body):
        outcome = pool.call(CHAT, body, headers={"x-task": "deep"})
        return json.loads(outcome.received.body), outcome.log.get("tier_router.floor_applied")

    sent, floor = sent_caps({"model": "m", "messages": [], "max_tokens": 256})
    assert (sent["max_tokens"], floor) == (4096, "4096")
    sent, floor = sent_caps({"model": "m", "messages": []})
    assert (sent["max_completion_tokens"], floor) == (4096, "4096")
    sent, floor = sent_caps({"model": "m", "messages": [], "max_completion_tokens": 10000})
    assert (sent["max_completion_tokens"], floor) == (10000, None)


@pytest.fixture(scope="module")
def shadow(tmp_path_factory, envoy_bin, wasm_path):
    config = copy.deepcopy(POOL_CONFIG)
    config["rollout"] = {"mode": "shadow"}
    stack = start_stack(tmp_path_factory, envoy_bin, wasm_path, config, "shadow")
    yield stack
    stack.stop()


def test_shadow_mode_logs_the_decision_and_forwards_byte_for_byte(shadow):
    body = json.dumps({"model": "app-model", "stream": False, "max_tokens": 7,
                       "messages": [{"role": "user", "content": ANALYSIS_PROMPT}]}).encode()
    before = shadow.mocks["general"].requests
    outcome = shadow.call(CHAT, body, headers={"content-type": "application/json"})
    # Served where it would go without the router (envoy.yaml's catch-all route)...
    assert outcome.upstream == "general"
    assert outcome.received.body == body
    assert "x-tier-router-tier" not in outcome.response.headers
    # ...while the log prices the decision it would have made.
    log = outcome.log
    assert (log[TIER], log[MODEL], log["tier_router.shadow"]) == ("deep", "pricey", "true")
    assert log.get("tier_router.floor_applied") is None
    assert float(log["tier_router.cost_usd"]) > 0
    assert len(shadow.mocks["general"].requests) == len(before) + 1


@pytest.fixture(scope="module")
def canary(tmp_path_factory, envoy_bin, wasm_path):
    config = copy.deepcopy(POOL_CONFIG)
    config["rollout"] = {"mode": "route", "canary_percent": 20}
    config["sessions"]["max_sessions"] = 100000
    stack = start_stack(tmp_path_factory, envoy_bin, wasm_path, config, "canary")
    yield stack
    stack.stop()


def test_canary_routes_about_a_fifth_of_sessions_and_always_the_same(canary):
    sides = {}
    for i in range(150):
        session = f"user-{i}"
        outcome = canary.call(CHAT, chat(LABEL_PROMPT), headers={"x-session-id": session})
        side = outcome.log["tier_router.canary"]
        # In the canary the decision is served; out of it the request takes the default route.
        assert outcome.upstream == ("thrifty" if side == "in" else "general"), (side, outcome.upstream)
        sides[session] = side
    routed = sum(1 for side in sides.values() if side == "in")
    assert 15 <= routed <= 45, f"{routed} of 150 sessions in the canary"
    for session in list(sides)[:30]:
        again = canary.call(CHAT, chat(LABEL_PROMPT), headers={"x-session-id": session})
        assert again.log["tier_router.canary"] == sides[session]
