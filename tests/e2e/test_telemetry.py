"""What each call cost, where operators look: the access-log line carries the upstream's exact
token counts, the cost from the price table, the baseline cost and the timing; Prometheus
counters rise by exactly those amounts; streams pass through chunk by chunk."""

import math
import time

from prometheus_client.parser import text_string_to_metric_families

from harness import FILTER_CONFIG, MODEL, TIER
from prompts import LABEL_PROMPT, chat

PRICES = {m["name"]: m["price_per_1m"] for m in FILTER_CONFIG["models"]}
BASELINE = FILTER_CONFIG["baseline_model"]
HISTOGRAM_FLUSH_S = 8  # Envoy publishes histograms at its stats flush (every 5 s by default)


def micro_usd(model, prompt_tokens, cached_tokens, completion_tokens, cache_writes=0):
    """The cost rule of the README, computed independently of the filter. `cache_writes`
    (5-minute cache writes, part of `prompt_tokens`) are billed at `cache_write`."""
    price = PRICES[model]
    cached_price = price.get("cached_input", price["input"])
    write_price = price.get("cache_write", price["input"])
    plain = prompt_tokens - cached_tokens - cache_writes
    total = plain * price["input"] + cached_tokens * cached_price + cache_writes * write_price
    # Half up, as the filter rounds (Rust's f64::round); Python's round() goes half to even.
    return math.floor(total + completion_tokens * price["output"] + 0.5)


def usd(micro):
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def metrics(stack):
    """{(name, frozenset(labels)): value} from /stats/prometheus, parsed by prometheus_client."""
    values = {}
    for family in text_string_to_metric_families(stack.prometheus_stats()):
        for sample in family.samples:
            if sample.name.startswith("tier_router_"):
                values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def delta(before, after, name, **labels):
    key = (name, frozenset(labels.items()))
    return after.get(key, 0) - before.get(key, 0)


def assert_logged_usage(log, usage, model):
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    assert log["gen_ai.usage.input_tokens"] == str(usage.prompt_tokens)
    assert log["gen_ai.usage.output_tokens"] == str(usage.completion_tokens)
    assert log["gen_ai.usage.cache_read.input_tokens"] == str(cached)
    assert log["tier_router.usage_source"] == "reported"
    cost = micro_usd(model, usage.prompt_tokens, cached, usage.completion_tokens)
    baseline = micro_usd(BASELINE, usage.prompt_tokens, cached, usage.completion_tokens)
    assert log["tier_router.cost_usd"] == usd(cost)
    assert log["tier_router.baseline_cost_usd"] == usd(baseline)
    assert 0 < float(log["tier_router.ttft_ms"]) <= float(log["tier_router.latency_ms"])
    assert log["tier_router.upstream_status"] == "200"
    return cost, baseline


def test_plain_request_is_logged_and_counted(stack, client):
    # A long prompt so the mock reports cached tokens too (priced at cached_input).
    prompt = LABEL_PROMPT + " Context: " + "the customer wrote a long message. " * 150
    before = metrics(stack)
    raw = client.chat.completions.with_raw_response.create(
        model="client-choice",
        messages=[{"role": "user", "content": prompt}],
        extra_headers={"x-task": "classify", "x-request-id": "telemetry-plain"},
    )
    completion = raw.parse()
    assert raw.headers["x-tier-router-tier"] == "label"
    assert raw.headers["x-tier-router-model"] == "small-instruct"
    assert completion.usage.prompt_tokens_details.cached_tokens > 0
    log = stack.access_log.entry("telemetry-plain")
    assert (log[TIER], log[MODEL]) == ("label", "small-instruct")
    cost, baseline = assert_logged_usage(log, completion.usage, "small-instruct")
    assert cost < baseline

    after = metrics(stack)
    labels = {"tier": "label", "model": "small-instruct"}
    assert delta(before, after, "tier_router_requests_total", **labels) == 1
    assert delta(before, after, "tier_router_input_tokens_total", **labels) == completion.usage.prompt_tokens
    assert delta(before, after, "tier_router_output_tokens_total", **labels) == completion.usage.completion_tokens
    assert delta(before, after, "tier_router_cost_micro_usd_total", **labels) == cost
    assert delta(before, after, "tier_router_baseline_cost_micro_usd_total", **labels) == baseline
    assert delta(before, after, "tier_router_decisions_total", source="header", tier="label") == 1


