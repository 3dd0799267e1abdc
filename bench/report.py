"""Medians, same-round ratios, the table and the targets.

Every comparison is paired: a ratio or difference is computed between two configurations
inside one round (they ran back to back under the same machine load), and the table shows
the median over rounds, with the range across rounds where it helps judge the noise.
"""

import statistics

# Issue 16: the module without the built-in classifier model (bench/wasm_size.py).
MODULE_LIMIT_BYTES = 300 * 1024


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired(results, key, ref_key, value, combine):
    """Per-round `combine(value(result), value(ref))` for rounds where both ran."""
    out = []
    for this, ref in zip(results.get(key, []), results.get(ref_key, [])):
        a, b = value(this), value(ref)
        if a is not None and b is not None:
            out.append(combine(a, b))
    return out


def rps(run):
    return run["load"]["rps"]


def cpu(run):
    return run["load"].get("cpu_us_per_request")


def p50_1(run):
    return run["lat"]["latency_us"]["p50"] if run.get("lat") else None


def summarize(scenarios, results):
    """One row per scenario, with medians and same-round ratios to its workload's references."""
    rows = []
    for s in scenarios:
        runs = results.get(s.key, [])
        if not runs:
            continue
        plain, floor = f"plain-{s.workload}", f"noop-{s.workload}"
        row = {
            "key": s.key,
            "label": s.label,
            "workload": s.workload,
            "rounds": len(runs),
            "rps": median([rps(r) for r in runs]),
            "p50_load_us": median([r["load"]["latency_us"]["p50"] for r in runs]),
            "p99_load_us": median([r["load"]["latency_us"]["p99"] for r in runs]),
            "p50_1_us": median([p50_1(r) for r in runs]),
            "cpu_us": median([cpu(r) for r in runs]),
            "p99_1_us": median([r["lat"]["latency_us"]["p99"] for r in runs if r.get("lat")]),
            "errors": sum(
                r["load"]["error_count"] + (r["lat"]["error_count"] if r.get("lat") else 0)
                for r in runs
            ),
            "requests": sum(r["load"]["requests"] for r in runs),
            "rss_kb": max((r["rss_kb"] for r in runs if r.get("rss_kb")), default=None),
        }
        refs = [("plain", plain), ("floor", floor)]
        if s.target.startswith("v_"):
            refs.append(("router", f"classify-{s.workload}"))
        for name, ref in refs:
            if ref == s.key or ref not in results:
                continue
            ratios = paired(results, s.key, ref, rps, lambda a, b: a / b)
            added = paired(results, s.key, ref, p50_1, lambda a, b: a - b)
            row[f"added_cpu_{name}_us"] = median(
                paired(results, s.key, ref, cpu, lambda a, b: a - b)
            )
            row[f"x_{name}"] = median(ratios)
            row[f"x_{name}_range"] = (min(ratios), max(ratios)) if ratios else None
            row[f"added_p50_{name}_us"] = median(added)
        rows.append(row)
    return rows


def fmt(value, spec, none="—"):
    return none if value is None else format(value, spec)


def fmt_ratio(row, name):
    value = row.get(f"x_{name}")
    if value is None:
        return "—"
    low, high = row[f"x_{name}_range"]
    if high - low < 0.005:
        return f"{value:.3f}"
    return f"{value:.3f} ({low:.2f}–{high:.2f})"


WORKLOAD_NAMES = {
    "mix": "eval mix",
    "32k": "32 KB prompts",
    "stream": "eval mix, SSE",
}


def load_table(rows):
    head = (
        "| configuration | bodies | req/s | × plain Envoy | × no-op floor | proxy CPU µs/req "
        "| + CPU µs vs plain | + CPU µs vs floor | p50 µs, 1 conn | + p50 µs vs plain "
        "| p99 µs, 1 conn | p50 / p99 ms, 16 conns | errors |"
    )
    lines = [head, "| --- | --- |" + " ---: |" * 11]
    for r in rows:
        load = f"{r['p50_load_us'] / 1000:.2f} / {r['p99_load_us'] / 1000:.2f}"
        lines.append(
            f"| {r['label']} | {WORKLOAD_NAMES.get(r['workload'], r['workload'])} "
            f"| {r['rps']:,.0f} | {fmt_ratio(r, 'plain')} | {fmt_ratio(r, 'floor')} "
            f"| {fmt(r.get('cpu_us'), '.0f')} | {fmt(r.get('added_cpu_plain_us'), '+.0f')} "
            f"| {fmt(r.get('added_cpu_floor_us'), '+.0f')} "
            f"| {fmt(r['p50_1_us'], '.0f')} | {fmt(r.get('added_p50_plain_us'), '+.0f')} "
            f"| {fmt(r['p99_1_us'], '.0f')} | {load} | {r['errors']} |"
        )
    return "\n".join(lines)


