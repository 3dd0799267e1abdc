//! `tier-router report --html FILE`: the page is written next to the usual stdout, holds
//! only inline markup (the browser checks are in tests/e2e/test_report_html.py), and a FILE
//! that cannot be written is an error that names it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use cli_util::{run, s, TempDir};

const LOG: &str = concat!(
    r#"{"start_time":"2026-11-28T03:29:01.798Z","status":"200","tier_router.tier":"label","gen_ai.request.model":"<b>small</b>","tier_router.cost_usd":"0.000012","tier_router.baseline_cost_usd":"0.000375","tier_router.ttft_ms":"20.000","tier_router.latency_ms":"100.000"}"#,
    "\n",
    r#"{"start_time":"2026-11-28T04:10:00Z","status":"200","tier_router.tier":"chat","gen_ai.request.model":"frontier-chat","tier_router.cost_usd":"0.002000","tier_router.baseline_cost_usd":"0.002000","tier_router.ttft_ms":"300.000","tier_router.latency_ms":"900.000"}"#,
    "\n",
);

#[test]
fn writes_the_page_and_the_usual_report() {
    let dir = TempDir::new("report-html");
    let log = dir.write("access.log", LOG.as_bytes());
    let page = dir.path("report.html");
    let with_html = run(&["report", "--html", s(&page), s(&log)], b"");
    assert_eq!(with_html.code, 0, "{}", with_html.stderr);
    assert_eq!(with_html.stdout, run(&["report", s(&log)], b"").stdout);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(r#"content="default-src 'none'; style-src 'unsafe-inline'"#));
    assert!(html.contains(
        r#"data-chart="served-task-mix" data-key="label" data-series="requests" data-value="1""#
    ));
    assert!(html.contains(r#"data-chart="served-cost-over-time" data-key="2026-11-28T04:00Z" data-series="cost_usd" data-value="0.002""#));
    assert!(html.contains("&lt;b&gt;small&lt;/b&gt;"));
    assert!(!html.contains("<b>small"));
    for tag in ["<script", "<img", "<link", "src=", "href=", "url("] {
        assert!(!html.contains(tag), "{tag}");
    }
}

#[test]
fn an_unwritable_file_is_an_error_naming_it() {
    let dir = TempDir::new("report-html-error");
    let log = dir.write("access.log", LOG.as_bytes());
    let page = dir.path("no-such-dir/report.html");
    let result = run(&["report", "--html", s(&page), s(&log)], b"");
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("cannot write") && result.stderr.contains("no-such-dir/report.html"),
        "{}",
        result.stderr
    );
}
