"""The deployment files: docker compose, Istio, Envoy Gateway, the scale-out front tier.

Static checks: every YAML parses, every Envoy config passes `envoy --mode validate` with the
real module, every embedded plugin config passes `tier-router check` and equals its JSON
file, the compose file mounts files that exist. Run for real (loopback, no cluster): what
Istio makes of the EnvoyFilters and the WasmPlugin (tests/e2e/istio_sim.py), what Envoy
Gateway makes of the HTTPRoute and EnvoyExtensionPolicy, and the session-hashing front tier
over two gateway replicas.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

import harness
import istio_sim
from mock_upstream import MockUpstream
from prompts import ANALYSIS_PROMPT, CHAT_PATH, LABEL_PROMPT, chat

ROOT = harness.REPO_ROOT
sys.path.insert(0, str(ROOT / "deploy"))
import embed_config  # noqa: E402  (deploy/embed_config.py)

ISTIO = ROOT / "deploy" / "istio"
EG = ROOT / "deploy" / "envoy-gateway"
COMPOSE = ROOT / "docker-compose.yml"
# envoy.template.yaml is a template (placeholders), not YAML: its renderings are checked.
YAML_FILES = sorted(
    [COMPOSE, *ROOT.glob("envoy/*.yaml"), *ROOT.glob("deploy/**/*.yaml")], key=str
)
YAML_FILES = [p for p in YAML_FILES if not p.name.endswith(".template.yaml")]
MANIFESTS = [p for p in YAML_FILES if p.is_relative_to(ISTIO) or p.is_relative_to(EG)]


def rel(path):
    return str(Path(path).relative_to(ROOT))


def load_all(path):
    return [doc for doc in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")) if doc]


def doc_of_kind(path, kind):
    (doc,) = [d for d in load_all(path) if d["kind"] == kind]
    return doc


def run(cmd, **kwargs):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="session")
def cli():
    # Always asked: cargo returns at once when the binary is fresh, and rebuilds a stale one.
    result = run(["cargo", "build", "--release", "--bin", "tier-router"])
    assert result.returncode == 0, result.stderr[-3000:]
    return ROOT / "target" / "release" / "tier-router"


def validate(envoy_bin, config, tmp_path, name="envoy.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config, sort_keys=False) if isinstance(config, dict) else config)
    result = run([envoy_bin, "--mode", "validate", "-c", str(path), "-l", "warning"])
    assert result.returncode == 0, result.stdout + result.stderr


# --- every YAML file, every embedded config ----------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=rel)
def test_yaml_parses(path):
    docs = load_all(path)
    assert docs
    if path in MANIFESTS:
        for doc in docs:
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], doc


def embedded_configs(doc):
    """Every tier-router config a manifest carries: WasmPlugin pluginConfig, Envoy Gateway
    wasm config (objects), Wasm filter configuration in an EnvoyFilter (a JSON string)."""
    if doc["kind"] == "WasmPlugin":
        yield doc["spec"]["pluginConfig"]
    elif doc["kind"] == "EnvoyExtensionPolicy":
        yield from (wasm["config"] for wasm in doc["spec"].get("wasm", []))
    elif doc["kind"] == "EnvoyFilter":
        for patch in doc["spec"]["configPatches"]:
            wasm = patch["patch"]["value"].get("typed_config", {})
            if wasm.get("@type") == istio_sim.WASM_TYPE:
                yield wasm["config"]["configuration"]["value"]


EMBEDDING = [p for p in MANIFESTS if embed_config.embedded_files(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", EMBEDDING, ids=rel)
def test_embedded_configs_equal_their_files_and_pass_check(path, cli, tmp_path):
    configs = [c for doc in load_all(path) for c in embedded_configs(doc)]
    files = embed_config.embedded_files(path.read_text(encoding="utf-8"))
    assert len(configs) == len(files), "every embedded config needs a marker naming its file"
    for config, file in zip(configs, files):
        source = (ROOT / file).read_text(encoding="utf-8")
        if isinstance(config, str):
            assert config == source, f"{file} is embedded verbatim"
        else:
            assert config == json.loads(source)
        checked = tmp_path / "embedded.json"
        checked.write_text(config if isinstance(config, str) else json.dumps(config))
        result = run([str(cli), "check", str(checked)])
        assert result.returncode == 0, f"{file}: {result.stdout}{result.stderr}"


def test_manifests_embed_the_current_configs():
    result = run([sys.executable, "deploy/embed_config.py", "--check"])
    assert result.returncode == 0, result.stderr


def test_istio_configs_use_istio_cluster_names():
    for file in ("tier-router.istio.json", "tier-router.wasmplugin.json"):
        models = json.loads((ISTIO / file).read_text())["models"]
        for model in models:
            assert re.fullmatch(r"outbound\|\d+\|\|[a-z0-9.-]+", model["cluster"]), model


# --- every Envoy config shipped ----------------------------------------------------------


def shipped_envoy_configs():
    """YAML files in envoy/ and deploy/ that are Envoy bootstraps."""
    return [p for p in YAML_FILES if p != COMPOSE and "static_resources" in load_all(p)[0]]


@pytest.mark.parametrize("path", shipped_envoy_configs(), ids=rel)
def test_shipped_envoy_config_validates(path, envoy_bin, wasm_path, tmp_path):
    # The module path inside a container (compose) becomes the module built here.
    text = re.sub(r'filename: "[^"]*\.wasm"', f'filename: "{wasm_path}"', path.read_text())
    validate(envoy_bin, text, tmp_path)


# --- docker compose ----------------------------------------------------------------------


def test_compose_config_is_rendered_from_the_template():
    result = run([sys.executable, "deploy/render_compose.py", "--check"])
    assert result.returncode == 0, result.stderr


def test_compose_file_mounts_what_exists_and_matches_its_envoy_config(wasm_path):
    import render_compose  # deploy/render_compose.py

    services = yaml.safe_load(COMPOSE.read_text())["services"]
    envoy, mocks = services["envoy"], services["mock-upstreams"]
    assert re.fullmatch(r"envoyproxy/envoy:v1\.40\.\d+", envoy["image"])
    assert mocks["image"] == "python:3.11-slim"
    mounts = {}
    for service in services.values():
        for volume in service.get("volumes", []):
            source = ROOT / volume["source"]
            assert source.exists(), f"{volume['source']} is mounted but does not exist"
            mounts[volume["target"]] = source
    # The config Envoy is told to load, and what that config loads, are mounted.
    config_in_container = envoy["command"][envoy["command"].index("-c") + 1]
    assert host_path(mounts, config_in_container) == render_compose.OUTPUT_PATH
    assert host_path(mounts, render_compose.WASM_PATH).resolve() == wasm_path.resolve()
    assert render_compose.UPSTREAM_HOST in services
    script = mocks["command"][1]
    assert host_path(mounts, script) == ROOT / "scripts" / "mock_upstream.py"
    assert set(envoy["ports"]) == {"127.0.0.1:10000:10000", "127.0.0.1:9901:9901"}


def host_path(mounts, container_path):
    for target, source in mounts.items():
        if container_path == target:
            return source
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1 :]
    raise AssertionError(f"{container_path} is not mounted")


def compose_cli():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and run(["docker", "compose", "version"]).returncode == 0:
        return ["docker", "compose"]
    return None


@pytest.mark.skipif(compose_cli() is None, reason="no docker compose CLI installed")
def test_compose_cli_accepts_the_file():
    # `config` parses and checks against the Compose schema; it needs no Docker engine.
    result = run([*compose_cli(), "-f", str(COMPOSE), "config", "-q"])
    assert result.returncode == 0, result.stdout + result.stderr


# --- Istio: the EnvoyFilter patches applied to a sample bootstrap ------------------------

CONTEXTS = {
    "SIDECAR_OUTBOUND": ISTIO / "envoyfilter-sidecar.yaml",
    "GATEWAY": ISTIO / "envoyfilter-egress-gateway.yaml",
}


def istio_clusters(config_file):
    """Every cluster the sample needs: the models' and Istio's default routes'."""
    models = json.loads(config_file.read_text())["models"]
    names = {m["cluster"] for m in models} | set(istio_sim.DEFAULT_CLUSTERS.values())
    return sorted(names)


