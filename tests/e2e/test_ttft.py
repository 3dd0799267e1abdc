"""TTFT is time to the first content token, not to the first byte: a stream whose upstream
sends its opening events (`message_start`, `response.created`, the role-only chunk) at once
and its first token only after a pause gets a `tier_router.ttft_ms` that includes the pause,
and a `tier_router.ttfb_ms` that does not."""

import pytest

from harness import MODEL

PAUSE_S = 0.4
MODEL_NAME = "frontier-chat"  # serves every API shape; the chat tier's model

STREAMS = {
    "anthropic_messages": (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": True,
         "messages": [{"role": "user", "content": "Say hello."}]},
        b"event: message_start",
    ),
    "responses": (
        "/v1/responses",
        {"model": "gpt-4.1", "stream": True, "input": "Say hello."},
        b"event: response.created",
    ),
    "chat_completions": (
        "/v1/chat/completions",
        {"model": "gpt-4.1", "stream": True,
         "messages": [{"role": "user", "content": "Say hello."}]},
        b'"role": "assistant"',
    ),
}


@pytest.mark.parametrize("shape", sorted(STREAMS))
def test_ttft_waits_for_the_first_token_and_ttfb_does_not(stack, shape):
    path, body, opening = STREAMS[shape]
    mock = stack.mocks[MODEL_NAME]
    mock.first_token_delay_s = PAUSE_S
    try:
        outcome = stack.call(path, body, headers={"x-task": "chat"})
    finally:
        mock.first_token_delay_s = 0.0
    assert outcome.response.status == 200
    assert opening in outcome.response.body  # the stream did open before its first token
    log = outcome.log
    assert log[MODEL] == MODEL_NAME
    ttft, ttfb = float(log["tier_router.ttft_ms"]), float(log["tier_router.ttfb_ms"])
    latency = float(log["tier_router.latency_ms"])
    # The token came after the pause; the first byte before it (the opening events are
    # written at once), so the two are the pause apart.
    assert ttft >= PAUSE_S * 1000, log
    assert ttft - ttfb >= PAUSE_S * 1000 * 0.75, log
    assert 0 < ttfb < ttft <= latency, log


def test_without_a_pause_a_non_streamed_answer_has_ttft_at_its_first_byte(stack):
    outcome = stack.call(
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64,
         "messages": [{"role": "user", "content": "Say hello."}]},
        headers={"x-task": "chat"},
    )
    assert outcome.response.status == 200
    log = outcome.log
    # A JSON answer arrives whole: its first byte is its first token.
    assert log["tier_router.ttft_ms"] == log["tier_router.ttfb_ms"], log
