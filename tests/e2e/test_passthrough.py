"""Requests the filter does not read (no body, not JSON, over max_body_bytes) pass through
byte for byte, to the fallback model's cluster unless a task was given, and a client still
cannot choose the cluster."""

import json

import pytest

import harness
from harness import MODEL, SOURCE, TIER

SPOOF = {"x-tier-router-cluster": "reasoning_large"}


def test_get_without_body_goes_to_fallback(stack, fallback_model):
    outcome = stack.call("/v1/models", method="GET", headers=SPOOF)
    assert outcome.response.status == 200
    assert outcome.upstream == fallback_model
    assert outcome.received.method == "GET"
    assert outcome.received.body == b""
    assert outcome.received.headers["x-tier-router-cluster"] == stack.cluster_of[fallback_model]
    assert outcome.log[MODEL] == fallback_model


def test_non_json_body_is_forwarded_unchanged_to_fallback(stack, fallback_model):
    body = b"not json at all"
    headers = dict(SPOOF, **{"content-type": "text/plain"})
    outcome = stack.call("/v1/chat/completions", body, headers=headers)
    assert outcome.response.status == 200
    assert outcome.response.json()["echo"] is True
    assert outcome.upstream == fallback_model
    assert outcome.received.body == body
    assert outcome.received.headers["content-length"] == str(len(body))
    assert outcome.received.headers["x-tier-router-cluster"] == stack.cluster_of[fallback_model]
    assert outcome.log[MODEL] == fallback_model


def test_explicit_task_still_applies_to_a_non_json_body(stack):
    body = b"not json at all"
    headers = {"content-type": "text/plain", "x-task": "analyze"}
    outcome = stack.call("/v1/chat/completions", body, headers=headers)
    assert outcome.upstream == "reasoning-large"
    assert outcome.received.body == body
    assert (outcome.log[TIER], outcome.log[SOURCE]) == ("analysis", "header")


def oversized_body(limit):
    """A valid chat body just over the filter's max_body_bytes."""
    text = "Classify this text. " + "x" * (limit + 1024)
    body = {"model": "client-picked-model", "messages": [{"role": "user", "content": text}]}
    return json.dumps(body).encode()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_max_body_bytes_passes_through_unread(stack, chunked):
    body = oversized_body(harness.FILTER_CONFIG["max_body_bytes"])
    headers = {"x-task": "classify", "content-type": "application/json"}
    outcome = stack.call("/v1/chat/completions", body, headers=headers, chunked=chunked)
    assert outcome.response.status == 200
    assert outcome.upstream == "small-instruct"
    assert outcome.received.body == body  # not rewritten: the filter did not read it
    assert outcome.log[SOURCE] == "header"
