"""Response bodies of the LLM APIs the mock upstream imitates.

OpenAI Chat Completions, Completions, Responses and Anthropic Messages, each as one JSON body
and (where clients stream) as a list of SSE events. Token counts are rough (chars / 4) but
shaped like the real `usage` objects, so clients and log readers see realistic fields.
"""

import time
import uuid

# Fields that carry prompt text in the four request shapes.
PROMPT_FIELDS = ("messages", "prompt", "input", "instructions", "system")
# Keys inside messages / content parts that are structure, not text.
NON_TEXT_KEYS = {"role", "type", "id", "name", "cache_control", "tool_call_id"}


def prompt_text(body):
    """All prompt strings of a request body, joined (for token estimates)."""
    parts = []
    for field in PROMPT_FIELDS:
        collect_strings(body.get(field), parts)
    return "\n".join(parts)


def collect_strings(value, out):
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            collect_strings(item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NON_TEXT_KEYS:
                collect_strings(item, out)


def estimate_tokens(text):
    return max(1, len(text) // 4)


def cached_tokens(prompt_tokens):
    # Providers cache prompt prefixes in blocks once a prompt is long enough (1024 tokens).
    return 0 if prompt_tokens < 1024 else (prompt_tokens // 2) // 128 * 128


def answer_for(upstream, body):
    prompt = prompt_text(body)
    # Multi-byte characters, so a stream split at byte boundaries splits characters too.
    return f"Mock answer from {upstream} to a {len(prompt)}-character prompt: café ✓ 😀."


def words(text):
    """The answer split into stream deltas that join back to the text."""
    pieces = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(pieces)]


def new_id(prefix):
    return f"{prefix}{uuid.uuid4().hex[:24]}"


# --- OpenAI Chat Completions ---------------------------------------------------------------


def chat_usage(prompt_tokens, completion_tokens):
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens(prompt_tokens), "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def usage_for(body, answer):
    return estimate_tokens(prompt_text(body)), estimate_tokens(answer)


def chat_completion(upstream, body):
    answer = answer_for(upstream, body)
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": chat_usage(*usage_for(body, answer)),
        "system_fingerprint": "fp_mock",
    }


def chat_completion_events(upstream, body):
    """SSE `data:` payloads of a streamed chat completion (without the final [DONE])."""
    answer = answer_for(upstream, body)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model"),
        "system_fingerprint": "fp_mock",
    }

    def chunk(delta, finish_reason=None):
        event = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish_reason}])
        if include_usage:
            event["usage"] = None
        return event

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in words(answer)]
    events.append(chunk({}, "stop"))
    if include_usage:
        events.append(dict(base, choices=[], usage=chat_usage(*usage_for(body, answer))))
    return events


# --- OpenAI Completions (legacy) ------------------------------------------------------------


def completion(upstream, body):
    answer = answer_for(upstream, body)
    prompt_tokens, completion_tokens = usage_for(body, answer)
    return {
        "id": new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "text": answer, "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


# --- OpenAI Responses -------------------------------------------------------------------------


def response(upstream, body):
    answer = answer_for(upstream, body)
    input_tokens, output_tokens = usage_for(body, answer)
    return {
        "id": new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": body.get("model"),
        "output": [
            {
                "id": new_id("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer, "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached_tokens(input_tokens)},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }


# --- Anthropic Messages -----------------------------------------------------------------------


def anthropic_usage(input_tokens, output_tokens):
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached_tokens(input_tokens),
    }


def message(upstream, body):
    answer = answer_for(upstream, body)
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": [{"type": "text", "text": answer}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(*usage_for(body, answer)),
    }


def message_events(upstream, body):
    """(event name, payload) pairs of a streamed Anthropic message."""
    answer = answer_for(upstream, body)
    input_tokens, output_tokens = usage_for(body, answer)
    start = dict(message(upstream, body), content=[], stop_reason=None)
    start["usage"] = anthropic_usage(input_tokens, 1)
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    for piece in words(answer):
        delta = {"type": "text_delta", "text": piece}
        events.append(
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def model_list(upstream):
    return {"object": "list", "data": [{"id": upstream, "object": "model", "owned_by": "mock"}]}
