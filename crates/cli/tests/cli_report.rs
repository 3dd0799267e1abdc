//! `tier-router report`: sums, savings, shadow lines, quantiles, unparseable lines, gzip,
//! stdin, the time series, and the exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use std::io::Write;

use cli_util::{run, s, TempDir};
use serde_json::{json, Map, Value};
use tier_router_core::names::state;

/// One access-log line with the keys envoy/envoy.yaml logs (values are strings, as Envoy
/// prints filter state).
fn line(pairs: &[(&str, &str)]) -> String {
    let mut map = Map::new();
    map.insert("start_time".into(), json!("2026-11-28T03:29:01.798Z"));
    map.insert("status".into(), json!("200"));
    for (key, value) in pairs {
        map.insert((*key).into(), json!(value));
    }
    Value::Object(map).to_string()
}

fn served(
    tier: &str,
    model: &str,
    cost: &str,
    baseline: &str,
    ttft: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (state::TIER, tier.into()),
        (state::MODEL, model.into()),
        (state::SHADOW, "false".into()),
        (state::INPUT_TOKENS, "100".into()),
        (state::OUTPUT_TOKENS, "10".into()),
        (state::USAGE_SOURCE, "reported".into()),
        (state::COST_USD, cost.into()),
        (state::BASELINE_COST_USD, baseline.into()),
        (state::TTFT_MS, ttft.into()),
        (state::LATENCY_MS, "100.000".into()),
        (state::UPSTREAM_STATUS, "200".into()),
    ]
}

