#!/usr/bin/env python3
"""Send a mixed batch of LLM calls through Envoy with the openai SDK, then show from the
access log where each one went and why.

Every call asks for the same model ("gpt-4o"); the router picks the real one. Run by
scripts/demo.sh; needs the `openai` package (the repo's .venv has it).
"""

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from openai import OpenAI

ASKED_MODEL = "gpt-4o"
SPAM_CHECK = "Is this message spam? Reply yes or no. 'You won a free cruise, click here.'"
FRIENDLY_REPLY = [
    {"role": "system", "content": "You help a busy engineer with correspondence."},
    {"role": "user", "content": "My neighbour offered to water my plants while I travel."},
    {"role": "assistant", "content": "How kind! Would you like to accept?"},
    {"role": "user", "content": "Yes. Help me write a short thank-you email in a friendly tone."},
]



# Access-log keys: the filter's filter-state keys (crates/core/src/names.rs).
TIER = "tier_router.tier"
MODEL = "gen_ai.request.model"
SOURCE = "tier_router.decision_source"
CUES = "tier_router.matched_cues"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
COST = "tier_router.cost_usd"
BASELINE_COST = "tier_router.baseline_cost_usd"

def user(text):
    return [{"role": "user", "content": text}]


# (what the demo shows, how it is sent, messages). "how" is one of: plain, header:<task>,
# query:<task>, path:<prefix>, stream, responses.
BATCH = [
    ("explicit header x-task: classify", "header:classify", user(SPAM_CHECK)),
    ("explicit query ?task=analyze", "query:analyze", user("Is 97 a prime number?")),
    ("explicit path /api/chat", "path:/api/chat", user("Good morning!")),
    ("label: sentiment", "plain", user(
        "Classify the sentiment of this review. Answer with only one word: positive or "
        "negative. Review: The hotel was spotless and the staff were lovely.")),
    ("label: extraction", "plain", user(
        "Extract the invoice number and the due date as a JSON object, no explanation. "
        "Invoice INV-2231 is due on 3 March.")),
    ("chat: multi-turn email", "plain", FRIENDLY_REPLY),
    ("chat: short story", "plain", user("Write a short story about a lighthouse keeper's cat.")),
    ("analysis: proof", "plain", user(
        "Prove step by step that there are infinitely many prime numbers.")),
    ("analysis: code", "plain", user(
        "Write a function that merges overlapping intervals and explain its complexity.")),
    ("fallback: greeting", "plain", user("hello")),
    ("fallback: trivia", "plain", user("What is the capital of Australia?")),
    ("streaming: label", "stream", user(
        "Which category fits this ticket: billing, bug or feature request? Respond with only "
        "the category. Ticket: I was charged twice this month.")),
    ("responses API: analysis", "responses", user(
        "Compare and contrast quicksort and mergesort in detail.")),
]  # fmt: skip


def send(base_url, how, messages, request_id):
    """Make one call the way `how` says; return the model named in the answer."""
    headers = {"x-request-id": request_id}
    kind, _, arg = how.partition(":")
    if kind == "path":
        base_url = base_url.rstrip("/") + arg
    client = OpenAI(base_url=base_url + "/v1", api_key="demo", max_retries=0, timeout=30)
    if kind == "header":
        headers["x-task"] = arg
    query = {"task": arg} if kind == "query" else None
    if kind == "responses":
        answer = client.responses.create(
            model=ASKED_MODEL, input=messages[-1]["content"], extra_headers=headers
        )
        return answer.model
    if kind == "stream":
        return stream_model(client, messages, headers)
    answer = client.chat.completions.create(
        model=ASKED_MODEL, messages=messages, extra_headers=headers, extra_query=query
    )
    return answer.model


def stream_model(client, messages, headers):
    chunks = list(
        client.chat.completions.create(
            model=ASKED_MODEL,
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=headers,
        )
    )
    return f"{chunks[-1].model} ({len(chunks)} chunks)"


def read_log(path, request_ids, timeout_s=5):
    """Access-log entries by request id; waits for Envoy's periodic flush."""
    deadline = time.monotonic() + timeout_s
    while True:
        entries = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    # The filter's fields arrive as one JSON object, logged as a string.
                    record = entry.get("tier_router")
                    if isinstance(record, str) and record.startswith("{"):
                        entry.update(json.loads(record))
                    entries[entry.get("request_id")] = entry
        if all(rid in entries for rid in request_ids) or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def print_table(rows):
    headers = ("id", "request", "tier", "model", "source", "answered by", "cues")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    for row in [headers, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells + [str(row[-1])]))


def usd(entry, key):
    value = entry.get(key)
    return float(value) if value not in (None, "", "-") else 0.0


def print_cost_report(entries):
    """What the batch cost as routed, against every request on the baseline model."""
    by_tier = {}
    for entry in entries:
        tier = by_tier.setdefault(entry.get(TIER) or "-", [0, 0, 0, 0.0, 0.0])
        tier[0] += 1
        tier[1] += int(entry.get(INPUT_TOKENS) or 0)
        tier[2] += int(entry.get(OUTPUT_TOKENS) or 0)
        tier[3] += usd(entry, COST)
        tier[4] += usd(entry, BASELINE_COST)
    print(f"{'tier':10}{'requests':>9}{'tokens in':>11}{'tokens out':>11}{'cost USD':>12}{'baseline USD':>14}")
    for name, (n, tokens_in, tokens_out, cost, baseline) in sorted(by_tier.items()):
        print(f"{name:10}{n:>9}{tokens_in:>11}{tokens_out:>11}{cost:>12.6f}{baseline:>14.6f}")
    cost = sum(t[3] for t in by_tier.values())
    baseline = sum(t[4] for t in by_tier.values())
    saved = 100 * (1 - cost / baseline) if baseline else 0.0
    print(f"{'total':10}{len(entries):>9}{'':>22}{cost:>12.6f}{baseline:>14.6f}")
    print(f"routing cost {saved:.0f}% less than sending everything to the baseline model")


def print_summary(entries):
    for label, field in (("tier", TIER), ("model", MODEL), ("source", SOURCE)):
        counts = Counter(entry.get(field) or "-" for entry in entries)
        print(f"{label + ':':8}" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def main(argv=None):
    # Envoy is on 127.0.0.1: never send the demo through a proxy from the environment.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", default="http://127.0.0.1:10000")
    p.add_argument("--access-log", type=Path, default=Path("out/demo-access.log"))
    args = p.parse_args(argv)

    sent = []
    for what, how, messages in BATCH:
        request_id = str(uuid.uuid4())
        sent.append((request_id, what, send(args.base_url, how, messages, request_id)))

    entries = read_log(args.access_log, [rid for rid, _, _ in sent])
    rows = []
    for request_id, what, answered_by in sent:
        e = entries.get(request_id, {})
        row = (request_id[:8], what, e.get(TIER), e.get(MODEL), e.get(SOURCE), answered_by)
        rows.append(row + (e.get(CUES) or "",))
    print()
    print_table(rows)
    print()
    logged = [entries[rid] for rid, _, _ in sent if rid in entries]
    print_summary(logged)
    print()
    print_cost_report(logged)
    missing = [rid for rid, _, _ in sent if rid not in entries]
    if missing:
        print(f"no access-log line for {len(missing)} request(s): {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
