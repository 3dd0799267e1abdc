"""Response bodies of the LLM APIs the mock upstream imitates.

OpenAI Chat Completions, Completions, Responses and Anthropic Messages, each as one JSON body
and (where clients stream) as a list of SSE events. Token counts are rough (chars / 4) but
shaped like the real `usage` objects, so clients and log readers see realistic fields.
Anthropic prompt caching is imitated: a prefix marked `cache_control` is written to the cache
on its first request and read on the next ones (see `anthropic_usage`).
"""

import hashlib
import threading
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


def shape_chat(payload, reply, body):
    """Replaces the answer of a `chat_completion` payload with `reply`'s fields (see
    MockUpstream.chat_reply); usage follows the new content."""
    choice = payload["choices"][0]
    message = choice["message"]
    for key in ("content", "refusal"):
        if key in reply:
            message[key] = reply[key]
    choice["finish_reason"] = reply.get("finish_reason", "stop")
    content = message["content"] or ""
    if body.get("logprobs") and "logprob" in reply:
        tokens = words(content) or [""]
        choice["logprobs"] = {
            "content": [
                {"token": t, "logprob": reply["logprob"], "bytes": None, "top_logprobs": []}
                for t in tokens
            ],
            "refusal": None,
        }
    payload["usage"] = chat_usage(*usage_for(body, content))
    return payload


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


def response(upstream, body, answer=None):
    answer = answer or answer_for(upstream, body)
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


def response_events(upstream, body):
    """(event name, payload) pairs of a streamed Responses answer; usage comes only in the
    last one, `response.completed`."""
    answer = answer_for(upstream, body)
    final = response(upstream, body, answer)
    item = final["output"][0]
    started = dict(final, status="in_progress", output=[], usage=None)
    empty_item = dict(item, status="in_progress", content=[])
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": item["id"], "output_index": 0}
    events = [
        ("response.created", {"response": started}),
        ("response.in_progress", {"response": started}),
        ("response.output_item.added", {"output_index": 0, "item": empty_item}),
        ("response.content_part.added", dict(where, content_index=0, part=part)),
    ]
    for piece in words(answer):
        events.append(
            ("response.output_text.delta", dict(where, content_index=0, delta=piece, logprobs=[]))
        )
    events += [
        ("response.output_text.done", dict(where, content_index=0, text=answer, logprobs=[])),
        ("response.content_part.done", dict(where, content_index=0, part=dict(part, text=answer))),
        ("response.output_item.done", {"output_index": 0, "item": item}),
        ("response.completed", {"response": final}),
    ]
    return [
        (name, dict(payload, type=name, sequence_number=n)) for n, (name, payload) in enumerate(events)
    ]


# --- Anthropic Messages -----------------------------------------------------------------------

# Prompt prefixes each mock model has cached: (model, sha256 of the prefix).
_PROMPT_CACHE = set()
_PROMPT_CACHE_LOCK = threading.Lock()
# Anthropic caches a prefix only from this many tokens on (1,024 for most models).
MIN_CACHEABLE_TOKENS = 1024


def cacheable_prefix(body):
    """The prompt text up to and including the last block marked `cache_control` (system
    blocks, then messages, in order), or None when nothing is marked."""
    blocks = []
    system = body.get("system")
    blocks += system if isinstance(system, list) else [{"text": system}] if system else []
    for turn in body.get("messages") or []:
        content = turn.get("content") if isinstance(turn, dict) else None
        blocks += content if isinstance(content, list) else [{"text": content}]
    marked = [i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("cache_control")]
    if not marked:
        return None
    parts = []
    collect_strings(blocks[: marked[-1] + 1], parts)
    return "\n".join(parts)


def anthropic_usage(upstream, body, output_tokens):
    """Usage as Anthropic reports it: a marked prefix of at least MIN_CACHEABLE_TOKENS is
    written to the cache on first sight and read from it afterwards, and `input_tokens`
    counts only the tokens after it (Anthropic's input_tokens excludes both cache counts)."""
    total = estimate_tokens(prompt_text(body))
    written = read = 0
    prefix = cacheable_prefix(body)
    prefix_tokens = estimate_tokens(prefix) if prefix else 0
    if prefix_tokens >= MIN_CACHEABLE_TOKENS:
        key = (upstream, hashlib.sha256(prefix.encode()).hexdigest())
        with _PROMPT_CACHE_LOCK:
            hit = key in _PROMPT_CACHE
            _PROMPT_CACHE.add(key)
        written, read = (0, prefix_tokens) if hit else (prefix_tokens, 0)
    return {
        "input_tokens": total - written - read,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        # The breakdown by cache lifetime and the service tier, as the API sends them.
        "cache_creation": {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message(upstream, body, answer=None, usage=None):
    answer = answer or answer_for(upstream, body)
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": [{"type": "text", "text": answer}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage or anthropic_usage(upstream, body, estimate_tokens(answer)),
    }


def message_events(upstream, body):
    """(event name, payload) pairs of a streamed Anthropic message: input and cache counts
    in `message_start`, the output count in `message_delta`."""
    answer = answer_for(upstream, body)
    output_tokens = estimate_tokens(answer)
    usage = anthropic_usage(upstream, body, 1)
    start = dict(message(upstream, body, answer, usage), content=[], stop_reason=None)
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
