"""Writes small seed corpora for the fuzz targets from the repo's own bodies.

Requests come from tests/e2e/prompts.py (the e2e tests' bodies) in each API shape; responses
and SSE streams from scripts/mock_shapes.py / mock_upstream.py (what the mock upstreams send);
configs are envoy/tier-router.json and the deploy configs. Usage: python3 make_seeds.py DIR
(writes DIR/<target>/<name>). The fuzzers grow these; nothing here is committed output.
"""

import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import mock_shapes  # noqa: E402
import mock_upstream  # noqa: E402
import prompts  # noqa: E402

# route_bytes: the first byte picks the head (fuzz/src/route.rs `head`): path index + 9 *
# task index; 0 is Chat Completions without a task, 3 is /v1/messages, 3*9=27 analysis.
HEADS = {"chat": 0, "completions": 1, "responses": 2, "messages": 3}


def requests():
    for name, prompt in [
        ("label", prompts.LABEL_PROMPT),
        ("analysis", prompts.ANALYSIS_PROMPT),
        ("unmatched", prompts.UNMATCHED_PROMPT),
    ]:
        yield f"chat-{name}", "chat", prompts.chat(prompt)
        yield f"chat-{name}-stream", "chat", prompts.chat(prompt, stream=True, max_tokens=16)
        yield f"completions-{name}", "completions", {"model": "m", "prompt": prompt}
        yield f"responses-{name}", "responses", {"model": "m", "input": prompt,
                                                 "max_output_tokens": 8}
        yield f"messages-{name}", "messages", {
            "model": "m", "max_tokens": 64, "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]}
    yield "chat-conversation", "chat", prompts.conversation()
    yield "empty-object", "chat", {}


def responses():
    request = prompts.chat(prompts.LABEL_PROMPT, stream=True,
                           stream_options={"include_usage": True})
    for path, build, kind in mock_upstream.ENDPOINTS:
        name = path.strip("/").replace("/", "-")
        yield f"{name}-json", json.dumps(build("mock", request)).encode()
        if kind:
            events = mock_upstream.sse_events(kind, "mock", request)
            yield f"{name}-sse", "".join(events).encode()


def configs():
    yield "default", (ROOT / "envoy" / "tier-router.json").read_bytes()
    for path in sorted((ROOT / "deploy").rglob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(doc, dict) and "tiers" in doc:
            yield path.stem, path.read_bytes()


def write(out, target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main():
    out = Path(sys.argv[1])
    for name, shape, body in requests():
        data = json.dumps(body).encode()
        write(out, "route_bytes", name, bytes([HEADS[shape]]) + data)
        write(out, "route_bytes", name + "-analysis", bytes([HEADS[shape] + 27]) + data)
    for name, data in responses():
        write(out, "usage_chunks", name, struct.pack("<Q", 0x9E3779B97F4A7C15) + data)
    for name, data in configs():
        write(out, "config_json", name, b"\x00" + data)
    # route_json and the config edits are built by `arbitrary`: a few byte patterns start them.
    for i, seed in enumerate([b"\x00" * 64, bytes(range(256)), b"\x01" + bytes(range(255, 0, -1))]):
        write(out, "route_json", f"bytes-{i}", seed)
        write(out, "config_json", f"edits-{i}", b"\x01" + seed)


if __name__ == "__main__":
    main()
