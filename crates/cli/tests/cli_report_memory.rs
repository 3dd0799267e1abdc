//! `report` streams: its peak memory on a ~100 MB log is small and about the same as on a
//! ~10 MB log. (scripts/report_bench.sh measures multi-gigabyte logs outside CI.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use std::io::{BufWriter, Write};
use std::path::Path;

use cli_util::{run, s, TempDir};
use tier_router_core::names::state;

const TIERS: [(&str, &str); 4] = [
    ("label", "small-instruct"),
    ("chat", "frontier-chat"),
    ("analysis", "reasoning-large"),
    ("fallback", "general-mini"),
];

/// Writes about `bytes` of varied access-log lines over a few days.
fn generate(path: &Path, bytes: u64) -> u64 {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    let (mut written, mut lines, mut seed) = (0u64, 0u64, 0x2545_f491_4f6c_dd1d_u64);
    while written < bytes {
        // xorshift: cheap varied numbers.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (tier, model) = TIERS[(seed % 4) as usize];
        let tokens = seed % 5000;
        let second = lines * 7 % (4 * 86_400);
        let line = format!(
            "{{\"start_time\":\"2026-11-{:02}T{:02}:{:02}:{:02}.000Z\",\"request_id\":\"{seed:016x}\",\
             \"status\":\"200\",\"{}\":\"{tier}\",\"{}\":\"{model}\",\"{}\":\"{}\",\
             \"{}\":\"{tokens}\",\"{}\":\"{}\",\"{}\":\"0.{:06}\",\"{}\":\"0.{:06}\",\
             \"{}\":\"{}.{:03}\",\"{}\":\"{}.000\",\"{}\":\"200\"}}\n",
            1 + second / 86_400,
            second % 86_400 / 3600,
            second % 3600 / 60,
            second % 60,
            state::TIER,
            state::MODEL,
            state::SHADOW,
            seed % 10 == 0,
            state::INPUT_TOKENS,
            state::OUTPUT_TOKENS,
            tokens / 10,
            state::COST_USD,
            tokens % 999_999,
            state::BASELINE_COST_USD,
            tokens * 3 % 999_999,
            state::TTFT_MS,
            10 + seed % 3000,
            seed % 1000,
            state::LATENCY_MS,
            100 + seed % 60_000,
            state::UPSTREAM_STATUS,
        );
        out.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        lines += 1;
    }
    out.flush().unwrap();
    lines
}

/// Peak memory in MB from the `--stats` line (`...; peak memory 3.7 MB`).
fn peak_mb(stderr: &str) -> Option<f64> {
    let at = stderr.find("peak memory ")?;
    let mut words = stderr[at + "peak memory ".len()..].split_whitespace();
    let value: f64 = words.next()?.parse().ok()?;
    let scale = match words.next()? {
        "B" => 1e-6,
        "KB" => 1e-3,
        "MB" => 1.0,
        "GB" => 1e3,
        _ => return None,
    };
    Some(value * scale)
}

fn report_peak(log: &Path, lines: u64) -> f64 {
    let out = run(
        &["report", "--stats", "--json", "--by", "hour", s(log)],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["lines"], lines);
    assert!(out.stderr.contains("lines/s"), "{}", out.stderr);
    match peak_mb(&out.stderr) {
        Some(mb) => mb,
        None => {
            // Not Linux: no /proc/self/status, nothing to compare.
            assert!(!Path::new("/proc/self/status").exists(), "{}", out.stderr);
            0.0
        }
    }
}

#[test]
fn peak_memory_does_not_grow_with_the_log() {
    let dir = TempDir::new("report-memory");
    let small = dir.path("small.log");
    let large = dir.path("large.log");
    let small_lines = generate(&small, 10_000_000);
    let large_lines = generate(&large, 100_000_000);
    let small_peak = report_peak(&small, small_lines);
    let large_peak = report_peak(&large, large_lines);
    eprintln!("peak memory: {small_peak:.1} MB on 10 MB, {large_peak:.1} MB on 100 MB");
    assert!(large_peak < 40.0, "{large_peak} MB on a 100 MB log");
    assert!(
        large_peak < small_peak + 8.0,
        "memory grew with the log: {small_peak} MB -> {large_peak} MB"
    );
}