def patched_bootstrap(context, wasm, ports, access_log, pulled=True):
    """(bootstrap, listener port, admin port) for `context`: the EnvoyFilter applied, and
    ECDS resolved to the module (`pulled`) or to the stand-in used until it is."""
    listener_port, admin_port = harness.free_port(), harness.free_port()
    bootstrap = istio_sim.sample_bootstrap(context, listener_port, admin_port, ports, access_log)
    # sidecar.istio.io/bootstrapOverride merges metrics.yaml's bootstrap into Istio's.
    istio_sim.merge(bootstrap, istio_custom_bootstrap())
    envoy_filter = doc_of_kind(CONTEXTS[context], "EnvoyFilter")
    extensions = istio_sim.apply_envoy_filter(bootstrap, envoy_filter, context)
    bootstrap = istio_sim.resolve_ecds(bootstrap, extensions, wasm, pulled)
    return bootstrap, listener_port, admin_port


def istio_custom_bootstrap():
    config_map = doc_of_kind(ISTIO / "metrics.yaml", "ConfigMap")
    return json.loads(config_map["data"]["custom_bootstrap.json"])


def test_istio_stats_tags_are_envoy_yamls():
    envoy_yaml = yaml.safe_load((ROOT / "envoy" / "envoy.yaml").read_text())
    wanted = envoy_yaml["stats_config"]["stats_tags"]
    got = istio_custom_bootstrap()["stats_config"]["stats_tags"]
    assert got == wanted, "copy stats_config.stats_tags of envoy/envoy.yaml into metrics.yaml"


