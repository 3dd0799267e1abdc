"""Trust by mTLS identity, in a real Envoy: a listener that requires client certificates, and
`explicit_tasks.trusted.principals` naming SPIFFE IDs as Istio issues them. A caller whose
certificate's URI SAN matches may name a task; another caller's task is ignored and its body
classified. Certificates come from the openssl CLI, made for this test."""

import copy
import http.client
import json
import shutil
import ssl
import subprocess
import uuid

import pytest

import harness
from harness import FILTER_CONFIG, SOURCE, TIER
from prompts import chat

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")

NIGHTLY = "spiffe://cluster.local/ns/batch/sa/nightly"
WEB = "spiffe://cluster.local/ns/app/sa/web"
PROOF = chat("Prove step by step that the square root of 2 is irrational.")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(directory):
    """A CA, a server certificate for 127.0.0.1, and one client certificate per SPIFFE ID."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)  # fmt: skip
    leaves = {"server": "subjectAltName=IP:127.0.0.1", "nightly": f"subjectAltName=URI:{NIGHTLY}",
              "web": f"subjectAltName=URI:{WEB}"}  # fmt: skip
    for name, san in leaves.items():
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory)  # fmt: skip
        (directory / f"{name}.ext").write_text(san + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                "-out", f"{name}.crt", cwd=directory)  # fmt: skip
    return directory


def require_client_certs(certs):
    tls = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "require_client_certificate": True,
            "common_tls_context": {
                "tls_certificates": [{
                    "certificate_chain": {"filename": str(certs / "server.crt")},
                    "private_key": {"filename": str(certs / "server.key")},
                }],
                "validation_context": {"trusted_ca": {"filename": str(certs / "ca.crt")}},
            },
        },
    }  # fmt: skip

    def edit(text):
        anchor = "    filter_chains:\n    - filters:\n"
        assert anchor in text
        return text.replace(
            anchor, f"    filter_chains:\n    - transport_socket: {json.dumps(tls)}\n      filters:\n", 1
        )

    return edit


@pytest.fixture(scope="module")
def mtls(tmp_path_factory, envoy_bin, wasm_path):
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    config = copy.deepcopy(FILTER_CONFIG)
    config["explicit_tasks"] = {"trusted": {"principals": ["spiffe://cluster.local/ns/batch/*"]}}
    stack = harness.Stack(
        tmp_path_factory.mktemp("mtls"), envoy_bin, wasm_path, config,
        edit_bootstrap=require_client_certs(certs),
    )  # fmt: skip
    stack.start()
    yield stack, certs
    stack.stop()


def call_as(stack, certs, client, headers):
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    context.load_cert_chain(str(certs / f"{client}.crt"), str(certs / f"{client}.key"))
    request_id = str(uuid.uuid4())
    conn = http.client.HTTPSConnection("127.0.0.1", stack.listener_port, context=context, timeout=30)
    try:
        body = json.dumps(PROOF)
        headers = {"content-type": "application/json", "x-request-id": request_id, **headers}
        conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status == 200
    return stack.access_log.entry(request_id)


def test_a_listed_spiffe_identity_may_name_a_task(mtls):
    stack, certs = mtls
    log = call_as(stack, certs, "nightly", {"x-task": "label"})
    assert (log[TIER], log[SOURCE]) == ("label", "header"), log
    assert log["tier_router.untrusted_task"] is None


def test_another_identitys_task_is_ignored_and_its_body_classified(mtls):
    stack, certs = mtls
    log = call_as(stack, certs, "web", {"x-task": "label"})
    assert (log[TIER], log[SOURCE]) == ("analysis", "classifier"), log
    assert log["tier_router.untrusted_task"] == "header:caller_not_trusted"
