"""Failover within a tier through a real Envoy (two worker threads): a model that answers 429,
500 or 503, refuses the connection, resets before its headers or times out is replaced by
the tier's next model, the client (the openai SDK, streaming and not) gets that model's
answer with none of the failed one's headers, the log lists every attempt with the summed
cost, and the failed model cools down on every worker for its Retry-After."""

import http.client
import json
import subprocess
import time
import uuid

import pytest
from openai import OpenAI

import harness
from harness import MODEL
from prompts import chat
from test_telemetry import metrics

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
        # A stream may go 500 ms without a byte (a route of its own, rendered per tier).
        {"name": "single", "models": ["lone"], "failover": {"stream_idle_timeout_ms": 500}},
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
    """The logged attempts, each with the `reason` its `outcome` names (`None`: served)."""
    tried = json.loads(log[ATTEMPTS])
    for a in tried:
        a["reason"] = a["outcome"].partition(":")[2] or None
    return tried


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
    assert [(a["model"], a["status"], a["outcome"]) for a in tried] == [
        ("first", "429", "failed_over:rate_limited"),
        ("second", "200", "served"),
    ]
    # The failed attempt reported no usage: it costs nothing; the total is the answer's.
    assert float(tried[0]["cost_usd"]) == 0
    assert float(log["tier_router.cost_usd"]) == pytest.approx(float(tried[1]["cost_usd"]))
    assert float(log["tier_router.cost_usd"]) > 0


def test_a_bare_429_without_a_body_is_answered_by_the_next_model(stack):
    # No body to replace: the next model's answer goes out as a reply of its own.
    stack.mocks["first"].fail_status = 429
    stack.mocks["first"].retry_after = "5"
    stack.mocks["first"].fail_body = b""
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    assert (response.status, response.json()["model"]) == (200, "second")
    assert "retry-after" not in response.headers
    assert response.headers["x-tier-router-model"] == "second"
    assert response.headers["x-mock-upstream"] == "second"
    log = stack.access_log.entry(request_id)
    assert [a["outcome"] for a in attempts(log)] == ["failed_over:rate_limited", "served"]
    assert log[MODEL] == "second"


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_answered_by_the_next_model(stack, status):
    stack.mocks["first"].fail_status = status
    request_id = str(uuid.uuid4())
    completion = openai_client(stack, request_id, **{"x-task": "trio"}).chat.completions.create(
        model="client-model", messages=[{"role": "user", "content": "hello"}]
    )
    assert completion.model == "second"
    log = stack.access_log.entry(request_id)
    assert [(a["model"], a["status"], a["reason"]) for a in attempts(log)] == [
        ("first", str(status), "server_error"),
        ("second", "200", None),
    ]


def test_a_stream_whose_first_model_fails_arrives_whole_from_the_next(stack):
    stack.mocks["first"].fail_status = 429
    stack.mocks["second"].split_events = True
    request_id = str(uuid.uuid4())
    client = openai_client(stack, request_id, **{"x-task": "trio"})
    stream = client.chat.completions.create(
        model="client-model",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
    )
    chunks = list(stream)
    assert {c.model for c in chunks} == {"second"}
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text  # the mock's whole answer, reassembled by the SDK from one buffered body
    usage = [c.usage for c in chunks if c.usage]
    assert usage and usage[-1].completion_tokens > 0
    log = stack.access_log.entry(request_id)
    assert log[FAILOVER] == "1"
    assert log["gen_ai.usage.output_tokens"] == str(usage[-1].completion_tokens)
    assert log["tier_router.response_complete"] == "true"


def test_a_refused_connection_is_answered_by_the_next_model(stack):
    stack.mocks["first"].stop()
    outcome_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": outcome_id})
    assert response.status == 200
    assert response.json()["model"] == "second"
    # Envoy's own 503 (text/plain) left nothing behind.
    assert response.headers["content-type"] == "application/json"
    log = stack.access_log.entry(outcome_id)
    assert [(a["model"], a["reason"]) for a in attempts(log)] == [
        ("first", "connect_failure"),
        ("second", None),
    ]


