#!/usr/bin/env python3
"""Soak: Envoy with the filter at saturation under mixed traffic for a long run.

    .venv/bin/python scripts/soak.py [--duration 600] [--clients 8]     (make soak)

Closed-loop clients (no think time) send a mix of plain, streamed and session requests and
requests whose upstream fails (an error status, a reset, a stream cut before [DONE]; those
tiers have one model, so nothing fails over), and chat requests whose first model answers
503 and which fail over to the tier's second (the shipped chat tier), against mock
upstreams (tests/e2e). At the end:
requests and unexpected outcomes by kind, Envoy's resident memory after warm-up and at the
end (/proc and the admin /memory endpoint), the wasm VM counters (a trap or reload shows
there), the pin store's load (distinct sessions sent against max_sessions, and how many
repeat visits found their pin: revisits pick one of the last 1,000 sessions), and what the
access log says about every request.
"""

import argparse
import http.client
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402
from faulty_upstream import FAULT_HEADER, FAULT_MODEL_HEADER, FaultyUpstream  # noqa: E402
from reliability import one_model_per_tier, short_route_timeouts, vm_counters  # noqa: E402

CHAT = "/v1/chat/completions"
LABEL = [{"role": "user", "content": "Classify the sentiment in one word: great!"}]
CHAT_PROMPT = [{"role": "user", "content": "Help me write a friendly reply to my landlord."}]
# kind -> (weight, expected outcome)
MIX = {
    "plain": (35, "200"),
    "stream": (20, "200"),
    "session": (25, "200"),
    "upstream_503": (10, "503"),
    "upstream_reset": (5, "503"),
    "stream_cut": (5, "cut"),
    "failover": (5, "200"),
}
# The tier that keeps its second model and its failover from envoy/tier-router.json.
FAILOVER_TIER = "chat"


