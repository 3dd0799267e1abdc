"""`tier-router report --html`: the page in a real headless Chromium. It loads from a file://
URL with nothing fetched and nothing logged, every chart mark carries the number
`report --json` prints for the same log, the bars are drawn to scale, and names from the log
(model names are whatever clients and upstreams sent) stay text."""

import json
import random
import re
import subprocess
from html.parser import HTMLParser

import pytest

import harness
from headless_chromium import Chromium  # scripts/headless_chromium.py

CLI = harness.REPO_ROOT / "target" / "release" / "tier-router"
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "</svg><script>alert(1)</script>",
    "a\"b'c&d <b>bold</b>",
    "ctl\u0007bell",
]
# (tier, model, served TTFT?) per kind of line; the shadow lines name what routing would pick.
SERVED = [
    ("label", "small-instruct", True),
    ("chat", "frontier-chat", True),
    ("analysis", "reasoning-large", True),
    ("fallback", "general-mini", True),
    ("chat", HOSTILE[0], True),
    ("label", HOSTILE[1], True),
    ("chat", HOSTILE[2], False),  # no TTFT: no TTFT bars for it
    ("fallback", HOSTILE[3], True),
]
SHADOW = [("label", "small-instruct"), ("analysis", "reasoning-large")]


def usd(micro):
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def log_line(rng, hour, tier, model, shadow=False, ttft=True, start=True, priced=True):
    cost = rng.randrange(10, 40_000)
    baseline = cost + rng.randrange(0, 90_000)
    line = {
        "start_time": f"2026-11-28T{hour:02d}:{rng.randrange(60):02d}:07.250Z" if start else "-",
        "status": "200",
        "tier_router.tier": tier,
        "gen_ai.request.model": model,
        "tier_router.shadow": "true" if shadow else "false",
        "gen_ai.usage.input_tokens": str(rng.randrange(5, 3000)),
        "gen_ai.usage.output_tokens": str(rng.randrange(1, 900)),
        "tier_router.usage_source": "reported",
        "tier_router.cost_usd": usd(cost) if priced else "-",
        "tier_router.baseline_cost_usd": usd(baseline),
        "tier_router.ttft_ms": f"{rng.uniform(5, 900):.3f}" if ttft else "-",
        "tier_router.latency_ms": f"{rng.uniform(900, 20_000):.3f}",
        "tier_router.upstream_status": rng.choice(["200"] * 9 + ["503"]),
    }
    return json.dumps(line)


@pytest.fixture(scope="module")
def access_log(tmp_path_factory):
    """Six hours of served and shadow lines, with hostile model names, a model without TTFT,
    an unpriced line, a line without a start time and one that is not JSON."""
    rng = random.Random(15)
    lines = []
    for hour in range(6):
        for _ in range(rng.randrange(3, 9)):
            tier, model, ttft = rng.choice(SERVED)
            lines.append(log_line(rng, hour, tier, model, ttft=ttft))
        for tier, model in SHADOW:
            lines.append(log_line(rng, hour, tier, model, shadow=True))
    for tier, model, ttft in SERVED:  # every model at least once
        lines.append(log_line(rng, 2, tier, model, ttft=ttft))
    lines.append(log_line(rng, 0, "chat", "frontier-chat", start=False))
    lines.append(log_line(rng, 3, "label", "small-instruct", priced=False))
    lines.append("not json {")
    path = tmp_path_factory.mktemp("report-html") / "access.log"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def cli():
    subprocess.run(
        ["cargo", "build", "--release", "--bin", "tier-router"], cwd=harness.REPO_ROOT, check=True
    )
    return CLI


