"""Set-up errors (exit 2, one line), a broken wallet (exit 1, the evidence in every report) and
a real clock (time-dependent scenarios skipped with the reason)."""

from __future__ import annotations

import json
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest
import requests

import simulator
from contracts import signing
from tests.support.live_server import live_server
from tests.verify.conftest import BIN, CUSTOMER
from tests.verify.doubles import CancelIgnoringHook, refusing_hook


def verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "aplus-sim"), "verify", *args], capture_output=True, text=True, timeout=300
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_setup_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("aplus-sim verify: setup error: ")
    for word in words:
        assert word in lines[0], lines[0]


def test_unreachable_simulator_is_a_setup_error(demo):
    sim = f"http://127.0.0.1:{closed_port()}"
    done = verify("--sim", sim, "--client-id", demo.client_id, "--hook", demo.hook)
    assert_setup_error(done, "cannot reach the simulator", sim)


def test_unknown_client_is_a_setup_error(demo):
    done = verify("--sim", demo.sim_url, "--client-id", "NOBODY_REGISTERED", "--hook", demo.hook)
    assert_setup_error(done, "NOBODY_REGISTERED", "not registered", "PUT /_sim/participants")


def test_hook_not_answering_is_a_setup_error(demo):
    hook = f"http://127.0.0.1:{closed_port()}/hook"
    done = verify("--sim", demo.sim_url, "--client-id", demo.client_id, "--hook", hook)
    assert_setup_error(done, "hook", hook, "does not answer")


def test_hook_at_a_wrong_path_is_a_setup_error(demo):
    hook = f"{demo.wallet_url}/no/such/hook"
    done = verify("--sim", demo.sim_url, "--client-id", demo.client_id, "--hook", hook)
    assert_setup_error(done, "HTTP 404", "is the URL right")


def test_missing_options_and_unknown_pattern_are_setup_errors(demo):
    assert_setup_error(verify("--sim", demo.sim_url), "--client-id", "--hook")
    done = verify("--client-id", demo.client_id, "--hook", demo.hook, "--only", "no-such-thing")
    assert_setup_error(done, "no scenario matches")


def test_a_broken_wallet_fails_with_the_rule_and_the_evidence(demo, tmp_path):
    with live_server(CancelIgnoringHook(demo.hook)) as broken:
        done = verify(
            "--sim", demo.sim_url, "--client-id", demo.client_id, "--hook", broken.url,
            "--customer-id", CUSTOMER, "--only", "user-cancels,decode-success",
            "--junit", str(tmp_path / "r.xml"), "--json", str(tmp_path / "r.json"),
            "--html", str(tmp_path / "r.html"),
        )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED  user-cancels" in done.stdout
    assert "PASSED  decode-success" in done.stdout
    rule = "a cancelled payment is never reported S (spec §3.3)"
    # JUnit: the failure names the rule and carries the exchanges with their verdicts.
    case = next(
        c for c in ET.parse(tmp_path / "r.xml").getroot() if c.get("name") == "user-cancels"
    )
    failure = case.find("failure")
    assert rule in failure.get("message")
    assert "inbound notifyPayment -> S SUCCESS" in failure.text
    assert '"resultStatus":"S"' in failure.text
    # JSON: the same verdict and evidence.
    result = next(
        r for r in json.loads((tmp_path / "r.json").read_text())["results"]
        if r["name"] == "user-cancels"
    )  # fmt: skip
    assert result["verdict"] == "failed" and result["rule"] == rule
    assert [e["api"] for e in result["evidence"]][:2] == ["userInitiatedPay", "notifyPayment"]
    # HTML: self-contained, one section per scenario, the evidence folded (open on failure).
    page = (tmp_path / "r.html").read_text()
    assert "<script" not in page and "http://" not in page.split("<body>")[0]
    assert 'id="user-cancels" class="failed"' in page
    assert "Rule broken: a cancelled payment is never reported S" in page
    assert "<details open>" in page and "notifyPayment" in page


@pytest.fixture
def real_clock_sim(tmp_path):
    app = simulator.create_app({"data_dir": tmp_path / "sim", "clock": "real", "testing": True})
    with live_server(app) as server:
        app.extensions["aplus_sim"].config.base_url = server.url
        key = signing.public_key_base64(signing.generate_private_key().public_key())
        put = requests.put(
            f"{server.url}/_sim/participants/REAL_CLOCK_WALLET", json={"publicKey": key}, timeout=10
        )
        assert put.status_code == 200, put.text
        yield server.url


def test_on_a_real_clock_time_dependent_scenarios_are_skipped(real_clock_sim):
    with live_server(refusing_hook) as hook:
        done = verify(
            "--sim", real_clock_sim, "--client-id", "REAL_CLOCK_WALLET", "--hook", hook.url,
            "--only", "inquiry-while-processing,expiry-cancel",
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(lines) == 2
    assert all("needs a virtual clock" in line for line in lines)
    assert "(clock real," in done.stdout
