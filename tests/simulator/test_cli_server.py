"""`aplus-sim keys`, `order create`, `call` and `serve`, as a newcomer would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from contracts import signing
from simulator.cli import main
from tests.simulator.conftest import notify_body
from tests.simulator.test_http import _at_once
from tests.support.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(app, sim, tmp_path):
    """The test app on loopback; its data dir is tmp_path / "sim"."""
    with live_server(app) as server:
        sim.config.base_url = server.url
        yield server.url, str(tmp_path / "sim"), sim


def test_keys_prints_the_default_mpp_and_its_key(tmp_path, capsys):
    # A data dir that does not exist is refused unless --create is given.
    assert main(["keys", "--data-dir", str(tmp_path / "d"), "--json"]) == 2
    assert not (tmp_path / "d").exists()
    capsys.readouterr()
    assert main(["keys", "--data-dir", str(tmp_path / "d"), "--json", "--create"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clientId"] == "SANDBOX_APLUS_SIM_MPP_01"
    key = signing.load_private_key(info["privateKey"])
    assert signing.public_key_base64(key) == info["publicKey"]
    assert Path(info["privateKeyFile"]).read_text().strip() == info["privateKey"]
    assert main(["keys", "--data-dir", str(tmp_path / "d")]) == 0
    assert info["privateKey"] in capsys.readouterr().out


def test_order_create_prints_the_cashier_url(served, capsys):
    url, _, sim = served
    assert main(["order", "create", "--amount", "1000", "--currency", "JPY", "--url", url]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("http://wallet.test/cashier?codeValue=https%3A%2F%2Fqr.alipayplus.com")
    assert len(sim.payments.list()) == 1


def test_order_create_takes_major_units_with_a_decimal_point(served, capsys):
    url, _, _ = served
    args = ["order", "create", "--amount", "12.50", "--currency", "USD", "--url", url, "--json"]
    assert main(args) == 0
    order = json.loads(capsys.readouterr().out)
    assert order["paymentAmount"] == {"currency": "USD", "value": "1250"}


def test_order_create_reports_refusals(served, capsys):
    url, _, _ = served
    assert main(["order", "create", "--amount", "5", "--currency", "XXX", "--url", url]) == 1
    assert "PARAM_ILLEGAL" in capsys.readouterr().err


def test_call_signs_as_the_default_mpp_and_verifies_the_answer(served, capsys):
    url, data_dir, sim = served
    create = ["order", "create", "--amount", "1000", "--currency", "JPY", "--url", url, "--json"]
    assert main(create) == 0
    order = json.loads(capsys.readouterr().out)
    body = json.dumps({"codeValue": order["codeValue"], "customerId": "u_cli"})
    args = ["call", "userInitiatedPay", "--data", body, "--url", url, "--data-dir", data_dir]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert '"resultCode": "SUCCESS"' in out
    assert "verifies with the simulator's public key" in out
    assert sim.payments.get_record(order["paymentRequestId"])["customer_id"] == "u_cli"


def test_call_passes_extra_headers_such_as_a_forced_result(served, capsys):
    url, data_dir, sim = served
    create = ["order", "create", "--amount", "1000", "--currency", "JPY", "--url", url, "--json"]
    assert main(create) == 0
    order = json.loads(capsys.readouterr().out)
    body = json.dumps({"codeValue": order["codeValue"], "customerId": "u_cli"})
    args = ["call", "userInitiatedPay", "--data", body, "--url", url, "--data-dir", data_dir]
    # A U answer is not a success: `call` exits 1 unless --fail-on says otherwise.
    assert main([*args, "-H", "X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION"]) == 1
    assert '"resultCode": "UNKNOWN_EXCEPTION"' in capsys.readouterr().out
    assert sim.payments.get_record(order["paymentRequestId"])["status"] == "CREATED"
    assert main([*args, "-H", "no colon here"]) == 2


def test_call_with_another_key_and_client(served, capsys, tmp_path):
    url, _, _ = served
    key = signing.generate_private_key()
    key_file = tmp_path / "mine.pem"
    key_file.write_text(signing.private_key_pem(key))
    requests.put(
        f"{url}/_sim/participants/MY_MPP",
        json={"publicKey": signing.public_key_base64(key)},
        timeout=10,
    )
    args = ["call", "inquiryCodeRules", "--url", url, "--client-id", "MY_MPP"]
    assert main([*args, "--private-key", str(key_file)]) == 0
    assert '"resultCode": "SUCCESS"' in capsys.readouterr().out


def test_call_notices_an_answer_that_does_not_verify(served, capsys):
    url, data_dir, _ = served
    stranger = signing.public_key_base64(signing.generate_private_key())
    args = ["call", "inquiryCodeRules", "--url", url, "--data-dir", data_dir]
    assert main([*args, "--simulator-public-key", stranger]) == 1
    assert "does NOT verify" in capsys.readouterr().out


def test_call_without_keys_explains_what_to_do(tmp_path, capsys):
    assert main(["call", "inquiryCodeRules", "--data-dir", str(tmp_path / "empty")]) == 2
    assert "aplus-sim serve" in capsys.readouterr().err


def test_serve_starts_prints_the_banner_and_answers(tmp_path):
    """`aplus-sim serve --port 0` under granian: banner, then a signed answer."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [str(Path(sys.executable).with_name("aplus-sim")), "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path / "d"), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("aplus-sim listening on http://127.0.0.1:"), first
        base = first.split()[-1]
        banner = [process.stdout.readline() for _ in range(9)]
        assert any("SANDBOX_APLUS_SIM_MPP_01" in line for line in banner)
        assert any("private_key.txt" in line for line in banner)
        deadline = time.monotonic() + 30
        while True:  # readiness: poll the health endpoint until a worker answers
            try:
                health = requests.get(f"{base}/_sim/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server did not come up in 30 s"
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.05)
        assert health.json()["status"] == "ok"
        code = main(["call", "inquiryCodeRules", "--url", base, "--data-dir", str(tmp_path / "d")])
        assert code == 0
        _race_two_worker_processes(base, tmp_path / "d")
    finally:
        process.terminate()
        process.wait(timeout=30)


