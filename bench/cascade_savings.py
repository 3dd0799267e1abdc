#!/usr/bin/env python3
"""The cascade's savings and the latency an escalation adds, measured through a real Envoy.

Mock upstreams: a cheap model whose answers pass the gate for `--pass-percent` of the
requests (the rest answer off the tier's label set, so the gate escalates them) and a strong
model that always answers a label. The same requests go once to a cascade tier (cheap, then
strong) and once straight to the strong model; the access log gives the cost of each run
(`tier_router.cost_usd`, every attempt added up) and each request's latency.

    python3 bench/cascade_savings.py                # 200 requests, 70% pass, 20 ms mocks
    python3 bench/cascade_savings.py --requests 500 --pass-percent 50 --delay-ms 0

Prints one table; numbers are from this run only (mock upstreams, one machine).
"""

import argparse
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402  (tests/e2e/harness.py: Envoy + mock upstreams)

LABELS = ["positive", "negative", "neutral"]
CONFIG = {
    "fallback_model": "strong",
    "baseline_model": "strong",
    "models": [
        {"name": "cheap", "cluster": "cheap", "price_per_1m": {"input": 0.15, "output": 0.6}},
        {"name": "strong", "cluster": "strong", "price_per_1m": {"input": 3.0, "output": 15.0}},
    ],
    "tiers": [
        {
            "name": "sentiment",
            "models": ["cheap", "strong"],
            "policy": "cascade",
            "cascade": {"labels": LABELS},
        },
        {"name": "direct", "models": ["strong"]},
    ],
}
PROMPT = (
    "Classify the sentiment of this review as positive, negative or neutral. Answer with the "
    "label only. Review #{i}: the battery lasted two days, support answered after a week."
)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200, help="requests per run (default 200)")
    p.add_argument("--pass-percent", type=int, default=70, help="cheap answers that pass (70)")
    p.add_argument("--delay-ms", type=float, default=20.0, help="each mock's time to answer (20)")
    return p.parse_args()


def passes(i, percent):
    """Request i's cheap answer passes: spread evenly, `percent` of every 100."""
    return (i * percent) // 100 != ((i + 1) * percent) // 100


def cheap_reply(percent):
    def reply(request):
        i = int(request["messages"][0]["content"].split("#", 1)[1].split(":", 1)[0])
        return {"content": "negative" if passes(i, percent) else "Hard to say: mixed, maybe negative."}

    return reply


def run(stack, tier, n):
    ids = []
    for i in range(n):
        request_id = str(uuid.uuid4())
        body = {"model": "any", "messages": [{"role": "user", "content": PROMPT.format(i=i)}]}
        response = stack.send(
            "POST", "/v1/chat/completions", body, {"x-task": tier, "x-request-id": request_id}
        )
        assert response.status == 200, response.body[:200]
        ids.append(request_id)
    return [stack.access_log.entry(request_id) for request_id in ids]


def total_usd(lines):
    return sum(float(line["tier_router.cost_usd"]) for line in lines)


def median_ms(lines):
    values = [float(line["tier_router.latency_ms"]) for line in lines]
    return statistics.median(values) if values else float("nan")


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        stack = harness.Stack(workdir, harness.find_envoy(), harness.ensure_wasm(), CONFIG)
        stack.start()
        try:
            for mock in stack.mocks.values():
                mock.delay_s = args.delay_ms / 1000
            stack.mocks["cheap"].chat_reply = cheap_reply(args.pass_percent)
            stack.mocks["strong"].chat_reply = lambda _request: {"content": "negative"}
            cascade = run(stack, "sentiment", args.requests)
            direct = run(stack, "direct", args.requests)
        finally:
            stack.stop()
    escalated = [line for line in cascade if line["tier_router.escalated"] == "true"]
    passed = [line for line in cascade if line["tier_router.escalated"] == "false"]
    cascade_usd, direct_usd = total_usd(cascade), total_usd(direct)
    rows = [
        ("requests per run", f"{args.requests}"),
        ("cheap answers that passed the gate", f"{len(passed)} ({100 * len(passed) / len(cascade):.0f}%)"),
        ("cost, cascade (every attempt)", f"${cascade_usd:.6f}"),
        ("cost, all to the strong model", f"${direct_usd:.6f}"),
        ("cascade cost / strong-only cost", f"{cascade_usd / direct_usd:.3f}"),
        ("savings", f"{100 * (1 - cascade_usd / direct_usd):.1f}%"),
        ("median latency, passed (cheap only)", f"{median_ms(passed):.1f} ms"),
        ("median latency, escalated (cheap + strong)", f"{median_ms(escalated):.1f} ms"),
        ("median latency, strong model directly", f"{median_ms(direct):.1f} ms"),
        ("latency an escalation adds (escalated - direct)", f"{median_ms(escalated) - median_ms(direct):.1f} ms"),
    ]
    print(f"cascade on mock upstreams ({args.delay_ms:g} ms each), from the access log:")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
