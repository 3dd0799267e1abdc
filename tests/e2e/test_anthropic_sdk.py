"""The official `anthropic` SDK through Envoy: Messages, streamed Messages and prompt-caching
usage. Routing picks a model that serves the Anthropic API, the upstream gets the client's body
with only `model` rewritten, and the log has Anthropic's usage (input_tokens excludes the cache
counts, which the router adds back) and its cost."""

import uuid

import anthropic
import pytest

from harness import TIER
from prompts import LABEL_PROMPT
from sdk_wire import Wire, assert_logged, assert_only_model_rewritten, new_request_id
from test_telemetry import PRICES, micro_usd

SHAPE_FALLBACK = "tier_router.shape_fallback"


@pytest.fixture(scope="module")
def wire():
    return Wire(anthropic.DefaultHttpxClient)


@pytest.fixture(scope="module")
def claude(stack, wire):
    """The anthropic SDK pointed at the stack's Envoy (it posts to /v1/messages)."""
    return anthropic.Anthropic(
        base_url=f"http://127.0.0.1:{stack.listener_port}",
        api_key="not-used-by-the-mock",
        max_retries=0,
        http_client=wire.http_client,
    )


def anthropic_input(usage):
    """Every prompt token: Anthropic's input_tokens counts only those after the cache."""
    return (
        usage.input_tokens
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )


def test_classified_message_goes_to_a_model_serving_anthropic(stack, claude, wire):
    # A label prompt; the label tier's model speaks only OpenAI, so the fallback model
    # (which serves both) takes it.
    request_id = new_request_id()
    message = claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=16,
        messages=[{"role": "user", "content": LABEL_PROMPT}],
        extra_headers={"x-request-id": request_id},
    )
    assert message.model == "general-mini"
    assert message.content[0].text.startswith("Mock answer from general-mini")
    assert message.stop_reason == "end_turn"
    assert_only_model_rewritten(wire, stack, request_id, "general-mini")
    log = stack.access_log.entry(request_id)
    assert log[TIER] == "label"
    assert log[SHAPE_FALLBACK] == "fallback_model"
    usage = message.usage
    assert usage.cache_read_input_tokens == 0 and usage.cache_creation_input_tokens == 0
    assert_logged(log, "general-mini", usage.input_tokens, 0, usage.output_tokens)


def test_message_with_a_task_header_goes_to_the_chat_model(stack, claude, wire):
    request_id = new_request_id()
    message = claude.messages.create(
        model="claude-opus-4-1",
        max_tokens=512,
        system="You are a helpful writing assistant.",
        messages=[
            {"role": "user", "content": "My colleague invited me to give a talk."},
            {"role": "assistant", "content": "How would you like to answer?"},
            {"role": "user", "content": [{"type": "text", "text": "Say yes, warmly."}]},
        ],
        extra_headers={"x-request-id": request_id, "x-task": "converse"},
    )
    assert message.model == "frontier-chat"
    assert_only_model_rewritten(wire, stack, request_id, "frontier-chat")
    log = stack.access_log.entry(request_id)
    assert (log[TIER], log["tier_router.decision_source"]) == ("chat", "header")
    assert log["tier_router.edits"] == "model"
    assert_logged(log, "frontier-chat", message.usage.input_tokens, 0, message.usage.output_tokens)


def test_streamed_message_logs_the_usage_of_both_events(stack, claude, wire):
    # Input counts come in message_start, the output count in message_delta.
    request_id = new_request_id()
    with claude.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=[{"role": "user", "content": "Write a poem about the sea, in a friendly tone."}],
        extra_headers={"x-request-id": request_id},
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert final.model == "frontier-chat"
    assert text.startswith("Mock answer from frontier-chat") and text.endswith("😀.")
    assert final.usage.output_tokens > 1
    # Streamed as sent: Anthropic rejects unknown fields, so no stream_options is added.
    received = assert_only_model_rewritten(wire, stack, request_id, "frontier-chat")
    assert b"stream_options" not in received.body
    log = stack.access_log.entry(request_id)
    assert log[TIER] == "chat"
    assert_logged(log, "frontier-chat", final.usage.input_tokens, 0, final.usage.output_tokens)


def test_prompt_caching_usage_is_logged_and_priced(stack, claude, wire):
    # A system prompt over Anthropic's 1,024-token minimum, marked for caching; unique to
    # this run so the mock's cache starts cold. First call writes it, the second reads it.
    policy = f"Policy {uuid.uuid4()}: " + "Refunds within 30 days need a receipt. " * 130
    system = [{"type": "text", "text": policy, "cache_control": {"type": "ephemeral"}}]
    costs = []
    for call in ("write", "read"):
        request_id = new_request_id()
        kwargs = dict(
            model="claude-sonnet-4-5",
            max_tokens=300,
            system=system,
            messages=[{"role": "user", "content": f"Draft a reply to a refund request ({call})."}],
            extra_headers={"x-request-id": request_id, "x-task": "converse"},
        )
        if call == "write":
            message = claude.messages.create(**kwargs)
        else:
            with claude.messages.stream(**kwargs) as stream:
                message = stream.get_final_message()
        usage = message.usage
        written, read = usage.cache_creation_input_tokens, usage.cache_read_input_tokens
        if call == "write":
            assert written > 1000 and read == 0
            assert usage.cache_creation.ephemeral_5m_input_tokens == written
        else:
            assert written == 0 and read > 1000
        assert usage.input_tokens < 100  # only the tokens after the cached prefix
        assert message.model == "frontier-chat"
        assert_only_model_rewritten(wire, stack, request_id, "frontier-chat")
        log = stack.access_log.entry(request_id)
        if call == "write":
            first = (anthropic_input(usage), written, usage.output_tokens)
        costs.append(
            assert_logged(
                log, "frontier-chat", anthropic_input(usage), read, usage.output_tokens, written
            )
        )
    # Reading the cache is billed at the cached-input price: the second call costs less.
    assert costs[1] < costs[0]
    # Writing it is billed at Anthropic's 1.25x input (the shipped `cache_write`), not at
    # the input price: the logged cost of the first call carries the difference.
    price = PRICES["frontier-chat"]
    assert price["cache_write"] == 1.25 * price["input"]
    (w_input, w_written, w_output), logged_write = first, costs[0]
    at_input_price = micro_usd("frontier-chat", w_input, 0, w_output)
    surcharge = w_written * (price["cache_write"] - price["input"])  # > 750 micro-USD here
    assert abs((logged_write - at_input_price) - surcharge) <= 1  # each cost rounded once


def test_extended_thinking_is_analysis_and_gets_the_token_floor(stack, claude, wire):
    # `thinking` is the analysis tier's signal; its model speaks only OpenAI, so the fallback
    # model serves it, with max_tokens raised to the tier's floor (still above the budget).
    request_id = new_request_id()
    message = claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=3000,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": "Is 2^61 - 1 prime? Think it through."}],
        extra_headers={"x-request-id": request_id},
    )
    assert message.model == "general-mini"
    assert_only_model_rewritten(wire, stack, request_id, "general-mini", max_tokens=4096)
    log = stack.access_log.entry(request_id)
    assert log[TIER] == "analysis"
    assert "signal:reasoning_effort" in log["tier_router.matched_cues"]
    assert (log["tier_router.floor_applied"], log[SHAPE_FALLBACK]) == ("4096", "fallback_model")
    assert_logged(log, "general-mini", message.usage.input_tokens, 0, message.usage.output_tokens)
