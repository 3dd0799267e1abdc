"""The no-op native dynamic module of the benchmark (bench/noop-dynmod), loaded by a real
Envoy: it must hold the request until the whole body is in, set its one header, and pass the
body through untouched; its ABI version must be the one this Envoy expects.

Skipped only when cargo cannot build the module (no cargo, or the build fails)."""

import json
import shutil
import subprocess
import sys
import uuid

import pytest

import harness
from mock_upstream import MockUpstream  # scripts/mock_upstream.py

BENCH_DIR = harness.REPO_ROOT / "bench"
sys.path.insert(0, str(BENCH_DIR))
import envoy_configs  # noqa: E402  (bench/envoy_configs.py)

MODULE = BENCH_DIR / "target" / "release" / "libnoop_dynmod.so"


def build_module():
    """The module as bench/run.py builds it; the reason to skip if cargo cannot."""
    cargo = shutil.which("cargo")
    if cargo is None:
        return "cargo is not installed"
    cmd = [cargo, "build", "--release", "--manifest-path", str(BENCH_DIR / "noop-dynmod" / "Cargo.toml"),
           "--target-dir", str(BENCH_DIR / "target")]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return f"cargo could not build bench/noop-dynmod:\n{result.stderr[-2000:]}"
    return None


@pytest.fixture(scope="module")
def dynmod_envoy(tmp_path_factory, envoy_bin):
    reason = build_module()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("dynmod")
    upstream = MockUpstream("dynmod-upstream").start()
    port, admin_port = harness.free_port(), harness.free_port()
    config = envoy_configs.proxy(
        port, admin_port, upstream.port, harness.render.CONFIG_PATH.read_text(encoding="utf-8"),
        [envoy_configs.dynamic_module_filter("noop_dynmod", MODULE)], None,
    )  # fmt: skip
    config_path = workdir / "envoy.json"
    config_path.write_text(json.dumps(config))
    envoy = harness.Envoy(envoy_bin, config_path, admin_port, workdir / "envoy.log")
    try:
        envoy.start()
        yield envoy, port, upstream
    finally:
        envoy.stop()
        upstream.stop()


def send(port, upstream, body, chunked=False, method="POST"):
    request_id = str(uuid.uuid4())
    headers = {"x-request-id": request_id, "content-type": "application/json"}
    response = harness.send(port, method, "/v1/chat/completions", body, headers, chunked)
    return response, upstream.find(request_id)


@pytest.mark.parametrize("chunked", [False, True])
def test_sets_its_header_once_the_body_is_in_and_keeps_the_body(dynmod_envoy, chunked):
    envoy, port, upstream = dynmod_envoy
    # Large enough to arrive in many reads, so the module sees several body callbacks.
    prompt = "".join(f"line {i}: the quick brown fox. " for i in range(8000))
    body = json.dumps({"model": "auto", "messages": [{"role": "user", "content": prompt}]}).encode()
    response, received = send(port, upstream, body, chunked)
    assert response.status == 200, response.body[:300]
    assert received is not None, "the request did not reach the upstream"
    assert received.headers.get("x-noop-filter") == "1"
    assert received.body == body


def test_leaves_bodyless_requests_alone(dynmod_envoy):
    envoy, port, upstream = dynmod_envoy
    response, received = send(port, upstream, None, method="GET")
    assert received is not None, f"status {response.status}: {response.body[:300]!r}"
    # The header is set when the body ends; a request without one goes on untouched.
    assert "x-noop-filter" not in received.headers


def test_abi_version_matches_this_envoy(dynmod_envoy, envoy_bin):
    envoy, _, _ = dynmod_envoy
    # Envoy logs "matched" (at info) for the version it was built with, and warns that a
    # module's version "is deprecated" otherwise; the module still loads either way.
    result = subprocess.run(
        [envoy_bin, "--mode", "validate", "-c", str(envoy.config_path), "-l", "info"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-2000:]
    assert "Dynamic module ABI version v0.2.0 matched." in output, output[-2000:]
    assert "is deprecated" not in envoy.log_path.read_text(errors="replace")
