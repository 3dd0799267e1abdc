#!/usr/bin/env bash
# `tier-router report` on a generated multi-gigabyte access log: throughput (lines/s, MB/s)
# and peak memory. Too slow for CI (tests/cli_report_memory.rs checks bounded memory on
# ~100 MB there).
#
#   scripts/report_bench.sh            # 3 GB in $BENCH_DIR (default /tmp/tier-router-bench)
#   SIZE=5G COMPRESS=1 scripts/report_bench.sh
#
# SIZE: log size (default 3G). COMPRESS=1 also measures the gzip-compressed log. KEEP=1 keeps
# the generated files (they are reused when present either way).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${SIZE:-3G}"
BENCH_DIR="${BENCH_DIR:-/tmp/tier-router-bench}"
LOG="$BENCH_DIR/access-$SIZE.log"
BIN="$REPO_ROOT/target/release/tier-router"

cd "$REPO_ROOT"
cargo build --release --bin tier-router
mkdir -p "$BENCH_DIR"
if [[ ! -s "$LOG" ]]; then
    python3 scripts/gen_access_log.py --size "$SIZE" --out "$LOG"
fi
if [[ "${COMPRESS:-0}" == 1 && ! -s "$LOG.gz" ]]; then
    gzip -1 -k -c "$LOG" > "$LOG.gz"
fi

# Peak RSS from GNU time when installed (Debian: apt-get install time); the report's own
# --stats line (VmHWM from /proc) says the same.
measure() {
    echo "== tier-router report $*"
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f "   wall %e s, peak RSS %M KB (GNU time)" "$BIN" report --stats --no-progress "$@" > /dev/null
    else
        "$BIN" report --stats --no-progress "$@" > /dev/null
    fi
}

ls -l "$LOG"*
# Warm the page cache so the first run measures parsing, not the disk.
cat "$LOG" > /dev/null
measure "$LOG"
measure --json "$LOG"
measure --by hour "$LOG"
measure --by hour --json "$LOG"
if [[ -s "$LOG.gz" ]]; then
    measure "$LOG.gz"
fi
if [[ "${KEEP:-0}" != 1 ]]; then
    rm -f "$LOG" "$LOG.gz"
fi
