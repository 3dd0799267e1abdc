"""Failover within a tier through a real Envoy (two worker threads): a model that answers 429,
500 or 503, refuses the connection, resets before its headers or times out is replaced by
the tier's next model, the client (the openai SDK, streaming and not) gets that model's
answer with none of the failed one's headers, the log lists every attempt with the summed
cost, and the failed model cools down on every worker for its Retry-After."""

import json
import time
import uuid

import pytest
from openai import OpenAI

import harness
from harness import MODEL
from prompts import chat

CHAT = "/v1/chat/completions"
ATTEMPTS = "tier_router.attempts"
FAILOVER = "tier_router.failover"


def price(i, o):
    return {"input": i, "output": o}


CONFIG = {
    "fallback_model": "spare",
    "models": [
        {"name": "first", "cluster": "first", "price_per_1m": price(1, 2)},
        {"name": "second", "cluster": "second", "price_per_1m": price(2, 4)},
        {"name": "third", "cluster": "third", "price_per_1m": price(3, 6)},
        {"name": "spare", "cluster": "spare", "price_per_1m": price(0.1, 0.2)},
        {"name": "lone", "cluster": "lone", "price_per_1m": price(1, 1)},
    ],
    "tiers": [
        {
            "name": "trio",
            "models": ["first", "second", "third"],
            "failover": {"attempt_timeout_ms": 400, "callout_timeout_ms": 1500},
        },
        {"name": "strict", "models": ["first", "second"], "on_tier_down": "error"},
        {"name": "single", "models": ["lone"]},
    ],
    "sessions": {"enabled": True},
    "policies": {"unhealthy_seconds": 30, "max_retry_after_seconds": 60},
}


@pytest.fixture
def stack(tmp_path, envoy_bin, wasm_path):
    # One Envoy per test: model health lives in its shared data, and each test starts healthy.
    stack = harness.Stack(tmp_path, envoy_bin, wasm_path, CONFIG, concurrency=2)
    stack.start()
    yield stack
    stack.stop()


def openai_client(stack, request_id, **headers):
    return OpenAI(
        base_url=f"http://127.0.0.1:{stack.listener_port}/v1",
        api_key="unused",
        max_retries=0,
        timeout=10,
        default_headers={"x-request-id": request_id, **headers},
    )


def received_by(stack, request_id):
    return [name for name, mock in stack.mocks.items() if mock.find(request_id)]


def attempts(log):
    return json.loads(log[ATTEMPTS])


def test_a_429_with_retry_after_is_answered_by_the_next_model(stack):
    stack.mocks["first"].fail_status = 429
    stack.mocks["first"].retry_after = "2"
    request_id = str(uuid.uuid4())
    client = openai_client(stack, request_id, **{"x-task": "trio"})
    raw = client.chat.completions.with_raw_response.create(
        model="client-model", messages=[{"role": "user", "content": "hello"}]
    )
    completion = raw.parse()
    assert completion.model == "second"
    assert raw.headers.get("x-mock-upstream") == "second"
    assert "retry-after" not in raw.headers
    assert raw.headers["content-type"] == "application/json"
    assert raw.headers["x-tier-router-model"] == "second"
    assert received_by(stack, request_id) == ["first", "second"]
    # The second model got the body edited for it, and the client's headers.
    sent = stack.mocks["second"].find(request_id)
    assert json.loads(sent.body)["model"] == "second"
    assert sent.headers["x-task"] == "trio"
    log = stack.access_log.entry(request_id)
    assert log["status"] == 200
    assert log[MODEL] == "second"
    assert log[FAILOVER] == "1"
    tried = attempts(log)
    assert [(a["model"], a["status"], a["reason"]) for a in tried] == [
        ("first", 429, "rate_limited"),
        ("second", 200, None),
    ]
    # The failed attempt reported no usage: it costs nothing; the total is the answer's.
    assert float(tried[0]["cost_usd"]) == 0
    assert float(log["tier_router.cost_usd"]) == pytest.approx(float(tried[1]["cost_usd"]))
    assert float(log["tier_router.cost_usd"]) > 0
