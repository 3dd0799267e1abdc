#!/usr/bin/env python3
"""Writes a synthetic tier-router access log of about SIZE bytes (JSON lines, the keys
envoy/envoy.yaml logs), for `scripts/report_bench.sh`.

A pool of distinct lines covering one day is generated once (random tiers, tokens, costs from
the default price table, log-normal TTFT and latency, ~10% shadow lines, some "-" values and
one unparseable line in 10,000); the pool is then written day after day, shifting the date,
until SIZE is reached. So `report --by hour` sees a new period every hour of every day.

    python3 scripts/gen_access_log.py --size 3G --out /tmp/access.log
"""

import argparse
import contextlib
import datetime
import json
import random
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = json.loads((REPO_ROOT / "envoy" / "tier-router.json").read_text())
PRICES = {m["name"]: m["price_per_1m"] for m in CONFIG["models"]}
BASELINE = CONFIG["baseline_model"]
TIERS = [(t["name"], t["models"][0]) for t in CONFIG["tiers"]] + [
    ("fallback", CONFIG["fallback_model"])
]
# Share of traffic and typical (input, output) tokens per tier.
MIX = {"label": (0.45, 300, 8), "chat": (0.3, 1200, 350), "analysis": (0.1, 2500, 3000)}
FALLBACK_MIX = (0.15, 500, 200)
FIRST_DAY = datetime.date(2026, 11, 1)
POOL_LINES = 20_000


def micro_usd(model, input_tokens, cached, output_tokens):
    price = PRICES[model]
    cached_price = price.get("cached_input", price["input"])
    total = (input_tokens - cached) * price["input"] + cached * cached_price
    return round(total + output_tokens * price["output"])


def usd(micro):
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def line(rng, second_of_day):
    weights = [MIX.get(name, FALLBACK_MIX)[0] for name, _ in TIERS]
    tier, model = rng.choices(TIERS, weights)[0]
    _, mean_in, mean_out = MIX.get(tier, FALLBACK_MIX)
    input_tokens = max(1, int(rng.expovariate(1 / mean_in)))
    output_tokens = max(1, int(rng.expovariate(1 / mean_out)))
    cached = input_tokens // 2 if rng.random() < 0.2 else 0
    ttft = rng.lognormvariate(5.0 if tier != "analysis" else 7.0, 0.6)
    latency = ttft + output_tokens * rng.uniform(5, 20)
    status = rng.choices(["200", "429", "503"], [0.98, 0.01, 0.01])[0]
    if status != "200":
        # The filter bills only what the upstream served: an error without usage is
        # `usage_source: none`, zero tokens and cost 0.
        input_tokens = output_tokens = cached = 0
    shadow = rng.random() < 0.1
    start = datetime.datetime.combine(FIRST_DAY, datetime.time()) + datetime.timedelta(
        seconds=second_of_day, milliseconds=rng.randrange(1000)
    )
    entry = {
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z",
        "request_id": f"{rng.getrandbits(128):032x}",
        "method": "POST",
        "path": "/v1/chat/completions",
        "status": status,
        "duration_ms": str(int(latency)),
        "upstream_cluster": model.replace("-", "_"),
        "tier_router.tier": tier,
        "gen_ai.request.model": model,
        "tier_router.decision_source": "fallback" if tier == "fallback" else "classifier",
        "tier_router.matched_cues": ""
        if tier == "fallback"
        else "one word,signal:small_max_tokens",
        "tier_router.policy": "-" if tier == "fallback" else "priority",
        "tier_router.candidates": model,
        "tier_router.floor_applied": "4096" if tier == "analysis" else "-",
        "tier_router.shadow": "true" if shadow else "false",
        "tier_router.canary": "-",
        "gen_ai.usage.input_tokens": str(input_tokens),
        "gen_ai.usage.output_tokens": str(output_tokens),
        "gen_ai.usage.cache_read.input_tokens": str(cached),
        "gen_ai.usage.cache_creation.input_tokens": "0",
        "gen_ai.usage.reasoning.output_tokens": str(
            output_tokens // 2 if tier == "analysis" else 0
        ),
        "tier_router.usage_source": "reported" if status == "200" else "none",
        "tier_router.cost_usd": usd(micro_usd(model, input_tokens, cached, output_tokens)),
        "tier_router.baseline_cost_usd": usd(
            micro_usd(BASELINE, input_tokens, cached, output_tokens)
        ),
        "tier_router.ttft_ms": f"{ttft:.3f}",
        "tier_router.latency_ms": f"{latency:.3f}",
        "tier_router.upstream_status": status,
    }
    return json.dumps(entry, separators=(",", ":"))


def pool(seed):
    rng = random.Random(seed)
    seconds = sorted(rng.randrange(86_400) for _ in range(POOL_LINES))
    lines = [line(rng, s) for s in seconds]
    lines[len(lines) // 2] = '{"start_time":"2026-11-01T12:00:00.000Z","truncated'
    return ("\n".join(lines) + "\n").encode()


def parse_size(text):
    units = {"K": 10**3, "M": 10**6, "G": 10**9}
    suffix = text[-1].upper()
    return int(float(text[:-1]) * units[suffix]) if suffix in units else int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="bytes to write, e.g. 100M, 3G")
    parser.add_argument("--out", required=True, help="output path (- for stdout)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    target = parse_size(args.size)
    day_block = pool(args.seed)
    first = FIRST_DAY.isoformat().encode()
    written, day = 0, 0
    with (
        open(args.out, "wb")
        if args.out != "-"
        else contextlib.nullcontext(sys.stdout.buffer) as out
    ):
        while written < target:
            date = (FIRST_DAY + datetime.timedelta(days=day)).isoformat().encode()
            block = day_block.replace(first, date)
            if written + len(block) > target:
                block = block[: block.rfind(b"\n", 0, target - written) + 1]
                if not block:
                    break
            out.write(block)
            written += len(block)
            day += 1
    print(f"wrote {written:,} bytes over {day} days to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
