"""The CLI on what a real Envoy wrote: `report` on the stack's JSON access log (plain, gzip,
with a garbage line, by hour, and from a shadow-mode stack), `classify` agreeing with the
filter's decisions, and `check` on the committed config."""

import copy
import gzip
import json
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal

import pytest
import yaml

import harness
from prompts import ANALYSIS_PROMPT, CHAT_PATH, LABEL_PROMPT, UNMATCHED_PROMPT, chat, conversation

CLI = harness.REPO_ROOT / "target" / "release" / "tier-router"
TIER, MODEL, SHADOW = "tier_router.tier", "gen_ai.request.model", "tier_router.shadow"
COST, BASELINE = "tier_router.cost_usd", "tier_router.baseline_cost_usd"
INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"

BODIES = [
    chat(LABEL_PROMPT),
    chat(LABEL_PROMPT, max_tokens=3),
    chat("Extract the order number from: order #4411 shipped."),
    conversation(),
    chat(ANALYSIS_PROMPT),
    chat(UNMATCHED_PROMPT),
]


@pytest.fixture(scope="session")
def cli():
    # Incremental: a no-op when the binary is fresh (scripts/test.sh builds it first).
    subprocess.run(
        ["cargo", "build", "--release", "--bin", "tier-router"], cwd=harness.REPO_ROOT, check=True
    )
    return CLI


def run(cli, *args, stdin=None, expect=0):
    result = subprocess.run(
        [str(cli), *map(str, args)], input=stdin, capture_output=True, check=False
    )
    assert result.returncode == expect, result.stderr.decode()
    return result


def report(cli, *args):
    return json.loads(run(cli, "report", "--json", *args).stdout)


def snapshot(stack, outcomes, tmp_path):
    """A copy of the access log once every request of `outcomes` is in it."""
    for outcome in outcomes:
        stack.access_log.entry(outcome.request_id)
    copy_path = tmp_path / "access.log"
    shutil.copyfile(stack.access_log.path, copy_path)
    return copy_path


def micro(value):
    return int(Decimal(value) * 1_000_000) if value not in (None, "-", "") else None


def expected_by_tier(path, shadow):
    """Per tier sums, computed from the log lines directly."""
    sums = defaultdict(lambda: defaultdict(int))
    for line in path.read_text().splitlines():
        entry = harness.with_record_fields(json.loads(line))
        if (entry.get(SHADOW) == "true") != shadow:
            continue
        tier = sums[entry.get(TIER) or "(none)"]
        tier["requests"] += 1
        tier["input_tokens"] += int(entry.get(INPUT) or 0)
        tier["output_tokens"] += int(entry.get(OUTPUT) or 0)
        cost, baseline = micro(entry.get(COST)), micro(entry.get(BASELINE))
        tier["cost"] += cost or 0
        tier["baseline"] += baseline or 0
        if cost is not None and baseline is not None:
            tier["saved"] += baseline - cost
    return sums


def assert_matches(report_side, expected):
    assert set(report_side["by_tier"]) == set(expected)
    for name, sums in expected.items():
        got = report_side["by_tier"][name]
        assert got["requests"] == sums["requests"], name
        assert got["input_tokens"] == sums["input_tokens"], name
        assert got["output_tokens"] == sums["output_tokens"], name
        assert round(got["cost_usd"] * 1e6) == sums["cost"], name
        assert round(got["baseline_cost_usd"] * 1e6) == sums["baseline"], name
        assert round(got["saved_usd"] * 1e6) == sums["saved"], name


@pytest.fixture(scope="module")
def logged(stack, tmp_path_factory):
    outcomes = [stack.call(CHAT_PATH, body) for body in BODIES]
    return outcomes, snapshot(stack, outcomes, tmp_path_factory.mktemp("cli-log"))


def test_report_adds_up_the_access_log(cli, logged):
    _, log = logged
    result = report(cli, log)
    assert result["unparseable"]["count"] == 0
    assert_matches(result["served"], expected_by_tier(log, shadow=False))
    tiers = result["served"]["by_tier"]
    for tier in ("label", "chat", "analysis", "fallback"):
        assert tiers[tier]["requests"] >= 1
        assert tiers[tier]["ttft_ms"]["samples"] >= 1
        assert tiers[tier]["latency_ms"]["p95"] >= tiers[tier]["latency_ms"]["p50"] > 0
    # Everything on the baseline (frontier-chat) costs more than tiered.
    assert result["served"]["total"]["saved_usd"] > 0
    assert tiers["fallback"]["fallbacks"] == tiers["fallback"]["requests"]


def test_report_tables_name_every_tier_and_model(cli, logged):
    _, log = logged
    text = run(cli, "report", log).stdout.decode()
    for name in ("label", "chat", "analysis", "fallback", "small-instruct", "reasoning-large"):
        assert any(line.startswith(name + " ") for line in text.splitlines()), name


def test_report_reads_gzip_and_reports_garbage_lines(cli, logged, tmp_path):
    _, log = logged
    lines = len(log.read_text().splitlines())
    compressed = tmp_path / "access.log.gz"
    compressed.write_bytes(gzip.compress(log.read_bytes()))
    damaged = tmp_path / "damaged.log"
    damaged.write_bytes(log.read_bytes() + b'{"start_time": "2026-\n')
    result = report(cli, compressed, damaged)
    plain = report(cli, log)
    assert result["served"]["total"]["requests"] == 2 * plain["served"]["total"]["requests"]
    assert result["unparseable"]["count"] == 1
    assert result["unparseable"]["first"][0]["line"] == lines + 1
    assert result["unparseable"]["first"][0]["input"] == str(damaged)