def variant_table(rows):
    """Variants against the tier-router build under test, same workload, same rounds."""
    rows = [r for r in rows if r.get("x_router") is not None]
    if not rows:
        return ""
    lines = [
        "| variant | bodies | req/s | × tier-router | + CPU µs/req vs tier-router "
        "| + p50 µs vs tier-router, 1 conn |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {WORKLOAD_NAMES.get(r['workload'], r['workload'])} | {r['rps']:,.0f} "
            f"| {fmt_ratio(r, 'router')} | {fmt(r.get('added_cpu_router_us'), '+.1f')} "
            f"| {fmt(r.get('added_p50_router_us'), '+.0f')} |"
        )
    return "\n".join(lines)


def core_table(core):
    wasm = any("wasm_ns_per_request" in c for c in core)
    head = "| core work, one request or response | bytes | native ns | native MB/s |"
    rule = "| --- | ---: | ---: | ---: |"
    if wasm:
        head += " wasm in V8 ns | wasm MB/s | wasm / native | wasm, cold caches, ns |"
        rule += " ---: | ---: | ---: | ---: |"
    lines = [head, rule]
    for c in core:
        line = (
            f"| {CORE_CASES.get(c['case'], c['case'])} | {c['bytes']:,} "
            f"| {c['ns_per_request']:,.0f} | {c['mb_per_s']:,.0f} |"
        )
        if wasm:
            w = c.get("wasm_ns_per_request")
            line += (
                f" {fmt(w, ',.0f')} | {fmt(c.get('wasm_mb_per_s'), ',.0f')} "
                f"| {fmt(w / c['ns_per_request'] if w else None, '.2f')} "
                f"| {fmt(c.get('wasm_cold_ns_per_request'), ',.0f')} |"
            )
        lines.append(line)
    return "\n".join(lines)


CORE_CASES = {
    "route-0.5k": "route (parse + classify + rewrite), 0.5 KB prompt",
    "route-0.5k-cues": "route, 0.5 KB prompt, learned model off (cues alone)",
    "model-0.5k": "learned model alone (score a parsed 0.5 KB prompt)",
    "parse-0.5k": "parse only, 0.5 KB prompt",
    "route-4k": "route, 4 KB prompt",
    "route-4k-cues": "route, 4 KB prompt, learned model off (cues alone)",
    "model-4k": "learned model alone (score a parsed 4 KB prompt)",
    "parse-4k": "parse only, 4 KB prompt",
    "route-32k": "route, 32 KB prompt",
    "route-32k-cues": "route, 32 KB prompt, learned model off (cues alone)",
    "model-32k": "learned model alone (score a parsed 32 KB prompt)",
    "parse-32k": "parse only, 32 KB prompt",
    "usage-sse-20": "usage scan, SSE stream, 20 content chunks (24 events)",
    "usage-sse-400": "usage scan, SSE stream, 400 content chunks (404 events)",
    "usage-json": "usage scan, JSON response",
}


