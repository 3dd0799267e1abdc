#!/usr/bin/env bash
# Trains models/default.trm, the model built into the filter (docs/classifier.md), from the
# shared training prompts and the project's own supplement (data/train/*.jsonl). Training is
# deterministic, so `--check` retrains into a temporary file and fails unless the bytes match
# the committed model (cargo test runs it: crates/cli/tests/cli_default_model.rs).
#   bash scripts/train_default_model.sh           rewrite models/default.trm; print the scores
#   bash scripts/train_default_model.sh --check   retrain and compare; no scores
# The shared data is read, never copied into the repo, from: $TIER_ROUTER_TRAIN_DATA, else
# <repo>/../shared/train/tiers.jsonl, else /work/shared/train/tiers.jsonl. Missing data is an
# error, never a skip. $TIER_ROUTER_BIN names the CLI binary (default: a release build).
set -euo pipefail
export LC_ALL=C
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

shared=""
for candidate in "${TIER_ROUTER_TRAIN_DATA:-}" "$REPO_ROOT/../shared/train/tiers.jsonl" \
    /work/shared/train/tiers.jsonl; do
    if [[ -n "$candidate" && -f "$candidate" ]]; then
        shared="$candidate"
        break
    fi
done
if [[ -z "$shared" ]]; then
    echo "train_default_model: the shared training data is missing: set TIER_ROUTER_TRAIN_DATA" \
        "to tiers.jsonl, or put it at $REPO_ROOT/../shared/train/tiers.jsonl" >&2
    exit 1
fi

bin="${TIER_ROUTER_BIN:-}"
if [[ -z "$bin" ]]; then
    cargo build --release -q --bin tier-router
    bin="$REPO_ROOT/target/release/tier-router"
fi

data=(--data "$shared")
for file in data/train/*.jsonl; do
    [[ -f "$file" ]] && data+=(--data "$file")
done
# Every training flag spelled out, so a change of a default cannot change the model silently.
flags=(--seed 1 --epochs 10 --hash-bits 15 --l2 0.001 --learning-rate 0.5 --label-field tier)

if [[ "${1:-}" == "--check" ]]; then
    out="$(mktemp)"
    trap 'rm -f "$out"' EXIT
    "$bin" train "${data[@]}" "${flags[@]}" --holdout 0 --out "$out" >/dev/null
    if ! cmp -s "$out" models/default.trm; then
        echo "train_default_model: retraining from ${data[*]} does not reproduce" \
            "models/default.trm; retrain it (bash scripts/train_default_model.sh) and commit" >&2
        exit 1
    fi
    echo "models/default.trm: retrained byte for byte from ${data[*]}"
    exit 0
fi
"$bin" train "${data[@]}" "${flags[@]}" --holdout 0.2 --cv-by source --out models/default.trm
