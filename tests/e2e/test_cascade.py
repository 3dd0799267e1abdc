"""The cascade policy through a real Envoy and the real openai SDK: the cheap model answers
first; an answer that fails the gate (cut at the cap, empty, a refusal phrase, JSON that does
not parse or does not fit the schema, a label outside the set, a low mean logprob, an error)
is replaced by the strong model's, whose status, headers and body the client gets; a passing
answer is served as it came; a streaming request skips the gate."""

import json
import uuid

import pytest
from openai import OpenAI

import harness
from prompts import chat
from test_telemetry import delta, metrics

CHAT = "/v1/chat/completions"
LABELS = ["positive", "negative", "neutral"]


def price(i, o):
    return {"input": i, "output": o}


CASCADE_CONFIG = {
    "fallback_model": "mini",
    "baseline_model": "strong",
    "models": [
        {"name": "cheap", "cluster": "cheap", "price_per_1m": price(0.1, 0.4)},
        {"name": "strong", "cluster": "strong", "price_per_1m": price(3, 15)},
        {"name": "mini", "cluster": "mini", "price_per_1m": price(0.15, 0.6)},
    ],
    "tiers": [
        {"name": "gate", "models": ["cheap", "strong"], "policy": "cascade"},
        {
            "name": "sentiment",
            "models": ["cheap", "strong"],
            "policy": "cascade",
            "cascade": {"labels": LABELS},
        },
        {
            "name": "confident",
            "models": ["cheap", "strong"],
            "policy": "cascade",
            "cascade": {"min_mean_logprob": -1.0},
        },
    ],
    # No cool-down: a model's error in one test must not move the next test's first attempt
    # (a cooling first model is skipped, docs/cascade.md).
    "policies": {"unhealthy_seconds": 0},
}

SENTIMENT_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "sentiment",
        "schema": {
            "type": "object",
            "properties": {"label": {"type": "string", "enum": LABELS}},
            "required": ["label"],
        },
    },
}
STRONG_JSON = json.dumps({"label": "negative"})


@pytest.fixture(scope="module")
def cascade(tmp_path_factory, envoy_bin, wasm_path):
    stack = harness.Stack(tmp_path_factory.mktemp("cascade"), envoy_bin, wasm_path, CASCADE_CONFIG)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def answers(cascade):
    """Sets what each mock answers (`{"cheap": reply, "strong": reply}`); reset after."""

    def set_replies(**replies):
        for name, reply in replies.items():
            cascade.mocks[name].chat_reply = (lambda r: lambda _request: dict(r))(reply)

    yield set_replies
    for mock in cascade.mocks.values():
        mock.chat_reply = None
        mock.fail_status = None


@pytest.fixture
def sdk(cascade):
    return OpenAI(
        base_url=f"http://127.0.0.1:{cascade.listener_port}/v1",
        api_key="not-used-by-the-mock",
        max_retries=0,
        timeout=30,
    )


def ask(cascade, sdk, tier, **params):
    """One Chat Completions call through the SDK; (completion, raw response, log line)."""
    request_id = str(uuid.uuid4())
    params.setdefault("messages", [{"role": "user", "content": "Classify: the battery died."}])
    raw = sdk.chat.completions.with_raw_response.create(
        model="client-model",
        extra_headers={"x-task": tier, "x-request-id": request_id},
        **params,
    )
    return raw.parse(), raw, cascade.access_log.entry(request_id)


def received(cascade, name, request_id):
    request = cascade.mocks[name].find(request_id)
    return None if request is None else json.loads(request.body)


def attempts(log):
    return json.loads(log["tier_router.attempts"])


def assert_escalated(cascade, completion, raw, log, reason, cheap_billed=True):
    request_id = log["request_id"]
    # The client got the strong model's answer, with its headers.
    assert raw.headers["x-mock-upstream"] == "strong"
    assert raw.headers["x-tier-router-model"] == "strong"
    assert completion.model == "strong"
    assert (log["tier_router.escalated"], log["tier_router.escalation_reasons"]) == ("true", reason)
    assert log["gen_ai.request.model"] == "strong"
    assert log["tier_router.cascade"] == "pass"
    tried = attempts(log)
    assert [(a["model"], a["outcome"]) for a in tried] == [
        ("cheap", f"escalated:{reason}"),
        ("strong", "served"),
    ]
    # The logged cost is both attempts', each priced as its own model.
    total = sum(float(a["cost_usd"]) for a in tried)
    assert float(log["tier_router.cost_usd"]) == pytest.approx(total, abs=2e-6)
    # A failed attempt costs only what its upstream reported (the mock's error reports none).
    assert (float(tried[0]["cost_usd"]) > 0) == cheap_billed
    assert float(tried[1]["cost_usd"]) > 0
    # Each model got the client's request with its own name in `model`.
    cheap, strong = received(cascade, "cheap", request_id), received(cascade, "strong", request_id)
    assert (cheap["model"], strong["model"]) == ("cheap", "strong")
    assert cheap["messages"] == strong["messages"]
    strong_headers = cascade.mocks["strong"].find(request_id).headers
    assert "x-tier-router-cluster" not in strong_headers
    assert strong_headers["authorization"] == "Bearer not-used-by-the-mock"


