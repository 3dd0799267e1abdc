"""What Istio would hand Envoy for the manifests in deploy/istio/, built without a cluster.

`sample_bootstrap()` is a minimal sidecar (SIDECAR_OUTBOUND) or gateway (GATEWAY) config
shaped like the one istiod generates: listener `0.0.0.0_80` / `0.0.0.0_8080`, route config
`80` / `http.8080`, virtual hosts named `host:port`, clusters named `outbound|PORT||HOST`,
Istio's own route last. `apply_envoy_filter()` applies an EnvoyFilter's configPatches with
istiod's semantics for the operations the manifests use (EXTENSION_CONFIG ADD, LISTENER,
NETWORK_FILTER and VIRTUAL_HOST MERGE, HTTP_FILTER INSERT_BEFORE, HTTP_ROUTE INSERT_FIRST); anything else, or
a patch that matches nothing, raises (istiod would skip it silently, the usual EnvoyFilter
bug). `resolve_ecds()` does what ECDS and istio-agent do: the filter reaches Envoy with the
module as a local file. `wasmplugin_filter()` is the filter istiod makes from a WasmPlugin.
"""

import copy
import json

WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
HCM_NAME = "envoy.filters.network.http_connection_manager"
ROUTER_NAME = "envoy.filters.http.router"

# context -> (Istio's listener port, listener name, route config name)
SHAPES = {
    "SIDECAR_OUTBOUND": (80, "0.0.0.0_80", "80"),
    "GATEWAY": (8080, "0.0.0.0_8080", "http.8080"),
}
# Virtual hosts of the sample, with Istio's default route: the LLM host, and another host
# whose traffic the filter must leave alone.
LLM_HOST = "api.openai.com"
OTHER_HOST = "other.apps.svc.cluster.local"
DEFAULT_CLUSTERS = {LLM_HOST: f"outbound|80||{LLM_HOST}", OTHER_HOST: f"outbound|80||{OTHER_HOST}"}


def sample_bootstrap(context, listener_port, admin_port, cluster_ports, access_log_path):
    """`cluster_ports`: Istio cluster name -> a loopback port serving it."""
    istio_port, listener_name, route_name = SHAPES[context]
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network."
        "http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": f"outbound_{listener_name}",
        "preserve_external_request_id": True,
        "access_log": [access_log(access_log_path)],
        "route_config": {
            "name": route_name,
            "virtual_hosts": [virtual_host(host) for host in (LLM_HOST, OTHER_HOST)],
        },
        # Stand-ins for the filters Istio puts before the router.
        "http_filters": [
            typed("envoy.filters.http.fault", "extensions.filters.http.fault.v3.HTTPFault"),
            typed("envoy.filters.http.cors", "extensions.filters.http.cors.v3.Cors"),
            typed(ROUTER_NAME, "extensions.filters.http.router.v3.Router"),
        ],
    }
    listener = {
        "name": listener_name,
        # Which Istio port this listener stands for (EnvoyFilter's listener.portNumber).
        "metadata": {"filter_metadata": {"istio_sim": {"port": istio_port}}},
        "address": socket_address(listener_port),
        "filter_chains": [{"filters": [{"name": HCM_NAME, "typed_config": hcm}]}],
    }
    return {
        "admin": {"address": socket_address(admin_port)},
        "static_resources": {
            "listeners": [listener],
            "clusters": [cluster(name, port) for name, port in cluster_ports.items()],
        },
    }


def virtual_host(host):
    return {
        "name": f"{host}:80",
        "domains": [host, f"{host}:80"],
        "routes": [
            {
                "name": "default",
                "match": {"prefix": "/"},
                "route": {"cluster": DEFAULT_CLUSTERS[host], "timeout": "0s"},
            }
        ],
    }


def access_log(path):
    fields = {
        "request_id": "%REQ(X-REQUEST-ID)%",
        "upstream_cluster": "%UPSTREAM_CLUSTER%",
        "tier": "%FILTER_STATE(wasm.tier_router.tier:PLAIN)%",
        "model": "%FILTER_STATE(wasm.gen_ai.request.model:PLAIN)%",
    }
    return {
        "name": "envoy.access_loggers.file",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": str(path),
            "log_format": {"json_format": fields},
        },
    }


