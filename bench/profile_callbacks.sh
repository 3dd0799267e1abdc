#!/usr/bin/env bash
# Where tier-router's time goes inside Envoy, callback by callback (docs/benchmarks.md,
# "Inside the VM"). Builds the filter with `--features callback-timing` into target/prof
# (the module as shipped otherwise), then for each workload runs the no-op floor, the
# shipped module and the timed one (variant `prof`) under load, and prints the timed
# module's means per request, logged every 10,000 requests.
#   bash bench/profile_callbacks.sh            # ROUNDS=3 by default
#   ROUNDS=2 WORKLOADS="mix" bash bench/profile_callbacks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

rounds="${ROUNDS:-3}"
workloads="${WORKLOADS:-mix 32k stream}"
prof_target="$REPO_ROOT/target/prof"
CARGO_TARGET_DIR="$prof_target" WASM_FEATURES=callback-timing build_wasm
prof_wasm="$prof_target/wasm32-wasip1/release/tier_router.wasm"

stamp="$(date +%Y%m%d-%H%M%S)"
build_flag=()
for workload in $workloads; do
    out="bench/out/prof-$stamp-$workload"
    python3 bench/run.py --no-litellm --no-core "${build_flag[@]}" --rounds "$rounds" \
        --variant "prof=$prof_wasm" --only "noop-$workload,classify-$workload,prof-$workload" \
        --out "$out"
    build_flag=(--no-build)  # the first run built the shipped module and the no-op filter
    echo "== $workload: means per request inside the VM (µs of wall clock, host clock)"
    grep -ho 'PROF n=.*' "$out"/envoy-v_prof*.log || echo "no PROF lines (fewer than 10,000 requests?)"
done
