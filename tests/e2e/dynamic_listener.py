"""The test bootstrap with its listener served by file-based LDS, for config-reload tests.

`Stack(..., edit_bootstrap=dynamic_listener.serve_from(directory))` moves the rendered
listener (the filter and its config included) into `directory/lds.yaml`, which Envoy
watches; `swap_filter_config(directory, edit)` writes the listener as first rendered, its
filter config edited, the way Envoy expects a file update: written aside, then moved over
the watched file in one rename.
The shipped envoy/envoy.yaml keeps its static listener.
"""

import json
import os
from pathlib import Path

import yaml

LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
LDS_FILE = "lds.yaml"
# The listener as first rendered, beside (not in) the watched directory.
BASE_SUFFIX = ".base.yaml"


def serve_from(directory):
    """An `edit_bootstrap` hook: the bootstrap's listeners come from `directory/lds.yaml`."""
    directory = Path(directory)

    def edit(text):
        bootstrap = yaml.safe_load(text)
        listeners = bootstrap["static_resources"].pop("listeners")
        directory.mkdir(parents=True, exist_ok=True)
        base_path(directory).write_text(yaml.safe_dump(listeners, sort_keys=False))
        write(directory, listeners)
        # Dynamic resources need a node identity, even from a file.
        bootstrap.setdefault("node", {"id": "tier-router-test", "cluster": "tier-router-test"})
        bootstrap["dynamic_resources"] = {
            "lds_config": {
                "resource_api_version": "V3",
                "path_config_source": {
                    "path": str(directory / LDS_FILE),
                    "watched_directory": {"path": str(directory)},
                },
            }
        }
        return yaml.safe_dump(bootstrap, sort_keys=False)

    return edit


def write(directory, listeners):
    resources = [dict(listener, **{"@type": LISTENER_TYPE}) for listener in listeners]
    staged = Path(directory) / f".{LDS_FILE}.tmp"
    staged.write_text(yaml.safe_dump({"resources": resources}, sort_keys=False))
    os.replace(staged, Path(directory) / LDS_FILE)


def base_path(directory):
    directory = Path(directory)
    return directory.with_name(directory.name + BASE_SUFFIX)


def wasm_config(listener):
    """The Wasm filter's `config` block of a listener."""
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    wasm = next(f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.wasm")
    return wasm["typed_config"]["config"]


def swap_filter_config(directory, edit):
    """Rewrite the listener as first rendered with `edit(filter_config_dict)` applied."""
    current = yaml.safe_load(base_path(directory).read_text())
    for listener in current:
        configuration = wasm_config(listener)["configuration"]
        config = json.loads(configuration["value"])
        edit(config)
        configuration["value"] = json.dumps(config)
    write(directory, current)