fn render(pairs: Vec<(&'static str, String)>, extra: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    line(&all)
}

/// Lines 1-5 served, 6 shadow, 7-8 unparseable, 9 blank, 10 with the short keys older
/// envoy.yaml versions logged.
fn sample_log() -> String {
    [
        render(
            served("label", "small-instruct", "0.000012", "0.000375", "20.000"),
            &[],
        ),
        render(
            served("label", "small-instruct", "0.000006", "0.000225", "40.000"),
            &[],
        ),
        render(
            served(
                "analysis",
                "reasoning-large",
                "0.010000",
                "0.015000",
                "300.000",
            ),
            &[
                ("tier_router.failover", "true"),
                ("tier_router.escalated", "from chat"),
                (state::UPSTREAM_STATUS, "503"),
            ],
        ),
        render(
            served("fallback", "general-mini", "0.000010", "-", "10.000"),
            &[(state::USAGE_SOURCE, "estimated")],
        ),
        render(served("label", "small-instruct", "-", "-", "-"), &[]),
        render(
            served("label", "small-instruct", "0.000004", "0.000120", "50.000"),
            &[(state::SHADOW, "true")],
        ),
        "{\"start_time\":\"2026-11-28T03:29:01.798Z\",\"tier_rou".to_string(),
        "[1,2,3]".to_string(),
        String::new(),
        line(&[
            ("tier", "chat"),
            ("model", "frontier-chat"),
            (state::COST_USD, "0.000500"),
        ]),
    ]
    .join("\n")
}

fn report_json(dir: &TempDir, log: &str, extra: &[&str]) -> Value {
    let path = dir.write("access.log", log.as_bytes());
    let mut args = vec!["report", "--json", s(&path)];
    args.extend_from_slice(extra);
    let out = run(&args, b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

#[test]
fn totals_costs_and_savings() {
    let dir = TempDir::new("report-totals");
    let report = report_json(&dir, &sample_log(), &[]);
    assert_eq!(report["lines"], 9, "the blank line is not counted");
    let total = &report["served"]["total"];
    assert_eq!(total["requests"], 6);
    assert_eq!(total["input_tokens"], 500);
    assert_eq!(total["output_tokens"], 50);
    // 12 + 6 + 10000 + 10 + 500 µ$.
    assert_eq!(total["cost_usd"], 0.010528);
    assert_eq!(total["baseline_cost_usd"], 0.0156);
    // Savings compare lines with both costs: (375 + 225 + 15000) - (12 + 6 + 10000).
    assert_eq!(total["compared"], 3);
    assert_eq!(total["saved_usd"], 0.005582);
    assert_eq!(total["unpriced"], 1);
    assert_eq!(total["errors"], 1);
    assert_eq!(total["fallbacks"], 1);
    assert_eq!(total["failovers"], 1);
    assert_eq!(total["escalations"], 1);
    assert_eq!(total["estimated_usage"], 1);
    assert_eq!(report["lines_with_failover_fields"], 1);
}

#[test]
fn requests_the_upstream_did_not_serve_are_unbilled_not_estimated() {
    let dir = TempDir::new("report-unbilled");
    let refused = line(&[
        (state::TIER, "label"),
        (state::MODEL, "small-instruct"),
        ("status", "503"),
        (state::INPUT_TOKENS, "0"),
        (state::USAGE_SOURCE, "none"),
        (state::COST_USD, "0.000000"),
        (state::BASELINE_COST_USD, "0.000000"),
    ]);
    let log = [
        refused,
        render(
            served("label", "small-instruct", "0.000012", "0.000375", "20.000"),
            &[],
        ),
    ]
    .join("\n");
    let report = report_json(&dir, &log, &[]);
    let total = &report["served"]["total"];
    assert_eq!(total["unbilled"], 1);
    assert_eq!(total["estimated_usage"], 0);
    assert_eq!(
        total["errors"], 1,
        "Envoy's 503 is an error without an upstream status"
    );
    assert_eq!(total["cost_usd"], 0.000012);
    assert_eq!(total["ttft_ms"]["samples"], 1);
    let path = dir.write("access.log", log.as_bytes());
    let text = run(&["report", s(&path)], b"");
    assert!(
        text.stdout
            .contains("requests billed at 0, the upstream did not serve them")
            && text.stdout.contains("timeouts): 1"),
        "{}",
        text.stdout
    );
}

#[test]
fn without_failover_keys_the_counts_are_flagged_as_unknown() {
    let dir = TempDir::new("report-no-failover-keys");
    let log = render(served("label", "m", "0.000001", "0.000002", "1.000"), &[]);
    let path = dir.write("access.log", log.as_bytes());
    let out = run(&["report", s(&path)], b"");
    assert!(
        out.stdout
            .contains("failovers and escalations are not known, not zero"),
        "{}",
        out.stdout
    );
    let out = run(
        &["report", s(&dir.write("b.log", sample_log().as_bytes()))],
        b"",
    );
    assert!(
        !out.stdout.contains("not known, not zero"),
        "{}",
        out.stdout
    );
}

#[test]
fn per_tier_and_per_model_with_percentiles() {
    let dir = TempDir::new("report-groups");
    let report = report_json(&dir, &sample_log(), &[]);
    let label = &report["served"]["by_tier"]["label"];
    assert_eq!(label["requests"], 3);
    assert_eq!(label["ttft_ms"]["samples"], 2);
    assert_eq!(label["ttft_ms"]["p50"], 20.0);
    assert_eq!(label["ttft_ms"]["p95"], 40.0);
    assert_eq!(label["saved_percent"], 97.0);
    assert_eq!(
        report["served"]["by_tier"]["chat"]["requests"], 1,
        "short keys are read"
    );
    assert_eq!(
        report["served"]["by_model"]["reasoning-large"]["failovers"],
        1
    );
    assert_eq!(report["served"]["by_model"]["general-mini"]["fallbacks"], 1);
    let tiers: Vec<&String> = report["served"]["by_tier"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(tiers, ["analysis", "chat", "fallback", "label"]);
}

#[test]
fn shadow_lines_say_what_routing_would_have_saved() {
    let dir = TempDir::new("report-shadow");
    let report = report_json(&dir, &sample_log(), &[]);
    let shadow = &report["shadow"]["total"];
    assert_eq!(shadow["requests"], 1);
    assert_eq!(shadow["cost_usd"], 0.000004);
    assert_eq!(shadow["saved_usd"], 0.000116);
    assert_eq!(report["shadow"]["by_tier"]["label"]["requests"], 1);
}

#[test]
fn unparseable_lines_are_counted_with_their_line_numbers() {
    let dir = TempDir::new("report-bad");
    let report = report_json(&dir, &sample_log(), &[]);
    let bad = &report["unparseable"];
    assert_eq!(bad["count"], 2);
    assert_eq!(bad["first"][0]["line"], 7);
    assert!(bad["first"][0]["error"]
        .as_str()
        .unwrap()
        .starts_with("not JSON (column"));
    assert_eq!(bad["first"][1]["line"], 8);
    assert_eq!(bad["first"][1]["error"], "not a JSON object");
}

#[test]
fn tables_by_default_and_a_warning_on_stderr() {
    let dir = TempDir::new("report-text");
    let path = dir.write("access.log", sample_log().as_bytes());
    let out = run(&["report", s(&path)], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    for heading in [
        "Served requests by tier",
        "Served requests by model",
        "Shadow requests (decided and logged, not served)",
    ] {
        assert!(out.stdout.contains(heading), "{heading}:\n{}", out.stdout);
    }
    let label = out
        .stdout
        .lines()
        .find(|l| l.starts_with("label "))
        .unwrap();
    let cells: Vec<&str> = label.split_whitespace().collect();
    assert_eq!(
        &cells[..9],
        ["label", "3", "0", "300", "30", "0.000018", "0.000600", "0.000582", "97.0%"]
    );
    assert!(
        out.stderr.contains("unparseable lines: 2"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("access.log:7: not JSON"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\r'),
        "no progress bar when stderr is not a terminal"
    );
}

#[test]
fn stdin_gzip_and_several_inputs_add_up() {
    let dir = TempDir::new("report-inputs");
    let log = sample_log();
    let plain = dir.write("access.log", log.as_bytes());
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(log.as_bytes()).unwrap();
    // Named without .gz: compression is detected from the content.
    let gz = dir.write("access.log.1", &encoder.finish().unwrap());
    let out = run(
        &["report", "--json", s(&plain), "-", s(&gz)],
        log.as_bytes(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    assert_eq!(report["served"]["total"]["requests"], 18);
    assert_eq!(report["unparseable"]["count"], 6);
    assert_eq!(report["unparseable"]["first"][2]["input"], "-");
    assert_eq!(report["inputs"].as_array().unwrap().len(), 3);
}

#[test]
fn by_hour_and_by_day() {
    let dir = TempDir::new("report-series");
    let at = |time: &str, tier: &str| {
        render(
            served(tier, "m", "0.000010", "0.000100", "10.000"),
            &[("start_time", time)],
        )
    };
    let log = [
        at("2026-11-28T03:29:01.798Z", "label"),
        at("2026-11-28T03:59:59.999Z", "label"),
        at("2026-11-28T04:00:00.000Z", "label"),
        at("2026-11-29T05:30:00.000+02:00", "chat"),
        at("-", "chat"),
    ]
    .join("\n");
    let report = report_json(&dir, &log, &["--by", "hour"]);
    let rows = report["series"]["served"]["rows"].as_array().unwrap();
    let cells: Vec<(Value, String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["period"].clone(),
                r["tier"].as_str().unwrap().to_string(),
                r["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            (Value::Null, "chat".to_string(), 1),
            (json!("2026-11-28T03:00Z"), "label".to_string(), 2),
            (json!("2026-11-28T04:00Z"), "label".to_string(), 1),
            (json!("2026-11-29T03:00Z"), "chat".to_string(), 1),
        ]
    );
    let report = report_json(&dir, &log, &["--by", "day"]);
    assert_eq!(report["series"]["by"], "day");
    assert_eq!(
        report["series"]["served"]["rows"][1]["period"],
        "2026-11-28"
    );
    assert_eq!(report["series"]["served"]["rows"][1]["requests"], 3);
}

#[test]
fn a_missing_log_is_an_error_before_anything_is_read() {
    let dir = TempDir::new("report-missing");
    let path = dir.write("access.log", sample_log().as_bytes());
    let out = run(&["report", s(&path), "/nonexistent/access.log"], b"");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot read /nonexistent/access.log:"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_truncated_gzip_file_is_reported_and_the_rest_still_counted() {
    let dir = TempDir::new("report-truncated");
    let log: String = (0..2000).map(|_| sample_log() + "\n").collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(log.as_bytes()).unwrap();
    let gz = encoder.finish().unwrap();
    let truncated = dir.write("access.log.gz", &gz[..gz.len() / 2]);
    let plain = dir.write("other.log", sample_log().as_bytes());
    let out = run(&["report", "--json", s(&truncated), s(&plain)], b"");
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
    assert!(
        out.stderr.contains("access.log.gz: after line"),
        "{}",
        out.stderr
    );
    let report = out.json();
    assert!(report["served"]["total"]["requests"].as_u64().unwrap() > 6);
    assert_eq!(report["read_errors"].as_array().unwrap().len(), 1);
}

#[test]
fn an_empty_log_reports_no_requests() {
    let out = run(&["report", "-"], b"");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("no requests"), "{}", out.stdout);
}
