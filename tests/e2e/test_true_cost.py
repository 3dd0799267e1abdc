"""Only what the upstream served is billed, and only the upstream's answers are timed: a 429
or 503 from the model, a refused connection and a timeout log cost 0 (`usage_source: none`)
and no TTFT; Envoy's response flags and the upstream's own status are logged; responses are
counted by status class; the upstream never sees the client's accept-encoding."""

import copy
import gzip
import json
import time
import uuid

import pytest

import harness
from prompts import chat
from test_telemetry import delta, metrics

CHAT = "/v1/chat/completions"
HISTOGRAM_FLUSH_S = 8  # Envoy publishes histograms at its stats flush (every 5 s by default)
ROUTE_TIMEOUT = "timeout: 1s"
# Envoy's compressor, placed before tier-router as the README says: it compresses for the
# client after tier-router has read the plain response.
COMPRESSOR = """\
          - name: envoy.filters.http.compressor
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
              compressor_library:
                name: gzip
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip
"""


def edit_bootstrap(text):
    anchor = "          http_filters:\n"
    assert anchor in text and "timeout: 120s" in text
    return text.replace("timeout: 120s", ROUTE_TIMEOUT).replace(anchor, anchor + COMPRESSOR, 1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, envoy_bin, wasm_path):
    # A short route timeout, so a slow model times out within the test. The client gets
    # each failure as it is (no failover) and a model that failed still gets the next
    # request (no cool-down): tests/e2e/test_failover.py tests both.
    config = copy.deepcopy(harness.FILTER_CONFIG)
    config["policies"] = {"unhealthy_seconds": 0}
    for tier in config["tiers"]:
        tier["failover"] = {"enabled": False}
    stack = harness.Stack(
        tmp_path_factory.mktemp("true-cost"),
        envoy_bin,
        wasm_path,
        config=config,
        edit_bootstrap=edit_bootstrap,
    )
    stack.start()
    # The analysis model's server is gone: Envoy's connections to its port are refused.
    stack.mocks["reasoning-large"].stop()
    yield stack
    stack.stop()


def send(stack, task, headers=None):
    """One request naming `task`, and its access-log line; works when no upstream answered."""
    request_id = str(uuid.uuid4())
    headers = {"x-task": task, "x-request-id": request_id, **(headers or {})}
    response = stack.send("POST", CHAT, chat("hello there"), headers)
    return response, stack.access_log.entry(request_id)


def assert_unbilled(log):
    assert log["tier_router.usage_source"] == "none", log
    assert log["tier_router.cost_usd"] == "0.000000", log
    assert log["tier_router.baseline_cost_usd"] == "0.000000", log
    assert log["gen_ai.usage.input_tokens"] == "0", log


@pytest.mark.parametrize("status", [429, 503])
def test_an_upstream_error_costs_nothing_and_logs_its_status(stack, status):
    mock = stack.mocks["small-instruct"]
    mock.fail_status = status
    try:
        response, log = send(stack, "label")
    finally:
        mock.fail_status = None
    assert response.status == status
    assert_unbilled(log)
    # The model did answer: its status and its time to first byte are logged.
    assert log["tier_router.upstream_status"] == str(status)
    assert float(log["tier_router.ttft_ms"]) > 0
    assert log["response_code_details"] == "via_upstream"
    assert log["response_flags"] == "-"


def test_a_refused_connection_costs_nothing_and_is_flagged(stack):
    response, log = send(stack, "analysis")
    assert response.status == 503
    assert_unbilled(log)
    # Envoy answered, not the model: no upstream status, no TTFT, and the flags say why.
    assert log["tier_router.upstream_status"] is None, log
    assert log["tier_router.ttft_ms"] is None, log
    assert "UF" in log["response_flags"].split(","), log
    assert log["response_code_details"] != "via_upstream"
    assert log["status"] == 503
    assert log["tier_router.latency_ms"] is not None


def test_a_timeout_costs_nothing_and_is_flagged(stack):
    mock = stack.mocks["frontier-chat"]
    mock.delay_s = 2.0
    try:
        response, log = send(stack, "chat")
    finally:
        mock.delay_s = 0.0
    assert response.status == 504
    assert_unbilled(log)
    assert log["tier_router.upstream_status"] is None, log
    assert log["tier_router.ttft_ms"] is None, log
    assert "UT" in log["response_flags"].split(","), log


def test_a_served_request_is_still_priced_and_timed(stack):
    response, log = send(stack, "label")
    assert response.status == 200
    assert log["tier_router.usage_source"] == "reported"
    assert float(log["tier_router.cost_usd"]) > 0
    assert float(log["tier_router.baseline_cost_usd"]) > 0
    assert float(log["tier_router.ttft_ms"]) > 0
    assert log["tier_router.upstream_status"] == "200"
    assert log["response_code_details"] == "via_upstream"


def test_responses_are_counted_by_status_class_and_only_answers_are_timed(stack):
    before = metrics(stack)
    mock = stack.mocks["small-instruct"]
    mock.fail_status = 503
    try:
        send(stack, "label")
    finally:
        mock.fail_status = None
    send(stack, "label")
    send(stack, "analysis")  # refused
    after = metrics(stack)
    label = {"tier": "label", "model": "small-instruct"}
    analysis = {"tier": "analysis", "model": "reasoning-large"}
    assert delta(before, after, "tier_router_responses_total", status_class="5xx", **label) == 1
    assert delta(before, after, "tier_router_responses_total", status_class="2xx", **label) == 1
    assert delta(before, after, "tier_router_responses_total", status_class="5xx", **analysis) == 1
    assert delta(before, after, "tier_router_cost_micro_usd_total", **analysis) == 0
    # Once the label answers' TTFTs are published, the refused requests' would be too.
    deadline = time.monotonic() + HISTOGRAM_FLUSH_S
    while True:
        now = metrics(stack)
        if delta(before, now, "tier_router_ttft_ms_count", **label) >= 2:
            break
        assert time.monotonic() < deadline, "no TTFT samples in /stats/prometheus"
        time.sleep(0.5)
    assert now.get(("tier_router_ttft_ms_count", frozenset(analysis.items())), 0) == 0
    assert now.get(("tier_router_latency_ms_count", frozenset(analysis.items())), 0) == 0


def test_the_upstream_never_sees_accept_encoding_and_a_compressor_still_serves_gzip(stack):
    outcome = stack.call(CHAT, chat("hello"), headers={"x-task": "label", "accept-encoding": "gzip"})
    assert outcome.response.status == 200
    assert "accept-encoding" not in outcome.received.headers
    # tier-router read the plain answer; the compressor before it gzipped it for the client.
    assert outcome.response.headers.get("content-encoding") == "gzip"
    usage = json.loads(gzip.decompress(outcome.response.body))["usage"]
    assert outcome.log["tier_router.usage_source"] == "reported"
    assert outcome.log["gen_ai.usage.input_tokens"] == str(usage["prompt_tokens"])