def hcm_of(bootstrap):
    return bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]


@pytest.mark.parametrize("context", CONTEXTS)
def test_envoyfilter_patch_produces_a_valid_envoy_config(context, envoy_bin, wasm_path, tmp_path):
    ports = {name: 1 for name in istio_clusters(ISTIO / "tier-router.istio.json")}
    bootstrap, _, _ = patched_bootstrap(context, wasm_path, ports, tmp_path / "access.log")
    hcm = hcm_of(bootstrap)["typed_config"]
    names = [f["name"] for f in hcm["http_filters"]]
    assert names[-2:] == ["tier-router", istio_sim.ROUTER_NAME]
    wasm = hcm["http_filters"][-2]["typed_config"]["config"]
    assert wasm["allow_on_headers_stop_iteration"] is True
    assert wasm["failure_policy"] == "FAIL_RELOAD"
    early = hcm["early_header_mutation_extensions"][0]["typed_config"]["mutations"]
    assert early == [{"remove": "x-tier-router-cluster"}]
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    assert routes[0]["route"]["cluster_header"] == "x-tier-router-cluster"
    assert bootstrap["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"]
    validate(envoy_bin, bootstrap, tmp_path)


def test_wasmplugin_and_its_routes_produce_a_valid_envoy_config(envoy_bin, wasm_path, tmp_path):
    ports = {name: 1 for name in istio_clusters(ISTIO / "tier-router.wasmplugin.json")}
    bootstrap, _, _ = wasmplugin_bootstrap(wasm_path, ports, tmp_path / "access.log")
    validate(envoy_bin, bootstrap, tmp_path)


