"""Checks every reliability case makes (docs/reliability.md): the filter answered nothing
itself with a 5xx, and its VM neither trapped nor was reloaded while the case ran."""

import pytest

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
    """Fails the test when the VM of `stack_fixture` trapped or was reloaded during it."""
    stack = request.getfixturevalue(request.module.STACK_FIXTURE)
    before = vm_counters(stack)
    yield stack
    assert vm_counters(stack) == before, "the wasm VM trapped or was reloaded"


def assert_not_from_filter(log):
    """No local reply of the filter or of a failed VM (`wasm_fail_stream`) answered."""
    details = log.get("response_code_details") or ""
    assert "wasm" not in details, details
