#!/usr/bin/env python3
"""Render envoy/envoy.yaml from envoy.template.yaml and tier-router.json.

The filter config is embedded verbatim, and cluster names, the cluster header and the
fallback cluster are read from it, so tier-router.json stays the one place those live.
Tests call render() with free ports; `--check` fails when the committed envoy.yaml is stale.
Standard library only: this runs before any virtualenv exists.
"""

import argparse
import ipaddress
import json
import re
import string
import sys
from pathlib import Path

ENVOY_DIR = Path(__file__).resolve().parent
TEMPLATE_PATH = ENVOY_DIR / "envoy.template.yaml"
CONFIG_PATH = ENVOY_DIR / "tier-router.json"
OUTPUT_PATH = ENVOY_DIR / "envoy.yaml"

# Relative to the repo root: Envoy resolves it against its working directory.
DEFAULT_WASM_PATH = "target/wasm32-wasip1/release/tier_router.wasm"
DEFAULT_LISTENER_PORT = 10000
DEFAULT_ADMIN_PORT = 9901
DEFAULT_UPSTREAM_BASE_PORT = 18001
DEFAULT_UPSTREAM_HOST = "127.0.0.1"
DEFAULT_BIND_ADDRESS = "127.0.0.1"
DEFAULT_ACCESS_LOG_PATH = "/dev/stdout"

CLUSTER_TEMPLATE = string.Template("""\
- name: ${name}
  type: ${discovery}
  connect_timeout: 2s
  load_assignment:
    cluster_name: ${name}
    endpoints:
    - lb_endpoints:
      - endpoint:
          address:
            socket_address: { address: ${host}, port_value: ${port} }
""")

# The request header naming a streamed request's tier (ROUTE_TIER_HEADER in
# crates/core/src/names.rs); a tier with failover.stream_idle_timeout_ms gets a route that
# matches it and carries that idle timeout.
ROUTE_TIER_HEADER = "x-tier-router-route"
TIER_ROUTE_TEMPLATE = string.Template("""\
- match:
    prefix: "/"
    headers:
    - name: ${cluster_header}
      present_match: true
    - name: ${route_tier_header}
      string_match: { exact: ${tier} }
  route:
    cluster_header: ${cluster_header}
    timeout: 120s
    idle_timeout: ${idle}
  request_headers_to_remove: [accept-encoding, ${route_tier_header}]
""")

# A placeholder alone on its line takes a multi-line value, indented like the placeholder.
BLOCK_PLACEHOLDER = re.compile(r"^([ \t]*)\$\{(\w+)\}[ \t]*$", re.MULTILINE)


def render(
    listener_port=DEFAULT_LISTENER_PORT,
    admin_port=DEFAULT_ADMIN_PORT,
    upstream_ports=None,
    upstream_base_port=DEFAULT_UPSTREAM_BASE_PORT,
    upstream_host=DEFAULT_UPSTREAM_HOST,
    wasm_path=DEFAULT_WASM_PATH,
    access_log_path=DEFAULT_ACCESS_LOG_PATH,
    bind_address=DEFAULT_BIND_ADDRESS,
    config_path=CONFIG_PATH,
):
    """Return the Envoy bootstrap YAML as text.

    `upstream_ports` (one per model, in model order) overrides `upstream_base_port`,
    for tests whose mock upstreams listen on ports the OS picked.
    """
    config_text = Path(config_path).read_text(encoding="utf-8")
    config = json.loads(config_text)
    models = config["models"]
    if upstream_ports is None:
        upstream_ports = [upstream_base_port + i for i in range(len(models))]
    if len(upstream_ports) != len(models):
        raise ValueError(f"{len(models)} models but {len(upstream_ports)} upstream ports")
    cluster_header = config.get("headers", {}).get("cluster", "x-tier-router-cluster")
    blocks = {
        "tier_router_config": config_text.rstrip("\n"),
        "tier_routes": render_tier_routes(config["tiers"], cluster_header),
        "clusters": "".join(
            render_cluster(model["cluster"], upstream_host, port)
            for model, port in zip(models, upstream_ports)
        ).rstrip("\n"),
    }
    scalars = {
        "bind_address": bind_address,
        "listener_port": int(listener_port),
        "admin_port": int(admin_port),
        "wasm_path": json.dumps(str(wasm_path)),
        "access_log_path": json.dumps(str(access_log_path)),
        "cluster_header": cluster_header,
        "route_tier_header": ROUTE_TIER_HEADER,
        "fallback_cluster": cluster_of(models, config["fallback_model"]),
    }
    template = TEMPLATE_PATH.read_text(encoding="utf-8")
    return string.Template(fill_blocks(template, blocks)).substitute(scalars)