def _race_two_worker_processes(base: str, data_dir: Path) -> None:
    """20 customers decode one code at once across granian's two processes: one wins; then
    20 identical notifications at once: one state change, identical answers."""
    client_id = "SANDBOX_APLUS_SIM_MPP_01"
    key = signing.load_private_key((data_dir / "keys" / client_id / "private_key.pem").read_text())

    def post(path: str, body: dict) -> requests.Response:
        raw = json.dumps(body).encode()
        headers = signing.signed_request_headers(key, client_id, path, raw, datetime.now(UTC))
        return requests.post(base + path, data=raw, headers=headers, timeout=60)

    order = requests.post(
        f"{base}/_sim/orders", json={"amount": {"currency": "JPY", "value": "1000"}}, timeout=30
    ).json()
    decode = "/aps/api/v1/payments/userInitiatedPay"
    answers = _at_once(
        20, lambda i: post(decode, {"codeValue": order["codeValue"], "customerId": f"u_{i}"})
    )
    codes = [answer.json()["result"]["resultCode"] for answer in answers]
    assert codes.count("SUCCESS") == 1 and codes.count("REPEAT_REQ_INCONSISTENT") == 19
    decoded = answers[codes.index("SUCCESS")].json()
    notify = notify_body(decoded, customerId=decoded_customer(codes))
    answers = _at_once(20, lambda i: post("/aps/api/v1/payments/notifyPayment", notify))
    assert {answer.text for answer in answers} == {answers[0].text}
    assert answers[0].json()["result"]["resultCode"] == "SUCCESS"
    view = requests.get(f"{base}/_sim/payments/{order['paymentRequestId']}", timeout=30).json()
    assert view["status"] == "SUCCESS"
    notes = [e["note"] or "" for e in view["exchanges"] if e["api"] == "notifyPayment"]
    assert len(notes) == 20 and sum(n.startswith("replay") for n in notes) == 19


def decoded_customer(codes: list[str]) -> str:
    """The customer whose decode won."""
    return f"u_{codes.index('SUCCESS')}"


def test_key_options_take_text_or_a_file(tmp_path):
    from simulator.cli.call_cmd import _key_text

    long_run = "MIIB" + "A" * 400  # longer than any file name: must not be taken for a path
    assert _key_text(long_run) == long_run
    key_file = tmp_path / "key.txt"
    key_file.write_text("KEYTEXT")
    assert _key_text(str(key_file)) == "KEYTEXT"


def test_serve_on_a_busy_port_says_so(tmp_path, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["serve", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().out
