#!/usr/bin/env python3
"""Envoy's memory with the session pin store filling up: the filter's default config
(max_sessions 100,000) behind a real Envoy, wrk sending requests that each invent a new
session id, Envoy's resident memory read before and after each batch.

    .venv/bin/python scripts/pin_store_memory.py [--batch 100000] [--batches 3]

A bounded store shows up as memory that stops growing once max_sessions sessions were seen.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402

LUA = r"""
local counter = 0
local thread_seed = 0
setup = function(thread) thread:set("seed", math.random(1, 1e9)) end
init = function(args) thread_seed = seed end
request = function()
  counter = counter + 1
  local headers = {["content-type"] = "application/json", ["x-task"] = "classify",
                   ["x-session-id"] = string.format("s-%d-%d", thread_seed, counter)}
  return wrk.format("POST", "/v1/chat/completions", headers, '{"model":"m","messages":[{"role":"user","content":"hi"}]}')
end
"""


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_batch(port, script, requests):
    # wrk runs for a duration; 4 connections at a few thousand requests/s, stopped by count.
    done = 0
    while done < requests:
        out = subprocess.run(
            ["wrk", "-t2", "-c8", "-d5s", "-s", script, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout
        done += int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
    return done


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=100_000)
    p.add_argument("--batches", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = harness.Stack(tmp, harness.find_envoy(), harness.ensure_wasm())
        stack.start()
        try:
            for mock in stack.mocks.values():
                mock.record = lambda request: None  # do not keep 300k requests in memory
            script = Path(tmp) / "sessions.lua"
            script.write_text(LUA)
            pid = stack.envoy.process.pid
            print(f"envoy RSS at start: {rss_kib(pid) / 1024:.1f} MiB")
            total = 0
            for _ in range(args.batches):
                total += run_batch(stack.listener_port, str(script), args.batch)
                print(f"after {total:>9,} new sessions: envoy RSS {rss_kib(pid) / 1024:.1f} MiB")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
