#!/usr/bin/env python3
"""What a failover adds to a request's latency, through a real Envoy with the filter and
mock upstreams: the median time of a request its first model answers, and of one whose
first model answers 429 (or refuses the connection) and whose second model answers.

    python3 bench/failover_latency.py [--requests 200]

Prints medians and the difference; the figures in docs/failover.md come from this script.
Uses the e2e harness (tests/e2e/harness.py): the module must be built (`make wasm`).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

CHAT = "/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}
CONFIG = {
    "fallback_model": "spare",
    "models": [
        {"name": "first", "cluster": "first"},
        {"name": "second", "cluster": "second"},
        {"name": "spare", "cluster": "spare"},
    ],
    "tiers": [{"name": "pair", "models": ["first", "second"]}],
    # No cool-down: every request tries `first` again, so every failing request fails over.
    "policies": {"unhealthy_seconds": 0},
}


def timed(stack, n, stream=False):
    body = dict(BODY, stream=True) if stream else BODY
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = stack.send("POST", CHAT, body, {"x-task": "pair"})
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, response
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = harness.Stack(tmp, harness.find_envoy(), harness.ensure_wasm(), CONFIG)
        stack.start()
        try:
            timed(stack, 20)  # warm up connections and the VM
            rows = [("first model answers", timed(stack, args.requests))]
            rows.append(("  (streamed)", timed(stack, args.requests, stream=True)))
            stack.mocks["first"].fail_status = 429
            rows.append(("first 429, second answers", timed(stack, args.requests)))
            rows.append(("  (streamed)", timed(stack, args.requests, stream=True)))
            stack.mocks["first"].fail_status = None
            stack.mocks["first"].stop()
            rows.append(("first refused, second answers", timed(stack, args.requests)))
        finally:
            stack.stop()
    base = rows[0][1]
    print(f"{'case':34} {'median ms':>10} {'added ms':>9}")
    for name, median in rows:
        ref = rows[1][1] if "streamed" in name else base
        print(f"{name:34} {median:10.2f} {median - ref:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