def render_cluster(name, host, port):
    # STATIC needs an IP literal; a host name (e.g. a compose service) needs DNS.
    try:
        ipaddress.ip_address(host)
        discovery = "STATIC"
    except ValueError:
        discovery = "STRICT_DNS"
    return CLUSTER_TEMPLATE.substitute(name=name, discovery=discovery, host=host, port=int(port))


def render_tier_routes(tiers, cluster_header):
    routes = []
    for tier in tiers:
        idle_ms = (tier.get("failover") or {}).get("stream_idle_timeout_ms", 0)
        if idle_ms:
            routes.append(
                TIER_ROUTE_TEMPLATE.substitute(
                    cluster_header=cluster_header,
                    route_tier_header=ROUTE_TIER_HEADER,
                    tier=tier["name"],
                    idle=f"{idle_ms / 1000:g}s",
                )
            )
    # YAML comment when no tier sets one: the placeholder's line must hold something.
    return "".join(routes).rstrip("\n") or "# (no tier sets failover.stream_idle_timeout_ms)"


def cluster_of(models, model_name):
    for model in models:
        if model["name"] == model_name:
            return model["cluster"]
    raise ValueError(f"fallback_model {model_name!r} is not in models")


def fill_blocks(template, blocks):
    """Replace line-only placeholders named in `blocks`; leave the rest to string.Template."""

    def replace(match):
        indent, name = match.group(1), match.group(2)
        if name not in blocks:
            return match.group(0)
        # Escape `$` so the scalar pass does not read the embedded JSON as placeholders.
        value = blocks[name].replace("$", "$$")
        return "\n".join(indent + line if line else line for line in value.split("\n"))

    return BLOCK_PLACEHOLDER.sub(replace, template)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listener-port", type=int, default=DEFAULT_LISTENER_PORT)
    p.add_argument("--admin-port", type=int, default=DEFAULT_ADMIN_PORT)
    p.add_argument("--upstream-base-port", type=int, default=DEFAULT_UPSTREAM_BASE_PORT)
    p.add_argument("--upstream-host", default=DEFAULT_UPSTREAM_HOST)
    p.add_argument("--wasm-path", default=DEFAULT_WASM_PATH)
    p.add_argument("--access-log-path", default=DEFAULT_ACCESS_LOG_PATH)
    p.add_argument("--bind-address", default=DEFAULT_BIND_ADDRESS)
    p.add_argument("--config", type=Path, default=CONFIG_PATH, help="tier-router JSON config")
    p.add_argument("-o", "--output", default=str(OUTPUT_PATH), help="file to write, or -")
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if --output differs from what would be rendered (CI drift check)",
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    text = render(
        listener_port=args.listener_port,
        admin_port=args.admin_port,
        upstream_base_port=args.upstream_base_port,
        upstream_host=args.upstream_host,
        wasm_path=args.wasm_path,
        access_log_path=args.access_log_path,
        bind_address=args.bind_address,
        config_path=args.config,
    )
    if args.check:
        return check(Path(args.output), text)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def check(path, expected):
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == expected:
        return 0
    print(f"{path} is stale: run `python3 envoy/render.py` and commit the result", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
