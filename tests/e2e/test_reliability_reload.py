"""Config reload through a file-based dynamic listener (LDS from a watched directory), with
traffic running across each swap: an invalid filter config is rejected with a message that
names the field while the old config keeps serving; a valid one takes effect; no request
fails on the way (docs/reliability.md)."""

import http.client
import json
import threading
import time
import uuid

import pytest

import dynamic_listener
import harness
from reliability import vm_counters

CHAT = "/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "Classify the sentiment in one word: great!"}]}
CLIENTS = 4
# Each answer takes this long, so requests are in flight whenever the listener is swapped.
UPSTREAM_DELAY_S = 0.1
SWAP_TIMEOUT_S = 15


@pytest.fixture
def reload_stack(tmp_path, envoy_bin, wasm_path):
    lds_dir = tmp_path / "lds"
    stack = harness.Stack(tmp_path, envoy_bin, wasm_path, edit_bootstrap=dynamic_listener.serve_from(lds_dir))
    stack.lds_dir = lds_dir
    for mock in stack.mocks.values():
        mock.delay_s = UPSTREAM_DELAY_S
    try:
        yield stack.start()
    finally:
        stack.stop()


class Traffic:
    """CLIENTS threads sending `x-task: classify` requests until stopped; every result kept
    as (status or exception, the upstream that answered). Each request on a new connection,
    or (`keep_alive`) each client on one connection, reopened only when Envoy closes it."""

    def __init__(self, stack, keep_alive=False):
        self.stack = stack
        self.keep_alive = keep_alive
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(CLIENTS)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def run(self):
        conn = None
        while not self.stopping.is_set():
            headers = {"x-task": "classify", "x-request-id": str(uuid.uuid4()), "content-type": "application/json"}
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.stack.listener_port, timeout=30)
                conn.request("POST", CHAT, json.dumps(BODY), headers)
                response = conn.getresponse()
                response.read()
                result = (response.status, response.getheader("x-mock-upstream"))
                if not self.keep_alive or response.getheader("connection") == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:  # a reset connection: a failure
                result, conn = (repr(e), None), None
            with self.lock:
                self.results.append(result)

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def failures(self):
        return [r for r in self.snapshot() if r[0] != 200]

    def wait_for(self, upstream, timeout_s=SWAP_TIMEOUT_S):
        """Waits until `upstream` answered a request sent after this call."""
        start = len(self.snapshot())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(u == upstream for _, u in self.snapshot()[start:]):
                return
            time.sleep(0.05)
        raise AssertionError(f"no request reached {upstream} within {timeout_s}s")


def lds_stat(stack, name):
    text = stack.envoy.admin_get(f"/stats?filter=^listener_manager\\.lds\\.{name}$") or ""
    return int(text.rpartition(":")[2] or 0)


def wait_for_stat(stack, name, above):
    deadline = time.monotonic() + SWAP_TIMEOUT_S
    while lds_stat(stack, name) <= above:
        assert time.monotonic() < deadline, f"listener_manager.lds.{name} stayed at {above}"
        time.sleep(0.1)


def test_a_bad_config_is_rejected_and_a_good_one_swapped_in_without_a_failed_request(reload_stack):
    stack = reload_stack
    rejected, updated = lds_stat(stack, "update_rejected"), lds_stat(stack, "update_success")
    with Traffic(stack) as traffic, Traffic(stack, keep_alive=True) as kept:
        traffic.wait_for("small-instruct")

        # An invalid config: Envoy keeps the old listener, and its log names the field.
        dynamic_listener.swap_filter_config(stack.lds_dir, lambda c: c.update(fallback_model="no-such-model"))
        wait_for_stat(stack, "update_rejected", rejected)
        traffic.wait_for("small-instruct")
        log = stack.envoy.log_path.read_text(errors="replace")
        assert "fallback_model" in log and "no-such-model" in log, stack.envoy.log_tail()
        assert "Unable to create Wasm plugin" in log, stack.envoy.log_tail()

        # A valid one (classify now means the analysis tier) takes effect, traffic running.
        dynamic_listener.swap_filter_config(stack.lds_dir, lambda c: c["tasks"].update(classify="analysis"))
        wait_for_stat(stack, "update_success", updated)
        traffic.wait_for("reasoning-large")
        time.sleep(0.5)  # requests that were in flight on the old listener finish
    results = traffic.snapshot()
    assert not traffic.failures(), traffic.failures()[:10]
    # Connections kept open across the swap are drained by Envoy (moved to the new listener
    # over --drain-time-s): none of their requests fails either.
    assert not kept.failures(), kept.failures()[:10]
    assert len(kept.snapshot()) > 20
    served = {u for _, u in results}
    assert served == {"small-instruct", "reasoning-large"}, served
    # Once the new listener serves, classify never goes to the old tier again.
    last_old = max(i for i, (_, u) in enumerate(results) if u == "small-instruct")
    first_new = min(i for i, (_, u) in enumerate(results) if u == "reasoning-large")
    assert last_old - first_new < CLIENTS * 4, (first_new, last_old)
    assert len(results) > 20
    # No VM trapped or failed to load along the way.
    counters = vm_counters(stack)
    assert counters["wasm.tier_router.vm_reload_failure"] == counters["wasm.tier_router.vm_reload"] == 0
