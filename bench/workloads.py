"""Request bodies (from the eval prompts) and the mock upstream's responses.

Bodies are OpenAI Chat Completions requests, one compact JSON object a line, the format
bench/wrk/bodies.lua reads. They name `"model": "auto"`: tier-router rewrites it, LiteLLM's
router picks a deployment of its `auto` model group.
"""

import json
from pathlib import Path

MODEL = "auto"
# Prompt sizes of the core microbenchmark and of the long-prompt load (bytes of prompt text).
LONG_PROMPT_BYTES = 32768
LONG_VARIANTS = 16


def load_prompts(path):
    path = Path(path)
    if not path.is_file():
        raise SystemExit(
            f"bench: the eval prompts are missing: {path}\n"
            "They are read from shared/eval/ beside the repo (../shared/eval/ from the repo root);"
            " pass --prompts FILE to use another copy."
        )
    prompts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            prompt = json.loads(line)["prompt"]
        except (ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"bench: {path}:{number}: not a prompt line ({e})") from None
        prompts.append(prompt)
    if not prompts:
        raise SystemExit(f"bench: no prompts in {path}")
    return prompts


def chat_body(prompt, stream=False):
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":"))


def long_prompt(prompts, start, size):
    """`size` bytes of real prompt text: prompts from `start` on, joined by blank lines (as
    bench/core-bench builds its bodies)."""
    parts, length, i = [], 0, start
    while length < size:
        text = prompts[i % len(prompts)]
        parts.append(text)
        length += len(text.encode()) + 2
        i += 1
    data = "\n\n".join(parts).encode()[:size]
    return data.decode("utf-8", errors="ignore")


def write_bodies(prompts, out_dir):
    """Writes the body files; returns {workload: (path, mean body bytes)}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sets = {
        "mix": [chat_body(p) for p in prompts],
        "32k": [
            chat_body(long_prompt(prompts, v * 31, LONG_PROMPT_BYTES)) for v in range(LONG_VARIANTS)
        ],
        "stream": [chat_body(p, stream=True) for p in prompts],
    }
    files = {}
    for name, bodies in sets.items():
        path = out_dir / f"bodies-{name}.jsonl"
        path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        mean = sum(len(b.encode()) for b in bodies) / len(bodies)
        files[name] = (path, mean)
    return files


USAGE = {
    "prompt_tokens": 812,
    "completion_tokens": 40,
    "total_tokens": 852,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}
ANSWER = (
    "Mock answer from the benchmark upstream: a few sentences of plain text, about as long as "
    "a short reply from a chat model, so the response path carries a realistic body."
)
BASE = {
    "id": "chatcmpl-bench0123456789abcdef",
    "created": 1767225600,
    "model": "frontier-chat",
    "system_fingerprint": "fp_bench",
}


def chat_response():
    return json.dumps(
        dict(
            BASE,
            object="chat.completion",
            choices=[
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            usage=USAGE,
        ),
        separators=(",", ":"),
    )


def sse_response():
    """A streamed chat completion with `include_usage`: role chunk, one chunk per word,
    finish chunk, usage chunk, `[DONE]`."""
    chunk = dict(BASE, object="chat.completion.chunk")

    def event(delta, finish=None):
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return dict(chunk, choices=[choice], usage=None)

    words = ANSWER.split(" ")
    events = [event({"role": "assistant", "content": ""})]
    events += [event({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
    events.append(event({}, "stop"))
    events.append(dict(chunk, choices=[], usage=USAGE))
    lines = [f"data: {json.dumps(e, separators=(',', ':'))}\n\n" for e in events]
    return "".join(lines) + "data: [DONE]\n\n"


def write_responses(out_dir):
    out_dir = Path(out_dir)
    json_path, sse_path = out_dir / "response.json", out_dir / "response.sse"
    json_path.write_text(chat_response(), encoding="utf-8")
    sse_path.write_text(sse_response(), encoding="utf-8")
    return json_path, sse_path