def wasmplugin_bootstrap(wasm, ports, access_log):
    path = ISTIO / "wasmplugin-sidecar.yaml"
    listener_port, admin_port = harness.free_port(), harness.free_port()
    context = "SIDECAR_OUTBOUND"
    bootstrap = istio_sim.sample_bootstrap(context, listener_port, admin_port, ports, access_log)
    plugin = doc_of_kind(path, "WasmPlugin")
    istio_sim.insert_before_router(bootstrap, istio_sim.wasmplugin_filter(plugin, wasm))
    istio_sim.apply_envoy_filter(bootstrap, doc_of_kind(path, "EnvoyFilter"), context)
    return bootstrap, listener_port, admin_port


# --- run for real: Envoy with the patched configs, mock upstreams per cluster ------------


class Running:
    """One Envoy on `bootstrap` in front of one mock per cluster; stops both."""

    def __init__(self, envoy_bin, bootstrap, admin_port, workdir, mocks):
        self.mocks = mocks
        path = workdir / f"envoy-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump(bootstrap, sort_keys=False))
        self.envoy = DynamicBaseIdEnvoy(envoy_bin, path, admin_port, workdir / "envoy.log")

    def __enter__(self):
        self.envoy.start()
        return self

    def __exit__(self, *exc):
        self.envoy.stop()

    def receiver(self, request_id):
        hits = [(n, m.find(request_id)) for n, m in self.mocks.items() if m.find(request_id)]
        assert len(hits) == 1, f"{request_id} reached {len(hits)} upstreams"
        return hits[0]


class DynamicBaseIdEnvoy(harness.Envoy):
    """Several Envoys at once, beside the suite's own: each picks a free base id."""

    def start(self):
        cmd = [self.binary, "-c", str(self.config_path), "--use-dynamic-base-id",
               "--concurrency", "1", "--file-flush-interval-msec", "100", "-l", "warning"]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.wait_ready()
        return self


@pytest.fixture
def mocks_for():
    started = []

    def start(cluster_names):
        mocks = {name: MockUpstream(name).start() for name in cluster_names}
        started.extend(mocks.values())
        return mocks

    yield start
    for mock in started:
        mock.stop()


def call(port, host, path, body, headers=None):
    request_id = str(uuid.uuid4())
    headers = dict(headers or {}, host=host, **{"x-request-id": request_id})
    return request_id, harness.send(port, "POST", path, body, headers)


@pytest.mark.parametrize("context", CONTEXTS)
def test_envoyfilter_config_routes_by_body_in_a_real_envoy(
    context, envoy_bin, wasm_path, tmp_path, mocks_for
):
    mocks = mocks_for(istio_clusters(ISTIO / "tier-router.istio.json"))
    ports = {name: mock.port for name, mock in mocks.items()}
    bootstrap, port, admin = patched_bootstrap(context, wasm_path, ports, tmp_path / "a.log")
    with Running(envoy_bin, bootstrap, admin, tmp_path, mocks) as running:
        # The LLM host: classified from the body, sent to the model's Istio cluster, with
        # the body's model rewritten.
        for prompt, cluster, model in [
            (LABEL_PROMPT, "outbound|8000||vllm-small.llm-models.svc.cluster.local", "small-instruct"),
            (ANALYSIS_PROMPT, "outbound|80||api.openai.com", "o4-mini"),
        ]:  # fmt: skip
            request_id, response = call(port, istio_sim.LLM_HOST, CHAT_PATH, chat(prompt))
            assert response.status == 200, response.body
            assert response.headers["x-tier-router-model"] == model
            reached, received = running.receiver(request_id)
            assert reached == cluster
            assert json.loads(received.body)["model"] == model
        # The metrics carry their labels (metrics.yaml's stats_tags).
        assert 'tier="label"' in running.envoy.admin_get("/stats/prometheus")
        # Another host: the filter is disabled there, the body passes untouched.
        body = json.dumps(chat(LABEL_PROMPT)).encode()
        request_id, response = call(
            port, istio_sim.OTHER_HOST, CHAT_PATH, body, {"content-type": "application/json"}
        )
        assert response.status == 200
        assert "x-tier-router-model" not in response.headers
        reached, received = running.receiver(request_id)
        assert reached == istio_sim.DEFAULT_CLUSTERS[istio_sim.OTHER_HOST]
        assert received.body == body