def test_a_reset_before_the_headers_is_answered_by_the_next_model(stack):
    stack.mocks["first"].reset_before_headers = True
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    assert (response.status, response.json()["model"]) == (200, "second")
    reasons = [a["reason"] for a in attempts(stack.access_log.entry(request_id))]
    assert reasons == ["reset", None]


def test_a_model_slower_than_the_attempt_timeout_is_left_for_the_next(stack):
    # attempt_timeout_ms is 400: Envoy's per-try timeout ends the first attempt.
    stack.mocks["first"].delay_s = 1.5
    request_id = str(uuid.uuid4())
    start = time.monotonic()
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    elapsed = time.monotonic() - start
    assert (response.status, response.json()["model"]) == (200, "second")
    assert elapsed < 1.4, elapsed
    tried = attempts(stack.access_log.entry(request_id))
    assert [(a["model"], a["status"], a["reason"]) for a in tried] == [
        ("first", "504 (envoy)", "timeout"),
        ("second", "200", None),
    ]
    assert 350 <= float(tried[0]["latency_ms"]) < 1400


def test_a_failed_attempt_costs_what_its_upstream_reported_and_the_total_adds_up(stack):
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
    stack.mocks["first"].fail_status = 500
    stack.mocks["first"].fail_body = {"error": {"message": "died mid-answer"}, "usage": usage}
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    assert response.status == 200
    log = stack.access_log.entry(request_id)
    first, second = attempts(log)
    # first: 1000 * $1/1M + 500 * $2/1M = $0.002
    assert first["cost_usd"] == "0.002000"
    assert float(second["cost_usd"]) > 0
    total = float(first["cost_usd"]) + float(second["cost_usd"])
    assert float(log["tier_router.cost_usd"]) == pytest.approx(total, abs=1e-6)


def test_a_cooled_down_model_is_skipped_on_every_worker_until_its_retry_after(stack):
    stack.mocks["first"].fail_status = 429
    stack.mocks["first"].retry_after = "2"
    failed = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio"})
    assert failed.json()["model"] == "second"
    stack.mocks["first"].fail_status = None
    stack.mocks["first"].clear()
    # Each request on a new connection: both worker threads answer some of them.
    served = [
        stack.send("POST", CHAT, chat("hi"), {"x-task": "trio"}).json()["model"] for _ in range(12)
    ]
    assert set(served) == {"second"}
    assert stack.mocks["first"].requests == []
    time.sleep(2.2)
    back = [
        stack.send("POST", CHAT, chat("hi"), {"x-task": "trio"}).json()["model"] for _ in range(6)
    ]
    assert set(back) == {"first"}


def test_a_pinned_session_fails_over_and_its_pin_moves(stack):
    session = {"x-session-id": "conversation-7"}
    # `one word` is no cue of this config: the session is pinned by its explicit first turn.
    first_turn = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", **session})
    assert first_turn.json()["model"] == "first"

    def turn():
        request_id = str(uuid.uuid4())
        response = stack.send("POST", CHAT, chat("and then?"), {"x-request-id": request_id, **session})
        return response, stack.access_log.entry(request_id)

    response, log = turn()
    assert (response.json()["model"], log["tier_router.decision_source"]) == ("first", "session")
    stack.mocks["first"].fail_status = 503
    stack.mocks["first"].retry_after = "1"
    response, log = turn()
    assert response.status == 200 and response.json()["model"] == "second"
    assert [a["model"] for a in attempts(log)] == ["first", "second"]
    stack.mocks["first"].fail_status = None
    time.sleep(1.2)
    # `first` is healthy again, but the pin moved with the failover: later turns stay on
    # the model that answered.
    for _ in range(3):
        response, log = turn()
        assert response.json()["model"] == "second"
        assert log["tier_router.decision_source"] == "session"


