"""Upstream faults, in a real Envoy: 429, 5xx, refused, reset, hung, a stream cut before
`[DONE]`, a garbage 200. Every tier has one model here (no failover is possible), so the
client gets the upstream's error as it was sent, or Envoy's own 503/504; the filter answers
nothing itself, its VM survives, and the log bills nothing the upstream did not report and
marks a cut stream as cut (docs/reliability.md)."""

import http.client
import json
import uuid

import pytest

import harness
from faulty_upstream import FAULT_HEADER, FaultyUpstream
from harness import MODEL, TIER
from reliability import assert_not_from_filter, one_model_per_tier, short_route_timeouts
from reliability import vm_unchanged  # noqa: F401 (fixture)

STACK_FIXTURE = "fault_stack"
CHAT = "/v1/chat/completions"
COST = "tier_router.cost_usd"
BASELINE = "tier_router.baseline_cost_usd"
USAGE_SOURCE = "tier_router.usage_source"
UPSTREAM_STATUS = "tier_router.upstream_status"
CUT = "tier_router.response_complete"
ABSENT = (None, "-", "")

pytestmark = pytest.mark.usefixtures("vm_unchanged")


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory, envoy_bin, wasm_path):
    config = one_model_per_tier(harness.FILTER_CONFIG)
    stack = harness.Stack(
        tmp_path_factory.mktemp("faults"), envoy_bin, wasm_path, config=config,
        edit_bootstrap=short_route_timeouts,
    )  # fmt: skip
    stack.mocks = {name: FaultyUpstream(name) for name in stack.mocks}
    try:
        yield stack.start()
    finally:
        stack.stop()


def label_body(**extra):
    messages = [{"role": "user", "content": "Classify the sentiment in one word: great!"}]
    return dict({"model": "client-model", "messages": messages}, **extra)


def call(stack, fault, body=None):
    """The request, its response (None when the connection broke mid-body) and its log."""
    request_id = str(uuid.uuid4())
    headers = {"x-request-id": request_id, FAULT_HEADER: fault}
    try:
        response = stack.send("POST", CHAT, body or label_body(), headers)
    except http.client.IncompleteRead:
        response = None
    received = stack.mocks["small-instruct"].find(request_id)
    assert received is not None, "the routed upstream did not receive the request"
    assert json.loads(received.body)["model"] == "small-instruct"
    log = stack.access_log.entry(request_id)
    assert (log[TIER], log[MODEL]) == ("label", "small-instruct")
    assert_not_from_filter(log)
    return response, log


def assert_nothing_billed(log):
    assert log[USAGE_SOURCE] == "none"
    assert (log["gen_ai.usage.input_tokens"], log["gen_ai.usage.output_tokens"]) == ("0", "0")
    assert float(log[COST]) == float(log[BASELINE]) == 0
    assert log[CUT] != "false"


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_an_upstream_error_reaches_the_client_as_sent(fault_stack, status):
    response, log = call(fault_stack, f"status:{status}")
    assert response.status == status
    assert response.json()["error"]["message"] == f"mock {status}"
    if status == 429:
        assert response.headers["retry-after"] == "1"
    assert (log["status"], log[UPSTREAM_STATUS], log["response_code_details"]) == (status, str(status), "via_upstream")
    assert_nothing_billed(log)


@pytest.mark.parametrize(
    "fault, status, flag, details",
    [
        ("reset", 503, "UC", "upstream_reset_before_response_started{connection_termination}"),
        ("hang", 504, "UT", "response_timeout"),
    ],
)
def test_a_reset_or_hung_upstream_gets_envoys_own_reply(fault_stack, fault, status, flag, details):
    response, log = call(fault_stack, fault)
    assert response.status == status
    assert response.headers["content-type"] == "text/plain"  # Envoy's local reply
    assert (log["status"], log["response_flags"], log["response_code_details"]) == (status, flag, details)
    assert log[UPSTREAM_STATUS] in ABSENT  # the upstream sent no status
    assert log["tier_router.ttft_ms"] in ABSENT
    assert_nothing_billed(log)


def test_a_refused_connection_gets_envoys_503(fault_stack):
    mock = fault_stack.mocks["reasoning-large"]
    port = mock.port
    mock.stop()
    try:
        request_id = str(uuid.uuid4())
        headers = {"x-request-id": request_id, "x-task": "analyze"}
        response = fault_stack.send("POST", CHAT, label_body(), headers)
        assert response.status == 503
        log = fault_stack.access_log.entry(request_id)
        assert (log[TIER], log[MODEL], log["response_flags"]) == ("analysis", "reasoning-large", "UF")
        assert "connection_failure" in log["response_code_details"]
        assert log[UPSTREAM_STATUS] in ABSENT
        assert_not_from_filter(log)
        assert_nothing_billed(log)
    finally:
        fault_stack.mocks["reasoning-large"] = FaultyUpstream("reasoning-large", port=port).start()


def test_a_stream_cut_before_done_is_logged_as_cut(fault_stack):
    response, log = call(fault_stack, "cut", label_body(stream=True))
    assert response is None  # the client saw the stream break, not a clean end
    assert (log["status"], log["response_flags"]) == (200, "UPE")
    assert log["response_code_details"].startswith("upstream_reset_after_response_started")
    assert log[CUT] == "false"
    # What was streamed before the cut is estimated (the upstream reported no usage).
    assert (log[UPSTREAM_STATUS], log[USAGE_SOURCE]) == ("200", "estimated")
    assert int(log["gen_ai.usage.output_tokens"]) > 0


def test_a_client_that_leaves_mid_stream_is_logged_as_cut(fault_stack):
    request_id = str(uuid.uuid4())
    headers = {"x-request-id": request_id, FAULT_HEADER: "slow", "content-type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", fault_stack.listener_port, timeout=10)
    try:
        conn.request("POST", CHAT, json.dumps(label_body(stream=True)), headers)
        response = conn.getresponse()
        assert response.status == 200
        assert response.read1(64)  # the first event arrived; then the client goes away
    finally:
        conn.close()
    log = fault_stack.access_log.entry(request_id)
    assert (log[TIER], log[MODEL], log["status"]) == ("label", "small-instruct", 200)
    assert "DC" in log["response_flags"].split(","), log["response_flags"]
    assert log[CUT] == "false"
    assert (log[UPSTREAM_STATUS], log[USAGE_SOURCE]) == ("200", "estimated")
    assert_not_from_filter(log)


def test_a_complete_stream_is_not_marked_cut(fault_stack):
    request_id = str(uuid.uuid4())
    body = label_body(stream=True)
    response = fault_stack.send("POST", CHAT, body, {"x-request-id": request_id})
    assert response.status == 200 and response.body.endswith(b"data: [DONE]\n\n")
    log = fault_stack.access_log.entry(request_id)
    assert (log[USAGE_SOURCE], log[CUT], log["response_flags"]) == ("reported", "true", "-")


@pytest.mark.parametrize("fault", ["garbage", "garbage:sse"])
def test_a_garbage_200_is_passed_on_and_its_usage_only_estimated(fault_stack, fault):
    from faulty_upstream import GARBAGE

    body = label_body(stream=True) if fault.endswith("sse") else label_body()
    response, log = call(fault_stack, fault, body)
    assert (response.status, response.body) == (200, GARBAGE)
    assert (log["status"], log[UPSTREAM_STATUS]) == (200, "200")
    assert log[USAGE_SOURCE] == "estimated"  # no usage could be read: never "reported"
    assert log[CUT] == "true"
