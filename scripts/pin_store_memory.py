#!/usr/bin/env python3
"""Envoy's memory with the session pin store filling up: the filter's default config
(max_sessions 100,000) behind a real Envoy, wrk sending requests that each invent a new
session id, Envoy's resident memory read before and after each batch.

    .venv/bin/python scripts/pin_store_memory.py [--batch 100000] [--batches 3]

A bounded store shows up as memory that stops growing once max_sessions sessions were seen.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402

LUA = r"""
local counter = 0
local threads = 0
local thread_seed = 0
setup = function(thread) threads = threads + 1; thread:set("seed", threads) end
-- Each wrk run passes its number: session ids never repeat across runs.
init = function(args) thread_seed = tonumber(args[1]) * 100 + seed end
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


RUNS = iter(range(1, 1_000_000))


def run_batch(port, script, requests):
    # wrk runs for a duration; repeated 5 s runs until `requests` were sent.
    done = 0
    while done < requests:
        url = f"http://127.0.0.1:{port}"
        out = subprocess.run(
            ["wrk", "-t2", "-c8", "-d5s", "-s", script, url, "--", str(next(RUNS))],
            capture_output=True, text=True, check=True,
        ).stdout
        done += int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
    return done


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=100_000)
    p.add_argument("--batches", type=int, default=3)
    p.add_argument("--max-sessions", type=int, default=None,
                   help="override sessions.max_sessions (e.g. 10000000 to see an unbounded store grow)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        envoy = start_envoy(Path(tmp), args.max_sessions)
        try:
            script = Path(tmp) / "sessions.lua"
            script.write_text(LUA)
            pid = envoy.process.pid
            print(f"envoy RSS at start: {rss_kib(pid) / 1024:.1f} MiB")
            total = 0
            for _ in range(args.batches):
                total += run_batch(envoy.listener_port, str(script), args.batch)
                print(f"after {total:>9,} new sessions: envoy RSS {rss_kib(pid) / 1024:.1f} MiB")
            # A session of the first wrk run and one of the last: bounded, the first is evicted.
            for session in ("s-101-100", f"s-{100 * next(RUNS) - 99}-100"):
                print(f"session {session}: decided by {pinned_source(envoy.listener_port, session)}")
        finally:
            envoy.stop()


def pinned_source(port, session):
    """Sends an analysis-shaped prompt in `session`: a live pin answers `label` (the pinned
    tier, x-task: classify), a missing pin lets the classifier choose `analysis`."""
    body = {"model": "m", "messages": [{"role": "user", "content": "Prove step by step that 7 is prime."}]}
    response = harness.send(port, "POST", "/v1/chat/completions", body, {"x-session-id": session})
    tier = response.headers.get("x-tier-router-tier")
    return "its pin (label)" if tier == "label" else f"the classifier ({tier}): pin evicted"


def start_envoy(workdir, max_sessions):
    listener_port, admin_port = harness.free_port(), harness.free_port()
    config = json.loads(json.dumps(harness.FILTER_CONFIG))
    if max_sessions:
        config["sessions"]["max_sessions"] = max_sessions
    filter_config = workdir / "tier-router.json"
    filter_config.write_text(json.dumps(config))
    config_path = workdir / "envoy.yaml"
    models = len(harness.FILTER_CONFIG["models"])
    config_path.write_text(
        harness.render.render(
            listener_port=listener_port,
            admin_port=admin_port,
            upstream_ports=[admin_port] * models,
            wasm_path=harness.ensure_wasm(),
            access_log_path="/dev/null",
            config_path=filter_config,
        )
    )
    envoy = harness.Envoy(harness.find_envoy(), config_path, admin_port, workdir / "envoy.log")
    envoy.listener_port = listener_port
    return envoy.start()


if __name__ == "__main__":
    main()
