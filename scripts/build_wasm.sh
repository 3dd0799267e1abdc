#!/usr/bin/env bash
# `make wasm`: the filter as shipped (scripts/common.sh build_wasm: cargo profile `wasm`, then
# wasm-opt -Oz) at target/wasm32-wasip1/release/tier_router.wasm.
#   bash scripts/build_wasm.sh [--keep-names]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_wasm_target
build_wasm "$@"