@pytest.mark.parametrize("context", CONTEXTS)
def test_envoyfilter_config_fails_open_until_the_module_is_pulled(
    context, envoy_bin, wasm_path, tmp_path, mocks_for
):
    mocks = mocks_for(istio_clusters(ISTIO / "tier-router.istio.json"))
    ports = {name: mock.port for name, mock in mocks.items()}
    bootstrap, port, admin = patched_bootstrap(
        context, wasm_path, ports, tmp_path / "a.log", pulled=False
    )
    validate(envoy_bin, bootstrap, tmp_path)
    with Running(envoy_bin, bootstrap, admin, tmp_path, mocks) as running:
        body = json.dumps(chat(LABEL_PROMPT)).encode()
        headers = {"content-type": "application/json"}
        request_id, response = call(port, istio_sim.LLM_HOST, CHAT_PATH, body, headers)
        assert response.status == 200, response.body
        # Istio's own route for the host, the body as sent.
        reached, received = running.receiver(request_id)
        assert reached == istio_sim.DEFAULT_CLUSTERS[istio_sim.LLM_HOST]
        assert received.body == body
        # Without the filter a client still picks no cluster: the early header mutation
        # removed its header before the route was chosen.
        small = "outbound|8000||vllm-small.llm-models.svc.cluster.local"
        spoofed = dict(headers, **{"x-tier-router-cluster": small})
        request_id, response = call(port, istio_sim.LLM_HOST, CHAT_PATH, body, spoofed)
        assert response.status == 200, response.body
        reached, received = running.receiver(request_id)
        assert reached == istio_sim.DEFAULT_CLUSTERS[istio_sim.LLM_HOST]
        assert "x-tier-router-cluster" not in received.headers


def test_wasmplugin_config_routes_by_task_without_holding_the_body(
    envoy_bin, wasm_path, tmp_path, mocks_for
):
    mocks = mocks_for(istio_clusters(ISTIO / "tier-router.wasmplugin.json"))
    ports = {name: mock.port for name, mock in mocks.items()}
    bootstrap, port, admin = wasmplugin_bootstrap(wasm_path, ports, tmp_path / "a.log")
    with Running(envoy_bin, bootstrap, admin, tmp_path, mocks) as running:
        cases = [
            (CHAT_PATH, {"x-task": "analyze"}, "outbound|80||api.openai.com"),
            (CHAT_PATH + "?task=classify", {}, "outbound|8000||vllm-small.llm-models.svc.cluster.local"),
            ("/api/classify/v1/chat/completions", {}, "outbound|8000||vllm-small.llm-models.svc.cluster.local"),
            (CHAT_PATH, {}, "outbound|8000||vllm-general.llm-models.svc.cluster.local"),
        ]  # fmt: skip
        for path, headers, cluster in cases:
            body = json.dumps(chat(LABEL_PROMPT)).encode()
            headers = dict(headers, **{"content-type": "application/json"})
            started = time.monotonic()
            request_id, response = call(port, istio_sim.LLM_HOST, path, body, headers)
            # Without allow_on_headers_stop_iteration a held request would never finish.
            assert time.monotonic() - started < 10
            assert response.status == 200, response.body
            reached, received = running.receiver(request_id)
            assert reached == cluster, path
            assert received.body == body  # not read, so not rewritten
        # A chunked body (no content-length) is not held either: read_body is off.
        body = json.dumps(chat(LABEL_PROMPT)).encode()
        headers = {"content-type": "application/json", "x-task": "classify", "host": istio_sim.LLM_HOST}
        started = time.monotonic()
        response = harness.send(port, "POST", CHAT_PATH, body, headers, chunked=True)
        assert time.monotonic() - started < 10
        assert response.status == 200, response.body