def typed(name, type_suffix):
    return {"name": name, "typed_config": {"@type": f"type.googleapis.com/envoy.{type_suffix}"}}


def socket_address(port):
    return {"socket_address": {"address": "127.0.0.1", "port_value": port}}


def cluster(name, port):
    endpoint = {"endpoint": {"address": socket_address(port)}}
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "2s",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [endpoint]}]},
    }


# --- EnvoyFilter -------------------------------------------------------------------------


def apply_envoy_filter(bootstrap, envoy_filter, context):
    """Applies the patches for `context` in place; returns the EXTENSION_CONFIGs, by name."""
    extensions = {}
    for patch in envoy_filter["spec"]["configPatches"]:
        match = patch.get("match", {})
        if match.get("context", "ANY") not in ("ANY", context):
            continue
        apply_to, operation = patch["applyTo"], patch["patch"]["operation"]
        value = patch["patch"]["value"]
        if (apply_to, operation) == ("EXTENSION_CONFIG", "ADD"):
            extensions[value["name"]] = copy.deepcopy(value["typed_config"])
            continue
        targets = {
            ("LISTENER", "MERGE"): matching_listeners,
            ("NETWORK_FILTER", "MERGE"): matching_network_filters,
            ("HTTP_FILTER", "INSERT_BEFORE"): matching_http_filter_lists,
            ("VIRTUAL_HOST", "MERGE"): matching_virtual_hosts,
            ("HTTP_ROUTE", "INSERT_FIRST"): matching_virtual_hosts,
        }.get((apply_to, operation))
        if targets is None:
            raise NotImplementedError(f"{apply_to} {operation} is not simulated")
        found = list(targets(bootstrap, match))
        if not found:
            raise AssertionError(f"{apply_to} {operation} patch matches nothing: {match}")
        for target in found:
            if operation == "MERGE":
                merge(target, copy.deepcopy(value))
            elif apply_to == "HTTP_FILTER":
                filters, before = target
                filters.insert(before, copy.deepcopy(value))
            else:
                target["routes"].insert(0, copy.deepcopy(value))
    return extensions


def merge(dst, src):
    """istiod's MERGE is a protobuf merge: messages and maps merge field by field, repeated
    fields are appended to, scalars are replaced."""
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            merge(dst[key], value)
        elif isinstance(value, list) and isinstance(dst.get(key), list):
            dst[key].extend(value)
        else:
            dst[key] = value


def matching_listeners(bootstrap, match):
    spec = dict(match.get("listener", {}))
    port = spec.pop("portNumber", None)
    chain = spec.pop("filterChain", None)
    if spec:
        raise NotImplementedError(f"listener match on {sorted(spec)} is not simulated")
    for listener in bootstrap["static_resources"]["listeners"]:
        istio_port = listener["metadata"]["filter_metadata"]["istio_sim"]["port"]
        if port is not None and port != istio_port:
            continue
        if chain is not None and not list(chain_matches(listener, chain)):
            continue
        yield listener


def chain_matches(listener, chain):
    """(network filter, subFilter name or None) pairs a filterChain match selects."""
    spec = dict(chain)
    filter_spec = dict(spec.pop("filter", {}))
    if spec:
        raise NotImplementedError(f"filterChain match on {sorted(spec)} is not simulated")
    name = filter_spec.pop("name", None)
    sub = filter_spec.pop("subFilter", {}).get("name")
    if filter_spec:
        raise NotImplementedError(f"filter match on {sorted(filter_spec)} is not simulated")
    for filter_chain in listener["filter_chains"]:
        for network_filter in filter_chain["filters"]:
            if name is None or network_filter["name"] == name:
                yield network_filter, sub


def matching_network_filters(bootstrap, match):
    chain = match.get("listener", {}).get("filterChain", {})
    for listener in matching_listeners(bootstrap, match):
        for network_filter, sub in chain_matches(listener, chain):
            if sub is not None:
                raise NotImplementedError("NETWORK_FILTER MERGE with a subFilter")
            yield network_filter