def memory_table(memory):
    lines = [
        "| process | VmRSS idle, MB | VmRSS under load (max), MB | VmHWM, MB | Δ load vs plain Envoy, MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    plain = memory.get("plain", {}).get("load_kb")
    for name, m in memory.items():
        delta = None
        if plain and m.get("load_kb") and name != "plain" and name != "litellm":
            delta = (m["load_kb"] - plain) / 1024
        lines.append(
            f"| {m['label']} | {fmt(kb_mb(m.get('idle_kb')), '.1f')} "
            f"| {fmt(kb_mb(m.get('load_kb')), '.1f')} | {fmt(kb_mb(m.get('hwm_kb')), '.1f')} "
            f"| {fmt(delta, '+.1f')} |"
        )
    return "\n".join(lines)


def kb_mb(kb):
    return None if kb is None else kb / 1024


def targets(rows, core, module_bytes, litellm_ratio):
    """`module_bytes`: the module without its built-in model (wasm_size.without_model)."""
    by_key = {r["key"]: r for r in rows}
    core_by = {c["case"]: c for c in core}
    checks = []

    def check(name, measured, target_text, ok, unit=""):
        if measured is None:
            checks.append((name, target_text, "not measured", "SKIP"))
        else:
            checks.append((name, target_text, f"{measured}{unit}", "PASS" if ok else "MISS"))

    for workload in ("mix", "32k"):
        r = by_key.get(f"classify-{workload}", {})
        v = r.get("x_floor")
        check(
            f"classify ({WORKLOAD_NAMES[workload]}) req/s vs no-op floor",
            fmt(v, ".3f", None),
            ">= 0.85",
            v is not None and v >= 0.85,
        )
        v = r.get("x_plain")
        check(
            f"classify ({WORKLOAD_NAMES[workload]}) req/s vs plain Envoy",
            fmt(v, ".3f", None),
            ">= 0.90",
            v is not None and v >= 0.90,
        )
    v = by_key.get("header-mix", {}).get("x_floor")
    check(
        "explicit x-task header (eval mix) req/s vs no-op floor",
        fmt(v, ".3f", None),
        ">= 0.90",
        v is not None and v >= 0.90,
    )
    for key in ("classify-mix", "classify-32k", "classify-stream"):
        r = by_key.get(key)
        if not r:
            continue
        v = r.get("added_p50_plain_us")
        check(
            f"added p50 latency, {r['label']} ({WORKLOAD_NAMES[r['workload']]}), 1 conn, vs plain",
            fmt(v, ".0f", None),
            "< 100 µs",
            v is not None and v < 100,
            " µs",
        )
    c = core_by.get("route-32k")
    v = c["mb_per_s"] if c else None
    check(
        "native parse+classify+rewrite, 32 KB prompts",
        fmt(v, ",.0f", None),
        ">= 1,000 MB/s",
        v is not None and v >= 1000,
        " MB/s",
    )
    check(
        "wasm module without the built-in model",
        fmt(module_bytes / 1024 if module_bytes else None, ",.1f", None),
        "<= 300 KiB",
        module_bytes is not None and module_bytes <= MODULE_LIMIT_BYTES,
        " KiB",
    )
    check(
        "classify (eval mix) req/s vs LiteLLM proxy",
        fmt(litellm_ratio, ".0f", None),
        ">= 50x",
        litellm_ratio is not None and litellm_ratio >= 50,
        "x",
    )
    return checks


def targets_table(checks):
    lines = ["| target | wanted | measured | |", "| --- | --- | ---: | --- |"]
    for name, wanted, measured, verdict in checks:
        lines.append(f"| {name} | {wanted} | {measured} | {verdict} |")
    return "\n".join(lines)


# Issue 16's rule for a second, native adapter: only if the no-op dynamic module serves at least
# 10 points more of plain Envoy's requests/s than the no-op wasm floor.
DYNMOD_MARGIN = 0.10


def dynmod_decision(results):
    """Per workload, from the rounds where plain Envoy, the wasm floor and the dynamic module
    all ran: dyn/plain − wasm/plain, dyn/wasm, and the added CPU µs/req of each over plain.
    The margin is also given from CPU µs/req (plain/dyn − plain/wasm: the requests/s each
    would serve with a core of its own), which other tenants of the machine disturb less."""
    rows = []
    for workload in WORKLOAD_NAMES:
        plain, wasm, dyn = (
            results.get(f"{k}-{workload}", []) for k in ("plain", "noop", "dynmod")
        )
        rounds = list(zip(plain, wasm, dyn))
        if not rounds:
            continue
        margin = [rps(d) / rps(p) - rps(w) / rps(p) for p, w, d in rounds]
        over_wasm = [rps(d) / rps(w) for p, w, d in rounds]
        margin_cpu = [cpu(p) / cpu(d) - cpu(p) / cpu(w) for p, w, d in rounds]
        rows.append({
            "workload": workload,
            "rounds": len(rounds),
            "margin": median(margin),
            "margin_range": (min(margin), max(margin)),
            "margin_cpu": median(margin_cpu),
            "margin_cpu_range": (min(margin_cpu), max(margin_cpu)),
            "x_wasm": median(over_wasm),
            "x_wasm_range": (min(over_wasm), max(over_wasm)),
            "added_cpu_dyn_us": median([cpu(d) - cpu(p) for p, w, d in rounds]),
            "added_cpu_wasm_us": median([cpu(w) - cpu(p) for p, w, d in rounds]),
            "material": median(margin) >= DYNMOD_MARGIN,
        })  # fmt: skip
    return rows


def dynmod_table(rows):
    lines = [
        "| no-op dynamic module vs no-op wasm | rounds | dyn/plain − wasm/plain (points of plain "
        "Envoy's req/s) | the same from CPU µs/req | dyn / wasm req/s "
        "| + CPU µs/req over plain: dyn / wasm "
        f"| ≥ {DYNMOD_MARGIN:.2f} (a second adapter) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        low, high = r["margin_range"]
        wlow, whigh = r["x_wasm_range"]
        clow, chigh = r["margin_cpu_range"]
        lines.append(
            f"| {WORKLOAD_NAMES[r['workload']]} | {r['rounds']} "
            f"| {r['margin']:+.3f} ({low:+.2f}–{high:+.2f}) "
            f"| {r['margin_cpu']:+.3f} ({clow:+.2f}–{chigh:+.2f}) "
            f"| {r['x_wasm']:.3f} ({wlow:.2f}–{whigh:.2f}) "
            f"| {fmt(r['added_cpu_dyn_us'], '+.0f')} / {fmt(r['added_cpu_wasm_us'], '+.0f')} "
            f"| {'yes' if r['material'] else 'no'} |"
        )
    return "\n".join(lines)