def test_envoy_gateway_config_routes_by_task_through_httproute_header_matches(
    envoy_bin, wasm_path, tmp_path, mocks_for
):
    manifest = EG / "tier-router.yaml"
    route = doc_of_kind(manifest, "HTTPRoute")
    policy = doc_of_kind(manifest, "EnvoyExtensionPolicy")
    routes, backends = httproute_routes(route)
    mocks = mocks_for(sorted(set(backends.values())))
    ports = {name: mock.port for name, mock in mocks.items()}
    ports |= {name: 1 for name in istio_sim.DEFAULT_CLUSTERS.values()}
    listener_port, admin = harness.free_port(), harness.free_port()
    bootstrap = istio_sim.sample_bootstrap("GATEWAY", listener_port, admin, ports, tmp_path / "a")
    # Envoy Gateway's translation, in short: the HTTPRoute's rules become the routes (one
    # cluster per rule), the policy's wasm a filter before the router.
    for index, backend in backends.items():
        ports[f"httproute/llm/llm/rule/{index}"] = mocks[backend].port
    bootstrap["static_resources"]["clusters"] = [istio_sim.cluster(n, p) for n, p in ports.items()]
    hcm = hcm_of(bootstrap)["typed_config"]
    hcm["route_config"]["virtual_hosts"][0].update(domains=["*"], routes=routes)
    wasm = policy["spec"]["wasm"][0]
    failure_policy = "FAIL_OPEN" if wasm["failOpen"] else "FAIL_CLOSED"
    istio_sim.insert_before_router(
        bootstrap,
        istio_sim.wasm_filter(wasm["name"], wasm["rootID"], wasm["config"], failure_policy, wasm_path),
    )  # fmt: skip
    # ClientTrafficPolicy earlyRequestHeaders.remove: an early header mutation on the HCM.
    removed = doc_of_kind(manifest, "ClientTrafficPolicy")["spec"]["headers"]["earlyRequestHeaders"]["remove"]
    hcm["early_header_mutation_extensions"] = [early_removal(removed)]
    validate(envoy_bin, bootstrap, tmp_path, "eg.yaml")
    with Running(envoy_bin, bootstrap, admin, tmp_path, mocks) as running:
        for headers, backend in [
            ({"x-task": "analyze"}, "openai"),
            ({"x-task": "classify"}, "vllm-small"),
            ({}, "vllm-general"),
            ({"x-tier-router-cluster": "openai"}, "vllm-general"),  # a client cannot pick
        ]:
            body = json.dumps(chat(LABEL_PROMPT)).encode()
            headers = dict(headers, **{"content-type": "application/json"})
            request_id, response = call(listener_port, "llm.example.com", CHAT_PATH, body, headers)
            assert response.status == 200, response.body
            assert running.receiver(request_id)[0] == backend, headers


def early_removal(headers):
    return {
        "name": "envoy.http.early_header_mutation.header_mutation",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
            "mutations": [{"remove": name} for name in headers],
        },
    }


def httproute_routes(route):
    """Envoy routes for an HTTPRoute's rules (PathPrefix + exact header matches), in Gateway
    API precedence (more header matches first), and each rule's backend Service/Backend."""
    rules = sorted(
        enumerate(route["spec"]["rules"]),
        key=lambda item: -max(len(m.get("headers", [])) for m in item[1]["matches"]),
    )
    routes, backends = [], {}
    for index, rule in rules:
        (match,) = rule["matches"]
        headers = [
            {"name": h["name"], "string_match": {"exact": h["value"]}}
            for h in match.get("headers", [])
        ]
        cluster = f"httproute/llm/llm/rule/{index}"
        routes.append(
            {
                "match": {"prefix": match["path"]["value"], "headers": headers},
                "route": {"cluster": cluster, "timeout": "300s"},
            }
        )
        backends[index] = rule["backendRefs"][0]["name"]
    # Clusters are numbered by rule index, routes ordered by precedence.
    return routes, dict(sorted(backends.items()))