def run(cli, *args):
    result = subprocess.run([str(cli), *map(str, args)], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


@pytest.fixture(scope="module")
def page(cli, access_log):
    path = access_log.parent / "report.html"
    run(cli, "report", "--no-progress", "--by", "hour", "--html", path, access_log)
    return path


@pytest.fixture(scope="module")
def browser():
    with Chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def marks(browser, page):
    """Every element with a data-value, as the browser parsed it, with its drawn size."""
    visit = browser.load(page.as_uri())
    assert visit.fetched == [] and visit.messages == [], visit
    return browser.evaluate(
        """[...document.querySelectorAll('[data-value]')].map(e => {
            const box = e.getBoundingClientRect();
            return {chart: e.dataset.chart || null, key: e.dataset.key || null,
                    series: e.dataset.series || null, figure: e.dataset.figure || null,
                    value: e.dataset.value, tag: e.tagName, width: box.width,
                    title: e.querySelector('title')?.textContent || null};
        })"""
    )


def as_shown(name):
    """A log name as the page shows it: control characters become U+FFFD."""
    return "".join("\ufffd" if ord(c) < 32 and c not in "\t\n" else c for c in name)


def expected_marks(report):
    """(chart, key, series) -> value, from `report --json`."""
    expected = {}
    for kind in ("served", "shadow"):
        part = report[kind]
        for tier, stats in part["by_tier"].items():
            expected[(f"{kind}-task-mix", tier, "requests")] = stats["requests"]
            for field in ("cost_usd", "baseline_cost_usd"):
                expected[(f"{kind}-cost-by-tier", tier, field)] = stats[field]
        per_period = {}
        for row in report["series"][kind]["rows"]:
            if row["period"] is not None:
                sums = per_period.setdefault(row["period"], {"cost_usd": 0, "baseline_cost_usd": 0})
                for field in sums:
                    sums[field] += round(row[field] * 1e6)
        for period, sums in per_period.items():
            for field, micro in sums.items():
                expected[(f"{kind}-cost-over-time", period, field)] = micro / 1e6
    for model, stats in report["served"]["by_model"].items():
        for what in ("ttft", "latency"):
            for q in ("p50", "p95"):
                if stats[f"{what}_ms"][q] is not None:
                    expected[(f"served-{what}", as_shown(model), q)] = stats[f"{what}_ms"][q]
    return expected


def test_page_loads_offline_and_fetches_nothing(browser, page):
    visit = browser.load(page.as_uri())
    assert visit.requests == [page.as_uri()]
    assert visit.failed == [] and visit.messages == []
    assert browser.evaluate("document.querySelectorAll('svg.chart').length") == 8
    tags = browser.evaluate(
        "[...document.querySelectorAll('script,img,link,iframe,object,embed,image,use,foreignObject')].length"
    )
    assert tags == 0


def test_page_names_no_url_and_forbids_fetching(page):
    html = page.read_text()
    urls = UrlFinder()
    urls.feed(html)
    assert urls.found == []
    assert not re.search(r"url\(|@import|https?:|//[a-z]", html, re.IGNORECASE)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp and "default-src 'none'" in csp.group(1)


def test_a_page_that_fetches_is_caught(browser, page, tmp_path):
    """The checks above can fail: the same page with an image added is caught both with its
    CSP (blocked and logged) and without it (requested)."""
    html = page.read_text()
    fetching = html.replace("<main>", '<main><img src="http://127.0.0.1:9/pixel.png">', 1)
    without_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", fetching)
    for name, text in (("with-csp.html", fetching), ("without-csp.html", without_csp)):
        path = tmp_path / name
        path.write_text(text)
        visit = browser.load(path.as_uri())
        assert visit.fetched == ["http://127.0.0.1:9/pixel.png"], name
        assert visit.messages, name
    urls = UrlFinder()
    urls.feed(fetching)
    assert urls.found == [("img", "src", "http://127.0.0.1:9/pixel.png")]


def test_every_chart_mark_is_a_number_of_the_json_report(cli, access_log, marks):
    report = json.loads(run(cli, "report", "--json", "--by", "hour", access_log))
    drawn = {(m["chart"], m["key"], m["series"]): float(m["value"]) for m in marks if m["chart"]}
    assert len(drawn) == len([m for m in marks if m["chart"]]), "a mark is drawn twice"
    expected = expected_marks(report)
    assert drawn.keys() == expected.keys()
    for key, value in expected.items():
        if "cost" in key[0]:
            assert round(drawn[key] * 1e6) == round(value * 1e6), key
        else:
            assert drawn[key] == value, key
    # The model without TTFT samples has latency bars and no TTFT bars.
    assert ("served-latency", HOSTILE[2], "p50") in drawn
    assert ("served-ttft", HOSTILE[2], "p50") not in drawn


def test_headline_figures_are_the_json_totals(cli, access_log, marks):
    report = json.loads(run(cli, "report", "--json", access_log))
    figures = {m["figure"]: float(m["value"]) for m in marks if m["figure"]}
    for kind in ("served", "shadow"):
        total = report[kind]["total"]
        assert figures[f"{kind}-requests"] == total["requests"]
        for field in ("cost_usd", "baseline_cost_usd", "saved_usd"):
            assert round(figures[f"{kind}-{field}"] * 1e6) == round(total[field] * 1e6), field


def test_bars_are_drawn_to_scale(marks):
    """In each bar chart, drawn width over value is one constant (to a pixel)."""
    charts = {}
    for m in marks:
        if m["tag"] == "rect" and float(m["value"]) > 0:
            charts.setdefault(m["chart"], []).append((float(m["value"]), m["width"]))
    assert len(charts) == 6
    for chart, bars in charts.items():
        biggest = max(bars)
        assert biggest[1] > 50, chart
        for value, width in bars:
            assert abs(width - value * biggest[1] / biggest[0]) <= 1.0, (chart, value, width)


def test_tooltips_name_the_key_and_the_value(marks):
    bar = next(m for m in marks if m["chart"] == "served-task-mix" and m["key"] == "label")
    assert bar["title"].startswith(f"label: requests {bar['value']} (")


def test_names_from_the_log_stay_text(browser, page):
    browser.load(page.as_uri())
    cells = browser.evaluate("[...document.querySelectorAll('td.name')].map(td => td.textContent)")
    keys = browser.evaluate("[...document.querySelectorAll('[data-key]')].map(e => e.dataset.key)")
    for name in HOSTILE:
        assert as_shown(name) in cells
        assert as_shown(name) in keys
    assert browser.evaluate("document.querySelectorAll('b, script, img').length") == 0


def test_tables_are_the_text_report_tables(cli, access_log, browser, page):
    text = run(cli, "report", "--by", "hour", access_log)
    tier_table = text.split("Served requests by tier (latencies in ms)\n")[1].split("\n\n")[0]
    text_rows = [re.split(r"\s{2,}", line.strip()) for line in tier_table.splitlines()]
    browser.load(page.as_uri())
    html_rows = browser.evaluate(
        """[...document.querySelector('#served table').rows].map(
            r => [...r.cells].map(c => c.textContent))"""
    )
    assert html_rows == [text_rows[0], *text_rows[2:]]  # the text table has a rule line


def test_html_without_by_charts_hours_and_leaves_stdout_as_it_was(cli, access_log, tmp_path):
    path = tmp_path / "plain.html"
    assert run(cli, "report", "--html", path, access_log) == run(cli, "report", access_log)
    with_json = json.loads(run(cli, "report", "--json", "--html", path, access_log))
    assert "series" not in with_json
    assert 'id="served-cost-over-time"' in path.read_text()
    assert 'data-key="2026-11-28T05:00Z"' in path.read_text()


class UrlFinder(HTMLParser):
    """Every attribute that can make a browser fetch (src, href, srcset, action, ...)."""

    URL_ATTRIBUTES = {
        "src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data", "background"
    }

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES:
                self.found.append((tag, name, value))
