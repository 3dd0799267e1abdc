"""Session fixtures: one Envoy with the tier-router wasm in front of four mock upstreams.

Starting Envoy and its wasm VM takes about a second, so every test shares one stack and
tells its requests apart by x-request-id.
"""

import pytest
from openai import OpenAI

import harness


@pytest.fixture(scope="session")
def envoy_bin():
    return harness.find_envoy()


@pytest.fixture(scope="session")
def wasm_path():
    return harness.ensure_wasm()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, envoy_bin, wasm_path):
    workdir = tmp_path_factory.mktemp("stack")
    stack = harness.Stack(workdir, envoy_bin, wasm_path)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def client(stack):
    """The official openai SDK, pointed at the stack's Envoy."""
    return OpenAI(
        base_url=f"http://127.0.0.1:{stack.listener_port}/v1",
        api_key="not-used-by-the-mock",
        max_retries=0,
        timeout=30,
    )


@pytest.fixture(scope="session")
def fallback_model():
    return harness.FILTER_CONFIG["fallback_model"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # A failing test shows the end of Envoy's log: wasm errors and panics are logged there.
    outcome = yield
    report = outcome.get_result()
    stack = item.funcargs.get("stack") if hasattr(item, "funcargs") else None
    if report.failed and report.when == "call" and stack and stack.envoy:
        report.sections.append(("envoy log (tail)", stack.envoy.log_tail()))