# --- scale-out: the front tier keeps each session on one gateway replica -----------------


@pytest.mark.parametrize("lb_policy", ["RING_HASH", "MAGLEV"])
def test_front_tier_pins_each_session_to_one_replica(lb_policy, envoy_bin, wasm_path, tmp_path):
    models = [m["name"] for m in harness.FILTER_CONFIG["models"]]
    mocks = {name: MockUpstream(name).start() for name in models}
    replicas = []
    try:
        for index in range(2):
            port, admin = harness.free_port(), harness.free_port()
            log = harness.AccessLog(tmp_path / f"replica{index}.log")
            config = harness.render.render(
                listener_port=port,
                admin_port=admin,
                upstream_ports=[mocks[name].port for name in models],
                wasm_path=wasm_path,
                access_log_path=log.path,
            )
            path = tmp_path / f"replica{index}.yaml"
            path.write_text(config)
            envoy = DynamicBaseIdEnvoy(envoy_bin, path, admin, tmp_path / f"replica{index}.out")
            replicas.append((envoy.start(), port, log))
        front = yaml.safe_load((ROOT / "deploy/scale-out/front-envoy.yaml").read_text())
        front_port, front_admin = harness.free_port(), harness.free_port()
        front["admin"]["address"] = istio_sim.socket_address(front_admin)
        front["static_resources"]["listeners"][0]["address"] = istio_sim.socket_address(front_port)
        (cluster,) = front["static_resources"]["clusters"]
        # The headless Service's DNS answer, as two loopback replicas.
        cluster["type"] = "STATIC"
        cluster["lb_policy"] = lb_policy
        if lb_policy == "MAGLEV":
            del cluster["ring_hash_lb_config"]
        endpoints = [{"endpoint": {"address": istio_sim.socket_address(p)}} for _, p, _ in replicas]
        cluster["load_assignment"]["endpoints"] = [{"lb_endpoints": endpoints}]
        path = tmp_path / "front.yaml"
        path.write_text(yaml.safe_dump(front, sort_keys=False))
        envoy = DynamicBaseIdEnvoy(envoy_bin, path, front_admin, tmp_path / "front.out")
        replicas.append((envoy.start(), None, None))

        logs = [log for _, _, log in replicas[:2]]
        replica_of_session = {}
        for session in range(12):
            seen = set()
            for turn in range(3):
                request_id = str(uuid.uuid4())
                headers = {"x-session-id": f"session-{session}", "x-request-id": request_id}
                # Later turns ask for another tier: the replica's pin must hold them.
                body = chat(LABEL_PROMPT if turn == 0 else ANALYSIS_PROMPT)
                response = harness.send(front_port, "POST", CHAT_PATH, body, headers)
                assert response.status == 200, response.body
                replica, entry = logged_by(logs, request_id)
                seen.add(replica)
                assert entry[harness.SOURCE] == ("classifier" if turn == 0 else "session")
            assert len(seen) == 1, f"session-{session} reached replicas {seen}"
            replica_of_session[session] = seen.pop()
        assert set(replica_of_session.values()) == {0, 1}, "both replicas get sessions"
    finally:
        for envoy, _, _ in replicas:
            envoy.stop()
        for mock in mocks.values():
            mock.stop()


def logged_by(logs, request_id, timeout_s=5):
    """(index, entry) of the one access log that has `request_id`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [
            (i, e) for i, log in enumerate(logs) for e in log.entries()
            if e.get("request_id") == request_id
        ]  # fmt: skip
        if found:
            assert len(found) == 1, f"{request_id} logged {len(found)} times"
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no replica logged {request_id}")
