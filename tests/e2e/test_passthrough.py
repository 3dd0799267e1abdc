"""Requests the filter does not rewrite (not an LLM endpoint, no body, not JSON, over
max_body_bytes) pass through byte for byte to the catch-all route (the fallback model's
cluster) with no cluster header: neither the client nor an explicit task picks a cluster
for a body the router did not rewrite. tests/e2e/test_bypass.py covers each reason."""

import json

import pytest

import harness
from harness import MODEL, TIER

SPOOF = {"x-tier-router-cluster": "reasoning_large"}
ABSENT = (None, "-", "")


def assert_catch_all(outcome, fallback_model, reason):
    assert outcome.response.status == 200
    assert outcome.upstream == fallback_model
    assert "x-tier-router-cluster" not in outcome.received.headers
    assert outcome.log[TIER] == "passthrough"
    assert outcome.log["tier_router.pass_reason"] == reason
    assert outcome.log["tier_router.rewritten"] == "false"


def test_get_without_body_goes_to_the_catch_all(stack, fallback_model):
    outcome = stack.call("/v1/models", method="GET", headers=SPOOF)
    assert_catch_all(outcome, fallback_model, "endpoint")
    assert outcome.received.method == "GET"
    assert outcome.received.body == b""
    assert outcome.log[MODEL] in ABSENT


def test_a_bodiless_request_to_an_llm_endpoint_passes(stack, fallback_model):
    outcome = stack.call("/v1/chat/completions", method="GET", headers=SPOOF)
    assert_catch_all(outcome, fallback_model, "no_body")


def test_non_json_body_is_forwarded_unchanged(stack, fallback_model):
    body = b"not json at all"
    headers = dict(SPOOF, **{"content-type": "text/plain"})
    outcome = stack.call("/v1/chat/completions", body, headers=headers)
    assert_catch_all(outcome, fallback_model, "not_json")
    assert outcome.response.json()["echo"] is True
    assert outcome.received.body == body
    assert outcome.received.headers["content-length"] == str(len(body))


def test_an_explicit_task_does_not_send_an_unrewritten_body_to_its_tier(stack, fallback_model):
    body = b"not json at all"
    headers = {"content-type": "text/plain", "x-task": "analyze"}
    outcome = stack.call("/v1/chat/completions", body, headers=headers)
    # The reasoning tier would get a body the router did not rewrite: it goes to the catch-all.
    assert_catch_all(outcome, fallback_model, "not_json")
    assert outcome.received.body == body


def oversized_body(limit):
    """A valid chat body just over the filter's max_body_bytes."""
    text = "Classify this text. " + "x" * (limit + 1024)
    body = {"model": "client-picked-model", "messages": [{"role": "user", "content": text}]}
    return json.dumps(body).encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_max_body_bytes_passes_through_unread(stack, chunked, fallback_model):
    body = oversized_body(harness.FILTER_CONFIG["max_body_bytes"])
    headers = {"x-task": "classify", "content-type": "application/json"}
    outcome = stack.call("/v1/chat/completions", body, headers=headers, chunked=chunked)
    assert_catch_all(outcome, fallback_model, "too_large")
    assert outcome.received.body == body  # not rewritten: the filter did not read it
    assert outcome.log[MODEL] == "client-picked-model"  # read as the body went by