def test_stream_arrives_chunk_by_chunk_and_is_accounted(stack, client):
    mock = stack.mocks["frontier-chat"]
    mock.split_events, mock.chunk_gap_s = True, 0.02
    try:
        before = metrics(stack)
        started = time.monotonic()
        stream = client.chat.completions.create(
            model="client-choice",
            messages=[{"role": "user", "content": "Draft a friendly reply."}],
            stream=True,
            extra_headers={"x-task": "chat", "x-request-id": "telemetry-stream"},
        )
        arrivals, chunks = [], []
        for chunk in stream:
            arrivals.append(time.monotonic() - started)
            chunks.append(chunk)
    finally:
        mock.split_events, mock.chunk_gap_s = False, 0.0
    # The client did not ask for usage; the filter did, so the last chunk carries it.
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("café ✓ 😀.")
    # Every event is three chunks 20 ms apart: a buffered stream would arrive in one burst.
    assert arrivals[-1] - arrivals[0] > 0.5, arrivals
    assert arrivals[len(arrivals) // 2] - arrivals[0] > 0.2, arrivals

    log = stack.access_log.entry("telemetry-stream")
    assert (log[TIER], log[MODEL]) == ("chat", "frontier-chat")
    cost, _ = assert_logged_usage(log, usage, "frontier-chat")
    # TTFT is the first content token (the second event); latency the last byte: the
    # stream took at least its gaps after it.
    assert float(log["tier_router.latency_ms"]) - float(log["tier_router.ttft_ms"]) > 400

    after = metrics(stack)
    labels = {"tier": "chat", "model": "frontier-chat"}
    assert delta(before, after, "tier_router_requests_total", **labels) == 1
    assert delta(before, after, "tier_router_output_tokens_total", **labels) == usage.completion_tokens
    assert delta(before, after, "tier_router_cost_micro_usd_total", **labels) == cost


def test_timing_histograms_reach_prometheus(stack):
    stack.call("/v1/chat/completions", chat("hello"), headers={"x-task": "analysis"})
    deadline = time.monotonic() + HISTOGRAM_FLUSH_S
    labels = {"tier": "analysis", "model": "reasoning-large"}
    while True:
        after = metrics(stack)
        ttft = after.get(("tier_router_ttft_ms_count", frozenset(labels.items())), 0)
        latency = after.get(("tier_router_latency_ms_count", frozenset(labels.items())), 0)
        if ttft >= 1 and latency >= 1:
            break
        assert time.monotonic() < deadline, "no TTFT/latency histogram samples in /stats/prometheus"
        time.sleep(0.5)


def test_untrusted_task_and_fallback_are_counted(stack):
    before = metrics(stack)
    outcome = stack.call("/v1/chat/completions", chat("hello"), headers={"x-task": "platinum"})
    assert outcome.log[TIER] == "fallback"
    assert outcome.log["tier_router.untrusted_task"] == "header:unknown_task"
    after = metrics(stack)
    assert delta(before, after, "tier_router_untrusted_task_total", reason="unknown_task") == 1
    assert delta(before, after, "tier_router_fallbacks_total") == 1
    assert delta(before, after, "tier_router_decisions_total", source="fallback", tier="fallback") == 1


def test_upstream_without_usage_is_estimated(stack):
    # The mock leaves the usage object out on request.
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]}
    outcome = stack.call("/v1/chat/completions", body, headers={"x-task": "label", "x-mock-no-usage": "1"})
    assert outcome.log["tier_router.usage_source"] == "estimated"
    assert outcome.log["gen_ai.usage.input_tokens"] == "100"


def test_log_lines_carry_no_secrets_or_prompt_text(stack):
    secret = "sk-live-do-not-log"
    outcome = stack.call(
        "/v1/chat/completions",
        chat("the secret plan is 42, answer in one word"),
        headers={"authorization": f"Bearer {secret}", "x-task": "label"},
    )
    line = str(outcome.log)
    assert secret not in line and "secret plan" not in line
