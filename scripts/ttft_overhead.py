#!/usr/bin/env python3
"""The TTFT the filter adds to a streamed response: the same streaming mock behind two
Envoys started side by side, one with tier-router (telemetry on, the body classified) and
one without any filter; requests alternate between them and the client measures the time to
the first body byte. Prints medians and the difference.

    .venv/bin/python scripts/ttft_overhead.py [--requests 400]
"""

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402

BODY = json.dumps({
    "model": "m", "stream": True,
    "messages": [{"role": "user", "content": "Help me write a friendly reply to my landlord."}],
}).encode()


def bootstrap(workdir, mock_port, with_filter):
    listener, admin = harness.free_port(), harness.free_port()
    text = harness.render.render(
        listener_port=listener, admin_port=admin,
        upstream_ports=[mock_port] * len(harness.FILTER_CONFIG["models"]),
        wasm_path=harness.ensure_wasm(), access_log_path="/dev/null",
    )
    if not with_filter:
        config = yaml.safe_load(text)
        hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        filters = hcm["typed_config"]["http_filters"]
        hcm["typed_config"]["http_filters"] = [f for f in filters if "wasm" not in f["name"]]
        text = yaml.safe_dump(config)
    name = "with" if with_filter else "without"
    path = workdir / f"envoy-{name}.yaml"
    path.write_text(text)
    envoy = harness.Envoy(harness.find_envoy(), path, admin, workdir / f"envoy-{name}.log")
    envoy.listener_port = listener
    return envoy.start()


def ttft_ms(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        started = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", BODY, {"content-type": "application/json"})
        response = conn.getresponse()
        response.read1(1)
        first = time.perf_counter()
        response.read()
        return (first - started) * 1000
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=400)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mock = harness.MockUpstream("frontier-chat").start()
        mock.record = lambda request: None
        envoys = {}
        try:
            envoys["with"] = bootstrap(Path(tmp), mock.port, True)
            envoys["without"] = bootstrap(Path(tmp), mock.port, False)
            samples = {"with": [], "without": []}
            for i in range(args.requests * 2):
                name = ("with", "without")[i % 2]
                samples[name].append(ttft_ms(envoys[name].listener_port))
        finally:
            for envoy in envoys.values():
                envoy.stop()
            mock.stop()
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"streamed chat completion, {args.requests} requests each, alternating:")
    print(f"  median TTFT without filter: {med['without']:.3f} ms")
    print(f"  median TTFT with tier-router: {med['with']:.3f} ms")
    print(f"  added by the filter: {(med['with'] - med['without']) * 1000:.0f} µs")


if __name__ == "__main__":
    main()