def test_a_passing_cheap_answer_is_served_without_escalation(cascade, sdk, answers):
    answers(cheap={"content": "negative"})
    completion, raw, log = ask(cascade, sdk, "sentiment")
    assert completion.choices[0].message.content == "negative"
    assert raw.headers["x-mock-upstream"] == "cheap"
    assert (log["tier_router.cascade"], log["tier_router.escalated"]) == ("pass", "false")
    assert [a["model"] for a in attempts(log)] == ["cheap"]
    assert received(cascade, "strong", log["request_id"]) is None
    assert float(log["tier_router.cost_usd"]) == pytest.approx(float(attempts(log)[0]["cost_usd"]))


GATES = [
    # (tier, request params, the cheap model's answer, reason)
    ("gate", {}, {"content": "The battery di", "finish_reason": "length"}, "length"),
    ("gate", {}, {"content": ""}, "empty"),
    ("gate", {}, {"content": "I'm sorry, but I can't help with that."}, "refusal"),
    ("gate", {"response_format": {"type": "json_object"}}, {"content": '{"label": '}, "invalid_json"),
    ("gate", {"response_format": SENTIMENT_SCHEMA}, {"content": '{"label": "angry"}'}, "enum_miss"),
    ("gate", {"response_format": SENTIMENT_SCHEMA}, {"content": '{"mood": "negative"}'}, "required_missing"),
    ("sentiment", {}, {"content": "It sounds rather negative to me."}, "label_miss"),
]


@pytest.mark.parametrize("tier,params,cheap,reason", GATES, ids=[g[3] for g in GATES])
def test_a_cheap_answer_failing_the_gate_is_replaced_by_the_strong_one(
    cascade, sdk, answers, tier, params, cheap, reason
):
    answers(cheap=cheap, strong={"content": STRONG_JSON if params else "negative"})
    completion, raw, log = ask(cascade, sdk, tier, **params)
    assert completion.choices[0].message.content == (STRONG_JSON if params else "negative")
    assert_escalated(cascade, completion, raw, log, reason)


def test_escalations_are_counted_by_tier_model_and_reason(cascade, sdk, answers):
    before = metrics(cascade)
    answers(cheap={"content": "", "finish_reason": "length"})
    ask(cascade, sdk, "gate")
    after = metrics(cascade)
    labels = {"tier": "gate", "model": "cheap", "reason": "length"}
    assert delta(before, after, "tier_router_escalations_total", **labels) == 1
    # Each model's series counts its own attempt.
    for model in ("cheap", "strong"):
        assert delta(before, after, "tier_router_requests_total", tier="gate", model=model) == 1


def test_a_cheap_model_error_moves_to_the_strong_model(cascade, sdk, answers):
    cascade.mocks["cheap"].fail_status = 429
    completion, raw, log = ask(cascade, sdk, "gate")
    assert raw.http_response.status_code == 200
    assert "retry-after" not in raw.headers
    assert_escalated(cascade, completion, raw, log, "upstream_error", cheap_billed=False)
    assert attempts(log)[0]["status"] == "429"


def test_when_the_strong_model_fails_the_held_cheap_answer_is_served(cascade, sdk, answers):
    answers(cheap={"content": "It sounds rather negative to me."})
    cascade.mocks["strong"].fail_status = 503
    completion, raw, log = ask(cascade, sdk, "sentiment")
    assert completion.choices[0].message.content == "It sounds rather negative to me."
    assert raw.headers["x-mock-upstream"] == "cheap"
    assert log["tier_router.cascade"] == "fail:label_miss"
    assert log["tier_router.escalated"] == "false"
    assert log["gen_ai.request.model"] == "cheap"
    tried = {a["model"]: a for a in attempts(log)}
    assert (tried["strong"]["status"], tried["strong"]["outcome"]) == ("503", "escalated:upstream_error")
    assert tried["cheap"]["outcome"] == "served"


def test_a_low_mean_logprob_escalates_and_the_client_never_sees_logprobs_it_did_not_ask_for(
    cascade, sdk, answers
):
    answers(cheap={"content": "negative", "logprob": -0.05})
    completion, _, log = ask(cascade, sdk, "confident")
    assert log["tier_router.cascade"] == "pass"
    # The router asked the cheap model for logprobs, and took them out of the answer.
    assert received(cascade, "cheap", log["request_id"])["logprobs"] is True
    assert completion.choices[0].logprobs is None
    assert "logprobs" in log["tier_router.edits"].split(",")

    answers(cheap={"content": "negative", "logprob": -2.5}, strong={"content": "positive"})
    completion, raw, log = ask(cascade, sdk, "confident")
    assert_escalated(cascade, completion, raw, log, "low_logprob")
    assert "logprobs" not in received(cascade, "strong", log["request_id"])

    # A client that asks for logprobs gets them.
    answers(cheap={"content": "negative", "logprob": -0.05})
    completion, _, log = ask(cascade, sdk, "confident", logprobs=True)
    assert completion.choices[0].logprobs.content[0].logprob == pytest.approx(-0.05)


def test_a_streaming_request_skips_the_gate(cascade, sdk, answers):
    request_id = str(uuid.uuid4())
    stream = sdk.chat.completions.create(
        model="client-model",
        messages=[{"role": "user", "content": "Classify: the battery died."}],
        stream=True,
        extra_headers={"x-task": "sentiment", "x-request-id": request_id},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.startswith("Mock answer from cheap")  # not a label, and still served
    log = cascade.access_log.entry(request_id)
    assert (log["tier_router.cascade"], log["tier_router.escalated"]) == ("skipped_stream", "false")
    assert received(cascade, "strong", request_id) is None
