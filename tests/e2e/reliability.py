"""Checks every reliability case makes (docs/reliability.md): the filter answered nothing
itself with a 5xx, and its VM neither trapped nor was reloaded while the case ran. Also the
fault cases' setup (one model per tier, short route timeouts), shared with scripts/soak.py."""

import copy

import pytest

# The hung-upstream case waits this long for Envoy's 504 (120 s in the shipped bootstrap).
ROUTE_TIMEOUT = "1s"
RUNTIME = "wasm.envoy.wasm.runtime.v8"
# Envoy's counters of VM life: a trap under FAIL_RELOAD raises the reload counters and
# `created` (tests/e2e/test_bypass.py shows they move).
VM_COUNTERS = (
    f"{RUNTIME}.created",
    "wasm.tier_router.vm_reload",
    "wasm.tier_router.vm_reload_backoff",
    "wasm.tier_router.vm_reload_failure",
    "wasm.tier_router.vm_reload_success",
)


def vm_counters(stack):
    text = stack.envoy.admin_get("/stats?filter=^wasm\\.") or ""
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if value.strip().isdigit():
            values[name.strip()] = int(value)
    missing = [name for name in VM_COUNTERS if name not in values]
    assert not missing, f"Envoy's wasm stats lack {missing}: {sorted(values)}"
    return {name: values[name] for name in VM_COUNTERS}


@pytest.fixture
def vm_unchanged(request):
    """Fails the test when the VM of the module's STACK_FIXTURE trapped or was reloaded."""
    stack = request.getfixturevalue(request.module.STACK_FIXTURE)
    before = vm_counters(stack)
    yield stack
    assert vm_counters(stack) == before, "the wasm VM trapped or was reloaded"


def assert_not_from_filter(log):
    """No local reply of the filter or of a failed VM (`wasm_fail_stream`) answered."""
    details = log.get("response_code_details") or ""
    assert "wasm" not in details, details


# Settings that could answer from another model than the tier's first (failover, cascade).
OTHER_MODEL_KEYS = ("failover", "cascade")
MAX_EJECT_AFTER_FAILURES = 1000  # crates/core/src/config/bounds.rs


def one_model_per_tier(config):
    """The filter config with each tier cut to its first model, no settings that could
    answer from another model, and no cool-down: a fault then reaches the client as the
    upstream sent it, every time."""
    config = copy.deepcopy(config)
    for node in [config, *config["tiers"]]:
        for key in [k for k in node if any(word in k for word in OTHER_MODEL_KEYS)]:
            del node[key]
        if node.get("policy") in OTHER_MODEL_KEYS:
            del node["policy"]
    for tier in config["tiers"]:
        tier["models"] = tier["models"][:1]
        # Failover is on by default, to the fallback model after the tier's own.
        tier["failover"] = {"enabled": False}
    # No cool-down after a failure: with one model, a cooling tier would be "down" and its
    # next requests sent to the fallback (`on_tier_down`), so each case would depend on the
    # one before it.
    config["policies"] = dict(
        config.get("policies", {}), unhealthy_seconds=0, max_retry_after_seconds=0,
        eject_after_failures=MAX_EJECT_AFTER_FAILURES,
    )  # fmt: skip
    return config


def short_route_timeouts(text):
    """An `edit_bootstrap` hook: every route times out after ROUTE_TIMEOUT."""
    assert "timeout: 120s" in text
    return text.replace("timeout: 120s", f"timeout: {ROUTE_TIMEOUT}")