def test_report_by_hour_uses_the_start_time(cli, logged):
    _, log = logged
    hours = {json.loads(line)["start_time"][:13] + ":00Z" for line in log.read_text().splitlines()}
    rows = report(cli, "--by", "hour", log)["series"]["served"]["rows"]
    assert {row["period"] for row in rows} == hours


def test_classify_decides_as_the_filter_did(cli, logged):
    outcomes, _ = logged
    stdin = "\n".join(json.dumps(body) for body in BODIES).encode()
    decided = [json.loads(line) for line in run(cli, "classify", stdin=stdin).stdout.splitlines()]
    for outcome, decision in zip(outcomes, decided, strict=True):
        assert (decision["tier"], decision["model"]) == (outcome.log[TIER], outcome.log[MODEL])


def test_check_passes_the_committed_config(cli):
    out = run(cli, "check", "--strict", harness.REPO_ROOT / "envoy" / "tier-router.json")
    assert b"0 warnings" in out.stdout


@pytest.fixture(scope="module")
def shadow_stack(tmp_path_factory, envoy_bin, wasm_path):
    config = copy.deepcopy(harness.FILTER_CONFIG)
    config["rollout"] = {"mode": "shadow"}
    stack = harness.Stack(tmp_path_factory.mktemp("cli-shadow"), envoy_bin, wasm_path, config)
    try:
        yield stack.start()
    finally:
        stack.stop()


def test_report_says_what_shadow_routing_would_have_saved(cli, shadow_stack, tmp_path):
    outcomes = [shadow_stack.call(CHAT_PATH, body) for body in BODIES]
    log = snapshot(shadow_stack, outcomes, tmp_path)
    result = report(cli, log)
    assert result["served"]["total"]["requests"] == 0
    shadow = result["shadow"]
    assert shadow["total"]["requests"] == len(BODIES)
    assert_matches(shadow, expected_by_tier(log, shadow=True))
    # Served by the catch-all route, priced as routed: the label tier would have saved most.
    assert {o.upstream for o in outcomes} == {harness.FILTER_CONFIG["fallback_model"]}
    # Each line also names the model the upstream received: the client's, as sent.
    for outcome in outcomes:
        assert outcome.log["tier_router.sent_model"] == outcome.sent_model
        assert outcome.log["tier_router.rewritten"] == "false"
    assert shadow["by_tier"]["label"]["saved_percent"] > 90
    text = run(cli, "report", log).stdout.decode()
    assert "what routing would have saved" in text




def one_record_field(text):
    """An edit_bootstrap for the `record` layout: the access log logs the filter's record,
    one JSON object, as one string field instead of one key per field (README)."""
    bootstrap = yaml.safe_load(text)
    listener = bootstrap["static_resources"]["listeners"][0]
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    log_format = hcm["access_log"][0]["typed_config"]["log_format"]["json_format"]
    for key in [k for k, v in log_format.items() if "%FILTER_STATE(wasm." in v]:
        del log_format[key]
    log_format[harness.RECORD] = f"%FILTER_STATE(wasm.{harness.RECORD}:PLAIN)%"
    return yaml.safe_dump(bootstrap, sort_keys=False)


def without_latency(attempts):
    return [{k: v for k, v in a.items() if k != "latency_ms"} for a in json.loads(attempts)]


def test_record_layout_logs_every_field_in_one_object(cli, logged, envoy_bin, wasm_path, tmp_path):
    by_field_outcomes, _ = logged
    config = copy.deepcopy(harness.FILTER_CONFIG)
    config["filter_state"] = "record"
    (tmp_path / "stack").mkdir()
    stack = harness.Stack(
        tmp_path / "stack", envoy_bin, wasm_path, config, edit_bootstrap=one_record_field
    )
    try:
        stack.start()
        outcomes = [stack.call(CHAT_PATH, body) for body in BODIES]
        log = snapshot(stack, outcomes, tmp_path)
    finally:
        stack.stop()
    raw_lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(TIER not in line and harness.RECORD in line for line in raw_lines)
    for by_field, in_record in zip(by_field_outcomes, outcomes):
        record = json.loads(in_record.log[harness.RECORD])
        # The fields the per-field log shows (those it prints as null are not in the record),
        # with the same text; timings differ from run to run.
        shown = {
            k
            for k, v in by_field.log.items()
            if k.startswith(("tier_router.", "gen_ai.")) and v is not None
        }
        assert set(record) == shown
        for key, value in record.items():
            if key == "tier_router.attempts":
                # Each attempt's latency differs too.
                assert without_latency(value) == without_latency(by_field.log[key])
            elif key not in ("tier_router.ttft_ms", "tier_router.ttfb_ms", "tier_router.latency_ms"):
                assert value == by_field.log[key], key
    result = report(cli, log)
    assert result["unparseable"]["count"] == 0
    assert_matches(result["served"], expected_by_tier(log, shadow=False))
