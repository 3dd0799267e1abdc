"""What an official SDK put on the wire, for the real-client tests: an HTTP client whose
request hook keeps each request the SDK sent (by x-request-id), so a test compares the body
the mock upstream received with the body the client sent, field by field."""

import json
import uuid

import harness
from test_telemetry import BASELINE, micro_usd, usd


class Wire:
    """`http_client_class`: the SDK's own `DefaultHttpxClient` (each SDK pins its httpx)."""

    def __init__(self, http_client_class):
        self.sent = {}
        self.http_client = http_client_class(event_hooks={"request": [self._keep]}, timeout=30)

    def _keep(self, request):
        request_id = request.headers.get("x-request-id")
        if request_id:
            self.sent[request_id] = request

    def sent_body(self, request_id):
        return json.loads(self.sent[request_id].read())


def new_request_id():
    return str(uuid.uuid4())


def received_by(stack, request_id):
    """(model name, ReceivedRequest) of the one mock that got the request."""
    hits = [(name, m.find(request_id)) for name, m in stack.mocks.items() if m.find(request_id)]
    assert len(hits) == 1, f"{request_id} reached {len(hits)} upstreams"
    return hits[0]


def assert_only_model_rewritten(wire, stack, request_id, model, **added):
    """The upstream got the client's body with `model` set (plus the fields in `added`, the
    router's edits), and a content-length that matches it."""
    upstream, received = received_by(stack, request_id)
    assert upstream == model
    assert json.loads(received.body) == dict(wire.sent_body(request_id), model=model, **added)
    assert int(received.headers["content-length"]) == len(received.body)
    return received


def assert_logged(log, model, input_tokens, cached, output_tokens, cache_writes=0):
    """Tokens, cost and baseline as the README's cost rule gives them (cache writes are in
    the input count, priced at the model's `cache_write` price)."""
    assert log[harness.MODEL] == model
    assert log["gen_ai.usage.input_tokens"] == str(input_tokens)
    assert log["gen_ai.usage.output_tokens"] == str(output_tokens)
    assert log["gen_ai.usage.cache_read.input_tokens"] == str(cached)
    assert log["gen_ai.usage.cache_creation.input_tokens"] == str(cache_writes)
    assert log["tier_router.usage_source"] == "reported"
    assert log["tier_router.upstream_status"] == "200"
    cost = micro_usd(model, input_tokens, cached, output_tokens, cache_writes)
    assert log["tier_router.cost_usd"] == usd(cost)
    assert log["tier_router.baseline_cost_usd"] == usd(
        micro_usd(BASELINE, input_tokens, cached, output_tokens, cache_writes)
    )
    assert 0 < float(log["tier_router.ttft_ms"]) <= float(log["tier_router.latency_ms"])
    return cost
