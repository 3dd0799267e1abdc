"""Model profiles in a real Envoy: a request is adapted to the model it is routed to (the cap
field it takes, the parameters it refuses), goes only to a model that serves its API, and
every rewrite is valid JSON. The log names each edit."""

import copy
import json
import uuid

import pytest

import harness
from harness import MODEL, TIER
from prompts import ANALYSIS_PROMPT, CHAT_PATH
from test_telemetry import delta, metrics

EDITS = "tier_router.edits"
SHAPE_FALLBACK = "tier_router.shape_fallback"


def test_sdk_chat_request_reaches_the_reasoning_model_in_its_own_dialect(stack, client):
    # The client wrote for a chat model: `max_tokens` and sampling parameters.
    request_id = str(uuid.uuid4())
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": ANALYSIS_PROMPT}],
        max_tokens=50,
        temperature=0.3,
        top_p=0.9,
        seed=11,
        extra_headers={"x-request-id": request_id},
    )
    assert reply.model == "reasoning-large"
    received = stack.mocks["reasoning-large"].find(request_id)
    assert received is not None, "the reasoning model did not get the request"
    sent = json.loads(received.body)
    assert "max_tokens" not in sent
    assert "temperature" not in sent and "top_p" not in sent
    # Renamed, then raised by the analysis tier's floor; the rest as the client sent it.
    assert sent["max_completion_tokens"] == 4096
    assert sent["seed"] == 11
    assert sent["messages"] == [{"role": "user", "content": ANALYSIS_PROMPT}]
    assert int(received.headers["content-length"]) == len(received.body)
    log = stack.access_log.entry(request_id)
    assert log[MODEL] == "reasoning-large"
    assert log[EDITS] == "model,max_tokens->max_completion_tokens,drop:temperature,drop:top_p,floor"
    assert log[SHAPE_FALLBACK] is None


def test_a_chat_model_keeps_the_parameters(stack):
    body = {"model": "m", "max_tokens": 50, "temperature": 0.3,
            "messages": [{"role": "user", "content": "hello"}]}  # fmt: skip
    outcome = stack.call(CHAT_PATH, body, headers={"x-task": "chat"})
    assert outcome.upstream == "frontier-chat"
    assert json.loads(outcome.received.body) == dict(body, model="frontier-chat")
    assert outcome.log[EDITS] == "model"


def test_anthropic_request_for_an_openai_only_tier_goes_to_a_compatible_model(stack):
    # Classified `analysis`, whose only model is the OpenAI-shaped reasoning model.
    body = {
        "model": "claude-client",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": ANALYSIS_PROMPT}],
    }
    before = metrics(stack)
    outcome = stack.call("/v1/messages", body)
    assert outcome.response.status == 200
    assert outcome.upstream == "general-mini"
    assert outcome.log[TIER] == "analysis"
    assert outcome.log[MODEL] == "general-mini"
    assert outcome.log[SHAPE_FALLBACK] == "fallback_model"
    sent = json.loads(outcome.received.body)
    assert sent == dict(body, model="general-mini", max_tokens=4096)
    assert outcome.response.json()["model"] == "general-mini"
    # Counted under the tier and the model that served it, tokens and cost included.
    after = metrics(stack)
    labels = {"tier": "analysis", "model": "general-mini"}
    assert delta(before, after, "tier_router_requests_total", **labels) == 1
    tokens = int(outcome.log["gen_ai.usage.input_tokens"])
    assert tokens > 0
    assert delta(before, after, "tier_router_input_tokens_total", **labels) == tokens


@pytest.mark.parametrize("body", [b"{}", b" {\n} ", b'{"stream":false}'])
def test_analysis_task_on_an_empty_object_sends_valid_json(stack, body):
    outcome = stack.call(CHAT_PATH, body, headers={"x-task": "analysis",
                                                   "content-type": "application/json"})  # fmt: skip
    assert outcome.upstream == "reasoning-large"
    sent = json.loads(outcome.received.body)  # valid JSON, or this raises
    assert sent == dict(json.loads(body), model="reasoning-large", max_completion_tokens=4096)
    assert int(outcome.received.headers["content-length"]) == len(outcome.received.body)
    assert outcome.log[EDITS] == "model,floor"


@pytest.fixture(scope="module")
def openai_only(tmp_path_factory, envoy_bin, wasm_path):
    """The default config where no model serves Anthropic Messages."""
    config = copy.deepcopy(harness.FILTER_CONFIG)
    for model in config["models"]:
        model.pop("profile", None)
    config.pop("profiles", None)
    stack = harness.Stack(tmp_path_factory.mktemp("openai-only"), envoy_bin, wasm_path, config)
    stack.start()
    yield stack
    stack.stop()


def test_with_no_model_serving_the_api_the_request_passes_untouched(openai_only):
    body = b'{"model":"claude-client","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'
    outcome = openai_only.call(
        "/v1/messages", body, headers={"content-type": "application/json", "x-task": "analysis"}
    )
    assert outcome.response.status == 200
    # No cluster was set: the route the request takes without the router (the catch-all).
    assert outcome.upstream == harness.FILTER_CONFIG["fallback_model"]
    assert "x-tier-router-cluster" not in outcome.received.headers
    assert outcome.received.body == body
    assert outcome.log[SHAPE_FALLBACK] == "none"
    assert outcome.log[EDITS] is None
