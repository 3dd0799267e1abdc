#!/usr/bin/env bash
# The fuzz targets of fuzz/ (docs/fuzzing.md), with cargo-fuzz on nightly Rust.
#   scripts/fuzz.sh smoke   each target for 30 s (make fuzz-smoke; part of make test / CI)
#   scripts/fuzz.sh long    each target for 10 min (make fuzz)
# FUZZ_SECONDS overrides the time per target, FUZZ_TARGETS the targets (space-separated).
# Seeds are written from the repo's own bodies (fuzz/make_seeds.py) into fuzz/corpus/, which
# the runs grow and keep (not committed). A property that fails stops the run: the input is
# saved under fuzz/artifacts/<target>/ and `cargo +nightly fuzz run <target> <file>` replays it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

mode="${1:-smoke}"
case "$mode" in
    smoke) seconds="${FUZZ_SECONDS:-30}" ;;
    long) seconds="${FUZZ_SECONDS:-600}" ;;
    *) echo "usage: $0 smoke|long" >&2; exit 2 ;;
esac
targets=(${FUZZ_TARGETS:-route_bytes route_json usage_chunks config_json})

# cargo-fuzz needs a nightly toolchain (for -Zsanitizer and the coverage passes).
if ! rustup toolchain list | grep -q '^nightly'; then
    log "installing the nightly Rust toolchain (cargo-fuzz needs it)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz from crates.io"
    cargo install cargo-fuzz --locked
fi

python3 fuzz/make_seeds.py fuzz/corpus
log "building the fuzz targets (nightly, ASan, debug assertions)"
(cd fuzz && cargo +nightly fuzz build)

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
for target in "${targets[@]}"; do
    log "fuzzing $target for ${seconds}s"
    out="$logs/$target.log"
    # -rss_limit_mb: the config target compiles a cue automaton per input; 2 GB is ample.
    if ! (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1) >"$out" 2>&1; then
        grep -A12 -m1 "panicked at" "$out" >&2 || tail -40 "$out" >&2
        grep "Test unit written to" "$out" >&2 || true
        echo "fuzz: $target failed a property (log above)" >&2
        exit 1
    fi
    # libFuzzer's closing lines: "#N DONE cov: ..." and "stat::number_of_executed_units: N".
    runs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$out" | grep -o '[0-9]*$' || echo '?')"
    done_line="$(grep -m1 -E '^#[0-9]+[[:space:]]+DONE' "$out" | tr -s '\t ' ' ' || true)"
    echo "fuzz: $target: $runs executions in ${seconds}s, no property failed ($done_line)"
done
# The plain closing line CI reads (a failed property exited above).
echo "fuzz: ${#targets[@]} passed, 0 failed"