def test_a_request_whose_every_model_fails_gets_the_last_error_without_hanging(stack):
    for name in ("first", "second", "third", "spare"):
        stack.mocks[name].fail_status = 500
    request_id = str(uuid.uuid4())
    start = time.monotonic()
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    assert time.monotonic() - start < 2
    assert response.status == 500
    assert response.headers["x-mock-upstream"] == "third"
    log = stack.access_log.entry(request_id)
    # max_attempts is 3: the fallback gets no fourth; the last error was served.
    assert [(a["model"], a["outcome"]) for a in attempts(log)] == [
        ("first", "failed_over:server_error"),
        ("second", "failed_over:server_error"),
        ("third", "failed:server_error"),
    ]
    assert log[FAILOVER] == "2"


def test_a_tier_that_is_down_gets_the_fallback(stack):
    for name in ("first", "second", "third"):
        stack.mocks[name].fail_status = 503
    # Cool the three down (each request moves on through the tier, then to the fallback).
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio"})
    assert response.status == 503  # three attempts, the last one's answer
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    assert (response.status, response.json()["model"]) == (200, "spare")
    log = stack.access_log.entry(request_id)
    assert log["tier_router.tier_down"] == "true"
    assert log[MODEL] == "spare"


def test_a_tier_that_is_down_with_on_tier_down_error_gets_a_clear_503(stack):
    for name in ("first", "second"):
        stack.mocks[name].fail_status = 503
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "strict", "x-request-id": request_id})
    # Both tried: the configured 503, not the last model's.
    assert response.status == 503
    assert response.json()["error"]["code"] == "tier_down"
    assert "x-mock-upstream" not in response.headers
    for mock in stack.mocks.values():
        mock.clear()
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "strict", "x-request-id": request_id})
    assert response.status == 503
    assert response.json()["error"]["code"] == "tier_down"
    # Both models cooling down: nothing went upstream.
    assert all(not mock.requests for mock in stack.mocks.values())
    log = stack.access_log.entry(request_id)
    assert log["tier_router.tier_down"] == "true"
    assert (log["tier_router.tier"], log["status"]) == ("strict", 503)
    assert log["tier_router.usage_source"] == "none"
    # Counted as the tier's 503s, which its error rate and tier-down alert read.
    stats = metrics(stack)
    errors = sum(
        value
        for (name, labels), value in stats.items()
        if name == "tier_router_responses_total"
        and ("tier", "strict") in labels
        and ("status_class", "5xx") in labels
    )
    assert errors == 2


def test_a_stream_that_stalls_is_cut_at_the_tier_idle_timeout_and_logged_as_cut(stack):
    mock = stack.mocks["lone"]
    mock.stall_after_events = 2
    mock.stall_s = 2.0
    request_id = str(uuid.uuid4())
    body = json.dumps(dict(chat("hi"), stream=True))
    conn = http.client.HTTPConnection("127.0.0.1", stack.listener_port, timeout=10)
    headers = {"x-task": "single", "x-request-id": request_id, "content-type": "application/json"}
    conn.request("POST", CHAT, body=body, headers=headers)
    response = conn.getresponse()
    assert response.status == 200  # the headers went out before the stall
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert b"data: " in cut.value.partial and b"[DONE]" not in cut.value.partial
    conn.close()
    log = stack.access_log.entry(request_id)
    assert log["tier_router.response_complete"] == "false"
    assert [(a["model"], a["reason"]) for a in attempts(log)] == [("lone", "stream_idle")]
    assert "SI" in log["response_flags"]


def test_a_long_stream_that_keeps_sending_is_not_cut(stack):
    # Longer than the idle timeout in total, never idle that long: it ends whole.
    mock = stack.mocks["lone"]
    mock.chunk_gap_s = 0.2
    request_id = str(uuid.uuid4())
    body = dict(chat("hi"), stream=True)
    start = time.monotonic()
    response = stack.send("POST", CHAT, body, {"x-task": "single", "x-request-id": request_id})
    assert time.monotonic() - start > 0.6
    assert response.status == 200 and b"[DONE]" in response.body
    log = stack.access_log.entry(request_id)
    assert log["tier_router.response_complete"] == "true"