def matching_http_filter_lists(bootstrap, match):
    """(http_filters list, index of the subFilter) for INSERT_BEFORE."""
    listener_match = match.get("listener", {})
    chain = listener_match.get("filterChain", {})
    for listener in matching_listeners(bootstrap, match):
        for network_filter, sub in chain_matches(listener, chain):
            if network_filter["name"] != HCM_NAME:
                continue
            filters = network_filter["typed_config"]["http_filters"]
            names = [f["name"] for f in filters]
            if sub is None:
                raise NotImplementedError("INSERT_BEFORE without a subFilter")
            if sub in names:
                yield filters, names.index(sub)


def matching_virtual_hosts(bootstrap, match):
    spec = dict(match.get("routeConfiguration", {}))
    vhost = dict(spec.pop("vhost", {}))
    name = vhost.pop("name", None)
    if spec or vhost:
        raise NotImplementedError(f"routeConfiguration match on {spec or vhost} not simulated")
    for listener in bootstrap["static_resources"]["listeners"]:
        for network_filter, _ in chain_matches(listener, {}):
            route_config = network_filter["typed_config"].get("route_config", {})
            for virtual_host in route_config.get("virtual_hosts", []):
                if name is None or virtual_host["name"] == name:
                    yield virtual_host


def resolve_ecds(bootstrap, extensions, wasm_path, pulled=True):
    """Replaces each config_discovery filter by the EXTENSION_CONFIG of its name, with the
    remote module swapped for a local file, as istio-agent does before Envoy sees it; or,
    when the module was not `pulled`, by the filter's default_config."""
    for listener in bootstrap["static_resources"]["listeners"]:
        for network_filter, _ in chain_matches(listener, {}):
            for http_filter in network_filter["typed_config"].get("http_filters", []):
                discovery = http_filter.pop("config_discovery", None)
                if discovery is None:
                    continue
                name = http_filter["name"]
                if not pulled:
                    assert discovery["apply_default_config_without_warming"]
                    http_filter["typed_config"] = copy.deepcopy(discovery["default_config"])
                    continue
                if name not in extensions:
                    raise AssertionError(f"no EXTENSION_CONFIG named {name!r}")
                type_url = extensions[name]["@type"]
                assert type_url in discovery["type_urls"], f"{type_url} is not accepted"
                typed_config = copy.deepcopy(extensions[name])
                vm_config = typed_config["config"]["vm_config"]
                assert "remote" in vm_config["code"], "the manifests load the module remotely"
                vm_config["code"] = {"local": {"filename": str(wasm_path)}}
                http_filter["typed_config"] = typed_config
    return bootstrap


# --- WasmPlugin and Envoy Gateway --------------------------------------------------------


def wasmplugin_filter(wasmplugin, wasm_path):
    """The HTTP filter istiod builds from a WasmPlugin (delivered by ECDS, resolved here):
    pluginConfig as a JSON string, no allow_on_headers_stop_iteration (not in the API)."""
    spec = wasmplugin["spec"]
    name = f'{wasmplugin["metadata"]["namespace"]}.{wasmplugin["metadata"]["name"]}'
    policy = FAIL_STRATEGIES[spec.get("failStrategy", "FAIL_CLOSE")]
    return wasm_filter(name, spec.get("pluginName", ""), spec["pluginConfig"], policy, wasm_path)


# WasmPlugin failStrategy -> the Wasm filter's failure_policy, as istiod maps it.
FAIL_STRATEGIES = {"FAIL_CLOSE": "FAIL_CLOSED", "FAIL_OPEN": "FAIL_OPEN", "FAIL_RELOAD": "FAIL_RELOAD"}


def wasm_filter(name, root_id, config, failure_policy, wasm_path):
    return {
        "name": name,
        "typed_config": {
            "@type": WASM_TYPE,
            "config": {
                "name": name,
                "root_id": root_id,
                "vm_config": {
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": str(wasm_path)}},
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": json.dumps(config),
                },
                "failure_policy": failure_policy,
            },
        },
    }


def insert_before_router(bootstrap, http_filter):
    for listener in bootstrap["static_resources"]["listeners"]:
        for network_filter, _ in chain_matches(listener, {}):
            filters = network_filter["typed_config"]["http_filters"]
            filters.insert([f["name"] for f in filters].index(ROUTER_NAME), http_filter)
    return bootstrap
