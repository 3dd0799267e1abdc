"""Envoy bootstraps for the benchmark, built as dicts and written as JSON (Envoy reads JSON).

* `upstream`: the fast mock upstream, an Envoy whose routes answer every request itself
  (`direct_response`): a chat completion as JSON, or, when the request carries
  `x-bench-stream`, a streamed chat completion as SSE with a usage chunk. It echoes the
  headers the filters set, so the harness can check that each filter ran.
* `proxy`: the Envoy under test. Every configuration has the same listener, routes (the
  `cluster_header` route and the catch-all of envoy/envoy.template.yaml) and clusters (one
  per model of envoy/tier-router.json, all pointing at the upstream); only the HTTP filter
  list differs: none, the no-op wasm floor, the no-op native dynamic module, or tier-router. Each writes a JSON access log
  (to /dev/null: formatted and written, never stored) as envoy/envoy.template.yaml does:
  tier-router's with its filter-state fields, the others with Envoy's own fields only.
"""

import json
import re
from pathlib import Path

BIND = "127.0.0.1"
# Same as envoy/envoy.template.yaml: the filter buffers whole bodies.
BUFFER_LIMIT = 4194304
STREAM_HEADER = "x-bench-stream"
NOOP_HEADER = "x-noop-filter"


def _admin(port):
    return {"address": {"socket_address": {"address": BIND, "port_value": port}}}


TEMPLATE = Path(__file__).resolve().parent.parent / "envoy" / "envoy.template.yaml"


def shipped_log_format(with_filter_fields):
    """The `json_format` of envoy/envoy.template.yaml's access log (its `"%...%"` lines),
    without the filter's `%FILTER_STATE(...)%` fields unless `with_filter_fields`."""
    lines = re.findall(r'^\s+([\w.]+): "(%[^"]*%)"$', TEMPLATE.read_text(), re.MULTILINE)
    return {k: v for k, v in lines if with_filter_fields or "FILTER_STATE" not in v}


def access_log(json_format):
    return {
        "name": "envoy.access_loggers.file",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": "/dev/null",
            "log_format": {"json_format": json_format},
        },
    }


def _hcm(stat_prefix, route_config, http_filters, log_format=None):
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network."
            "http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": stat_prefix,
            "access_log": [access_log(log_format)] if log_format else [],
            "route_config": route_config,
            "http_filters": http_filters
            + [
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                    },
                }
            ],
        },
    }


def _listener(name, port, hcm):
    return {
        "name": name,
        "address": {"socket_address": {"address": BIND, "port_value": port}},
        "per_connection_buffer_limit_bytes": BUFFER_LIMIT,
        "filter_chains": [{"filters": [hcm]}],
    }


def _direct(body_path, content_type):
    return {
        "direct_response": {"status": 200, "body": {"filename": str(body_path)}},
        "response_headers_to_add": [
            {
                "header": {"key": "content-type", "value": content_type},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            },
            # Echo what the filters under test set, for the harness's checks.
            {"header": {"key": "x-bench-saw-noop", "value": f"%REQ({NOOP_HEADER})%"}},
            {"header": {"key": "x-bench-saw-length", "value": "%REQ(content-length)%"}},
        ],
    }


def upstream(listener_port, admin_port, json_body_path, sse_body_path):
    routes = [
        dict(
            {"match": {"prefix": "/", "headers": [{"name": STREAM_HEADER, "present_match": True}]}},
            **_direct(sse_body_path, "text/event-stream"),
        ),
        dict({"match": {"prefix": "/"}}, **_direct(json_body_path, "application/json")),
    ]
    route_config = {
        "name": "upstream",
        # The default (4 KiB) is smaller than the streamed answer.
        "max_direct_response_body_size_bytes": 1048576,
        "virtual_hosts": [{"name": "upstream", "domains": ["*"], "routes": routes}],
    }
    # Answer only once the whole request is in: a response that completes before its request
    # makes the HTTP/1.1 connection unusable, and the proxy would open one per request.
    buffer = {
        "name": "envoy.filters.http.buffer",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
            "max_request_bytes": BUFFER_LIMIT,
        },
    }
    return {
        "admin": _admin(admin_port),
        "static_resources": {
            "listeners": [
                _listener("upstream", listener_port, _hcm("upstream", route_config, [buffer]))
            ]
        },
    }


def wasm_filter(name, wasm_path, configuration=None):
    config = {
        "name": name,
        "root_id": name,
        "vm_config": {
            "vm_id": name,
            "runtime": "envoy.wasm.runtime.v8",
            "code": {"local": {"filename": str(wasm_path)}},
        },
        # Without this, pausing in on_http_request_headers never reaches the body.
        "allow_on_headers_stop_iteration": True,
        "failure_policy": "FAIL_RELOAD",
    }
    if configuration is not None:
        config["configuration"] = {
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": configuration,
        }
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": config,
        },
    }


def dynamic_module_filter(name, module_path):
    """Envoy's dynamic-modules HTTP filter over a native module (a shared library built
    against Envoy's C ABI), loaded from `module_path` (`module.local`, Envoy 1.40's
    DynamicModuleConfig; the other way, `name`, looks up `lib<name>.so` under
    ENVOY_DYNAMIC_MODULES_SEARCH_PATH)."""
    return {
        "name": "envoy.filters.http.dynamic_modules",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3."
            "DynamicModuleFilter",
            "dynamic_module_config": {"module": {"local": {"filename": str(module_path)}}},
            "filter_name": name,
        },
    }


def proxy(listener_port, admin_port, upstream_port, router_config_text, http_filters, log_format):
    """The Envoy under test; `http_filters` go before the router; `log_format` (a
    `json_format`, or None for no access log)."""
    router_config = json.loads(router_config_text)
    cluster_header = router_config.get("headers", {}).get("cluster", "x-tier-router-cluster")
    models = router_config["models"]
    fallback = next(m["cluster"] for m in models if m["name"] == router_config["fallback_model"])
    route_config = {
        "name": "bench",
        "virtual_hosts": [
            {
                "name": "llm",
                "domains": ["*"],
                "routes": [
                    {
                        "match": {
                            "prefix": "/",
                            "headers": [{"name": cluster_header, "present_match": True}],
                        },
                        "route": {"cluster_header": cluster_header, "timeout": "120s"},
                    },
                    {"match": {"prefix": "/"}, "route": {"cluster": fallback, "timeout": "120s"}},
                ],
            }
        ],
    }
    clusters = [
        {
            "name": m["cluster"],
            "type": "STATIC",
            "connect_timeout": "2s",
            "load_assignment": {
                "cluster_name": m["cluster"],
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {
                                "endpoint": {
                                    "address": {
                                        "socket_address": {"address": BIND, "port_value": upstream_port}
                                    }
                                }
                            }
                        ]
                    }
                ],
            },
        }
        for m in models
    ]
    return {
        "admin": _admin(admin_port),
        "static_resources": {
            "listeners": [
                _listener("bench", listener_port, _hcm("bench", route_config, http_filters, log_format))
            ],
            "clusters": clusters,
        },
    }