def test_failovers_are_counted_by_tier_model_and_reason(stack):
    stack.mocks["first"].fail_status = 429
    stack.send("POST", CHAT, chat("hi"), {"x-task": "trio"})
    stats = metrics(stack)
    labels = {"tier": "trio", "model": "first", "reason": "rate_limited"}
    assert stats[("tier_router_failovers_total", frozenset(labels.items()))] == 1


def test_unparseable_200s_in_a_row_eject_the_model(stack):
    # policies.eject_after_failures is 3 by default: the fourth request finds `lone` cooling
    # down, and its tier (of one model) goes to the fallback.
    stack.mocks["lone"].raw_answer = b"<html>502 Bad Gateway</html>"
    for _ in range(3):
        request_id = str(uuid.uuid4())
        response = stack.send("POST", CHAT, chat("hi"), {"x-task": "single", "x-request-id": request_id})
        assert response.status == 200  # passed through as it came: the client has it already
        tried = attempts(stack.access_log.entry(request_id))
        assert [(a["model"], a["reason"]) for a in tried] == [("lone", "bad_answer")]
    request_id = str(uuid.uuid4())
    response = stack.send("POST", CHAT, chat("hi"), {"x-task": "single", "x-request-id": request_id})
    assert response.json()["model"] == "spare"
    assert stack.access_log.entry(request_id)["tier_router.tier_down"] == "true"


def test_tier_router_report_counts_the_failovers(stack):
    stack.mocks["first"].fail_status = 429
    for _ in range(2):
        stack.send("POST", CHAT, chat("hi"), {"x-task": "trio"})
    stack.mocks["first"].fail_status = None
    request_id = str(uuid.uuid4())
    stack.send("POST", CHAT, chat("hi"), {"x-task": "trio", "x-request-id": request_id})
    stack.access_log.entry(request_id)
    cli = harness.REPO_ROOT / "target" / "release" / "tier-router"
    # Incremental: a no-op when the binary is fresh (scripts/test.sh builds it first).
    build = ["cargo", "build", "--release", "--bin", "tier-router"]
    subprocess.run(build, cwd=harness.REPO_ROOT, check=True)
    out = subprocess.run(
        [str(cli), "report", "--json", str(stack.access_log.path)], capture_output=True, check=True
    )
    report = json.loads(out.stdout)
    # The first request failed over; `first` then cooled down, so the others went straight
    # to `second` and did not.
    assert report["lines_with_failover_fields"] == 3
    assert report["served"]["by_tier"]["trio"]["failovers"] == 1
    assert report["served"]["by_model"]["second"]["requests"] == 3


@pytest.fixture
def short_route(tmp_path, envoy_bin, wasm_path):
    """The stack with a 1 s route timeout (the shipped routes say 120 s)."""

    def edit(text):
        assert "timeout: 120s" in text
        return text.replace("timeout: 120s", "timeout: 1s")

    stack = harness.Stack(tmp_path, envoy_bin, wasm_path, CONFIG, edit_bootstrap=edit)
    stack.start()
    yield stack
    stack.stop()


def test_a_stream_longer_than_the_route_timeout_is_not_cut(short_route):
    # A streamed answer still sending is bounded by the idle timeout, not the total one
    # (which cut a healthy 130 s stream under the 120 s route timeout, logged as a 200).
    short_route.mocks["first"].chunk_gap_s = 0.12
    request_id = str(uuid.uuid4())
    body = dict(chat("hi"), stream=True)
    start = time.monotonic()
    response = short_route.send("POST", CHAT, body, {"x-task": "trio", "x-request-id": request_id})
    assert time.monotonic() - start > 1.2
    assert response.status == 200 and response.body.rstrip().endswith(b"data: [DONE]")
    log = short_route.access_log.entry(request_id)
    assert log["tier_router.response_complete"] == "true"
    assert log["response_flags"] == "-"
    # A non-streamed answer is still bounded by the route's timeout.
    short_route.mocks["spare"].delay_s = 1.5
    response = short_route.send("POST", CHAT, chat("hi"), {"x-task": "unknown-task-falls-back"})
    assert response.status == 504
