"""The committed envoy/envoy.yaml is what render.py produces, embeds tier-router.json
verbatim, and is accepted by Envoy itself."""

import subprocess
import sys

import yaml

import harness


def run(cmd):
    return subprocess.run(cmd, cwd=harness.REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_render_check_passes():
    result = run([sys.executable, "envoy/render.py", "--check"])
    assert result.returncode == 0, result.stderr


def test_envoy_validates_committed_config(envoy_bin, wasm_path):
    result = run([envoy_bin, "--mode", "validate", "-c", "envoy/envoy.yaml", "-l", "warning"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_filter_config_is_embedded_verbatim():
    bootstrap = yaml.safe_load((harness.REPO_ROOT / "envoy/envoy.yaml").read_text())
    hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    wasm = hcm["typed_config"]["http_filters"][0]["typed_config"]["config"]
    embedded = wasm["configuration"]["value"]
    assert embedded == harness.render.CONFIG_PATH.read_text(encoding="utf-8")