class Client(threading.Thread):
    """One connection reused while it lasts; reopened after a broken one."""

    def __init__(self, port, deadline, seed, sessions, first_chat_model):
        super().__init__(daemon=True)
        self.first_chat_model = first_chat_model
        self.port, self.deadline = port, deadline
        self.random = random.Random(seed)
        self.sessions = sessions
        self.outcomes = Counter()  # (kind, outcome)
        self.conn = None

    def run(self):
        kinds = list(MIX)
        weights = [MIX[k][0] for k in kinds]
        while time.monotonic() < self.deadline:
            kind = self.random.choices(kinds, weights)[0]
            self.outcomes[(kind, self.send(*self.request(kind)))] += 1

    def request(self, kind):
        body, headers = {"model": "m", "messages": LABEL}, {"content-type": "application/json"}
        if kind in ("stream", "stream_cut"):
            body["stream"] = True
        if kind == "session":
            body["messages"] = CHAT_PROMPT
            headers["x-session-id"] = self.sessions.pick(self.random)
        if kind == "failover":
            body["messages"] = CHAT_PROMPT
            headers[FAULT_MODEL_HEADER] = self.first_chat_model
        fault = {"upstream_503": "status:503", "upstream_reset": "reset", "stream_cut": "cut",
                 "failover": "status:503"}.get(kind)
        if fault:
            headers[FAULT_HEADER] = fault
        return json.dumps(body).encode(), headers

    def send(self, body, headers):
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("POST", CHAT, body, headers)
            response = self.conn.getresponse()
            data = response.read()
            if response.getheader("connection", "").lower() == "close":
                self.reset()
            if b'"stream": true' in body and response.status == 200 and not data.endswith(b"[DONE]\n\n"):
                return "cut"
            return str(response.status)
        except http.client.IncompleteRead:
            self.reset()
            return "cut"
        except (OSError, http.client.HTTPException) as e:
            self.reset()
            return f"exception:{type(e).__name__}"

    def reset(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


class Sessions:
    """Half the session requests start a session, half revisit one of the last 1,000."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.revisits = 0

    def pick(self, rng):
        with self.lock:
            if self.count and rng.random() < 0.5:
                self.revisits += 1
                return f"soak-{rng.randrange(max(0, self.count - 1000), self.count)}"
            self.count += 1
            return f"soak-{self.count - 1}"


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def envoy_memory(stack):
    """Envoy's allocator figures (admin /memory), in MiB."""
    memory = json.loads(stack.envoy.admin_get("/memory") or "{}")
    return {k: int(memory[k]) / 2**20 for k in ("allocated", "heap_size") if k in memory}


def read_log(path):
    """What the access log says, by status, Envoy's flags and the filter's cut marker."""
    lines, kinds, filter_replies, pins = 0, Counter(), 0, Counter()
    failovers = Counter()
    with open(path, "rb") as log:
        for raw in log:
            try:
                entry = json.loads(raw)
            except ValueError:
                kinds["unparsable line"] += 1
                continue
            lines += 1
            cut = entry.get("tier_router.response_complete") == "false"
            kinds[(entry["status"], entry.get("response_flags"), "cut" if cut else "")] += 1
            filter_replies += "wasm" in (entry.get("response_code_details") or "")
            if entry.get("tier_router.failover") not in (None, "0"):
                failovers[(entry["status"], entry.get("gen_ai.request.model"))] += 1
            if entry.get("tier_router.tier") == "chat" or entry.get("tier_router.decision_source") == "session":
                pins[entry.get("tier_router.decision_source")] += 1
    return lines, kinds, filter_replies, pins, failovers


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    p.add_argument("--clients", type=int, default=8, help="closed-loop client threads")
    p.add_argument("--concurrency", type=int, default=1, help="Envoy worker threads")
    p.add_argument("--max-sessions", type=int, default=2_000,
                   help="sessions.max_sessions (small, so a soak fills the pin store and evicts)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        return soak(Path(tmp), args)


def soak(workdir, args):
    config = one_model_per_tier(harness.FILTER_CONFIG)
    shipped = {t["name"]: t for t in harness.FILTER_CONFIG["tiers"]}
    config["tiers"] = [shipped[t["name"]] if t["name"] == FAILOVER_TIER else t for t in config["tiers"]]
    first_chat_model = shipped[FAILOVER_TIER]["models"][0]
    config["sessions"] = dict(config["sessions"], max_sessions=args.max_sessions)
    stack = harness.Stack(workdir, harness.find_envoy(), harness.ensure_wasm(), config=config,
                          concurrency=args.concurrency, edit_bootstrap=short_route_timeouts)
    stack.mocks = {name: FaultyUpstream(name) for name in stack.mocks}
    stack.start()
    try:
        pid = stack.envoy.process.pid
        vm_before = vm_counters(stack)
        start = time.monotonic()
        deadline = start + args.duration
        sessions = Sessions()
        clients = [Client(stack.listener_port, deadline, seed, sessions, first_chat_model)
                   for seed in range(args.clients)]
        for client in clients:
            client.start()
        warm_up_s = min(60.0, args.duration * 0.2)
        time.sleep(warm_up_s)
        rss_warm, memory_warm = rss_kib(pid), envoy_memory(stack)
        rss_max = rss_warm
        while any(c.is_alive() for c in clients):
            time.sleep(1)
            rss_max = max(rss_max, rss_kib(pid))
        elapsed = time.monotonic() - start
        rss_end, memory_end = rss_kib(pid), envoy_memory(stack)
        vm_after = vm_counters(stack)
        time.sleep(0.5)  # the last access-log lines are flushed
        outcomes = sum((c.outcomes for c in clients), Counter())
        report(args, elapsed, outcomes, sessions, vm_before, vm_after,
               (warm_up_s, rss_warm, rss_end, rss_max, memory_warm, memory_end),
               read_log(stack.access_log.path))
        unexpected = sum(n for (kind, outcome), n in outcomes.items() if outcome != MIX[kind][1])
        return 1 if unexpected or vm_after != vm_before else 0
    finally:
        stack.stop()


def report(args, elapsed, outcomes, sessions, vm_before, vm_after, memory, log):
    total = sum(outcomes.values())
    print(f"soak: {elapsed:.0f} s, {args.clients} clients, Envoy --concurrency {args.concurrency}: "
          f"{total:,} requests ({total / elapsed:,.0f}/s)")
    print("\nrequests by kind (expected outcome; anything else is an error):")
    for kind, (_, expected) in MIX.items():
        sent = sum(n for (k, _), n in outcomes.items() if k == kind)
        errors = {o: n for (k, o), n in outcomes.items() if k == kind and o != expected}
        print(f"  {kind:<15} {sent:>9,} sent, expected {expected:<4} errors: {errors or 0}")
    warm_up_s, rss_warm, rss_end, rss_max, memory_warm, memory_end = memory
    growth = rss_end - rss_warm
    print(f"\nEnvoy RSS after {warm_up_s:.0f} s warm-up: {rss_warm / 1024:.1f} MiB; at the end "
          f"{rss_end / 1024:.1f} MiB (growth {growth / 1024:+.1f} MiB, {100 * growth / rss_warm:+.1f}%); "
          f"max {rss_max / 1024:.1f} MiB")
    print(f"Envoy /memory allocated: {memory_warm.get('allocated', 0):.1f} -> "
          f"{memory_end.get('allocated', 0):.1f} MiB; heap {memory_warm.get('heap_size', 0):.1f} -> "
          f"{memory_end.get('heap_size', 0):.1f} MiB")
    changed = {k: (vm_before[k], vm_after[k]) for k in vm_before if vm_before[k] != vm_after[k]}
    print(f"wasm VM counters: {'unchanged' if not changed else changed} ({vm_after})")
    lines, kinds, filter_replies, pins, failovers = log
    hits = pins.get("session", 0)
    print(f"\npin store: {sessions.count:,} distinct sessions sent, max_sessions {args.max_sessions:,} "
          f"({'full, evicting' if sessions.count > args.max_sessions else 'not full'}); "
          f"{hits:,} of {sessions.revisits:,} revisits found their pin "
          f"({100 * hits / max(1, sessions.revisits):.1f}%; the others were evicted)")
    print(f"access log: {lines:,} lines for {total:,} requests; replies from the filter: {filter_replies}")
    print(f"  failed over (status, model served): {dict(failovers)}")
    for (status, flags, cut), n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  status {status} flags {flags} {cut:<3} {n:>9,}")


if __name__ == "__main__":
    sys.exit(main())
