#!/usr/bin/env bash
# `make test`: every check CI runs, in order, stopping at the first failure.
# Rust: fmt, clippy (native and wasm32), unit tests, release builds. Envoy: the committed
# config is fresh and valid. Prometheus: promtool checks and unit-tests deploy/prometheus.
# End to end: pytest against a real Envoy running the filter.
# Fuzzing: a 30-second smoke run of each cargo-fuzz target (nightly).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

ensure_wasm_target
ensure_venv openai anthropic pytest pyyaml prometheus_client h2
# promtool for the rules' checks; prometheus for tests/e2e/test_prometheus.py.
ensure_debian_packages promtool=prometheus prometheus=prometheus
# Headless Chromium for tests/e2e/test_report_html.py (the HTML report in a real browser).
ensure_debian_packages chromium=chromium
ENVOY_BIN="$(envoy_bin)"
export ENVOY_BIN

log "cargo fmt --check"
cargo fmt --check
cargo fmt --check --manifest-path fuzz/Cargo.toml
log "cargo clippy (native)"
cargo clippy --workspace --all-targets -- -D warnings
log "cargo clippy (wasm32-wasip1)"
cargo clippy --release --target wasm32-wasip1 -p tier-router-core -p tier-router-filter -- -D warnings
log "cargo test"
cargo test --workspace
build_wasm
log "building the CLI"
cargo build --release --bin tier-router
log "tier-router check --envoy: every model's cluster is in the shipped bootstrap"
target/release/tier-router check --envoy envoy/envoy.yaml envoy/tier-router.json

log "envoy/envoy.yaml is up to date"
python3 envoy/render.py --check
log "envoy --mode validate ($("$ENVOY_BIN" --version | grep -o 'version: [^ ]*'))"
"$ENVOY_BIN" --mode validate -c envoy/envoy.yaml -l warning

log "promtool: the Prometheus rules (deploy/prometheus) are valid and their unit tests pass"
promtool check rules deploy/prometheus/*.yaml
promtool test rules deploy/prometheus/tests/*.test.yaml

log "end-to-end tests"
"$VENV/bin/python" -m pytest tests/e2e -q

log "fuzz smoke: each target for 30 s (scripts/fuzz.sh)"
bash scripts/fuzz.sh smoke
