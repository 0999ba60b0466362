"""Client commands as a newcomer runs them: finding the simulator, the identity, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simulator import create_app
from simulator.cli import client, main
from simulator.serving import forget_address, record_address
from tests.support.live_server import live_server

CLI = "import sys; from simulator.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A simulator on loopback whose data dir is tmp_path/sim; cwd is an empty dir, and no
    APLUS_SIM_* variable leaks in from outside."""
    for name in ("APLUS_SIM_URL", "APLUS_SIM_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"data_dir": tmp_path / "sim", "run_scheduler": False})
    sim = app.extensions["aplus_sim"]
    monkeypatch.chdir(tmp_path)
    with live_server(app) as server:
        sim.config.base_url = server.url
        yield server.url, sim


def test_the_address_is_found_in_order(tmp_path, monkeypatch):
    monkeypatch.delenv("APLUS_SIM_URL", raising=False)
    monkeypatch.setenv("APLUS_SIM_DATA_DIR", str(tmp_path / "d"))
    assert client.resolve_url(None) == "http://127.0.0.1:8360"
    record_address(tmp_path / "d" / "simulator", "http://127.0.0.1:1111")  # the demo's layout
    assert client.resolve_url(None) == "http://127.0.0.1:1111"
    monkeypatch.setenv("APLUS_SIM_URL", "http://127.0.0.1:2222/")
    assert client.resolve_url(None) == "http://127.0.0.1:2222"
    assert client.resolve_url("http://127.0.0.1:3333") == "http://127.0.0.1:3333"
    forget_address(tmp_path / "d" / "simulator")
    assert not (tmp_path / "d" / "simulator" / "address.json").exists()


def test_fault_and_report_follow_aplus_sim_url(served, monkeypatch, capsys):
    url, _ = served
    monkeypatch.setenv("APLUS_SIM_URL", url)
    assert main(["fault", "add", "userInitiatedPay", "--result", "U/UNKNOWN_EXCEPTION"]) == 0
    capsys.readouterr()
    assert main(["fault", "list"]) == 0
    assert "U/UNKNOWN_EXCEPTION" in capsys.readouterr().out
    assert main(["report", "--json"]) == 0
    assert "summary" in json.loads(capsys.readouterr().out)


def test_an_unreachable_simulator_is_one_clear_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("APLUS_SIM_URL", "http://127.0.0.1:9")
    for argv in (["fault", "list"], ["report"], ["clock"], ["call", "inquiryCodeRules"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.strip().splitlines() == [
            "aplus-sim: cannot reach the simulator at http://127.0.0.1:9: connection refused; "
            "start it with `aplus-sim serve` or set APLUS_SIM_URL"
        ], argv
    assert main(["order", "create", "--amount", "1000", "--currency", "JPY"]) == 2


def test_call_with_no_flags_signs_as_the_running_simulators_default_mpp(served, capsys):
    """The key directory comes from GET /_sim/keys: no --data-dir, no --client-id."""
    url, _ = served
    assert main(["call", "inquiryCodeRules", "--sim", url]) == 0
    out = capsys.readouterr().out
    assert '"resultCode": "SUCCESS"' in out and "INVALID_SIGNATURE" not in out


def test_call_exits_1_on_f_or_u_unless_told_otherwise(served, capsys):
    url, _ = served
    forced = [
        "call",
        "inquiryCodeRules",
        "--sim",
        url,
        "-H",
        "X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION",
    ]
    assert main(forced) == 1
    assert "resultStatus U" in capsys.readouterr().out
    assert main([*forced, "--fail-on", "F"]) == 0
    bad = ["call", "userInitiatedPay", "--sim", url, "--data", '{"codeValue": "nope"}']
    assert main(bad) == 1
    assert '"resultStatus": "F"' in capsys.readouterr().out
    assert main([*bad, "--fail-on", ""]) == 0


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("10.00", "USD", "1000"),
        ("10", "USD", "1000"),
        ("1000", "JPY", "1000"),
        ("12.5", "USD", "1250"),
    ],
)
def test_order_amounts_are_major_units(served, capsys, amount, currency, minor):
    url, _ = served
    argv = ["order", "create", "--amount", amount, "--currency", currency, "--sim", url, "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["paymentAmount"]["value"] == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.345", "USD"), ("10.5", "JPY"), ("ten", "USD"), ("-1", "USD")]
)
def test_order_amounts_that_do_not_fit_are_refused_never_rounded(served, capsys, amount, currency):
    url, sim = served
    argv = ["order", "create", "--amount", amount, "--currency", currency, "--sim", url]
    assert main(argv) == 2
    assert f"--amount {amount!r}" in capsys.readouterr().err
    assert sim.payments.list() == []


def test_keys_refuses_a_data_dir_that_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "nonexistent"
    assert main(["keys", "--data-dir", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()
    assert main(["keys", "--data-dir", str(missing), "--create", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clientId"]


def test_a_bad_effect_names_the_option(served, capsys):
    url, _ = served
    assert main(["fault", "add", "userInitiatedPay", "--effect", "{bad", "--sim", url]) == 2
    assert "--effect" in capsys.readouterr().err


def test_openapi_into_a_closed_pipe_prints_no_traceback():
    reader = subprocess.Popen(
        f"{sys.executable} -c '{CLI}' openapi | head -1",
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = reader.communicate(timeout=60)
    assert out.startswith("{")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_help_imports_no_command_module():
    """`aplus-sim --help` imports none of the commands' modules (nor what they need: requests,
    the schemas, the code rules); the simulator package itself is measured on top of it."""
    code = (
        "import sys, contextlib, io\n"
        "import simulator\n"
        "before = set(sys.modules)\n"
        "from simulator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('simulator', 'contracts', 'requests', 'jsonschema', 'faker', 'hypothesis', 'granian'))\n"
        "print(new, 'serve' in out.getvalue())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert (
        result.stdout.strip()
        == "['simulator.cli', 'simulator.cli.client', 'simulator.serving'] True"
    ), result.stdout + result.stderr


def test_payment_cancel_and_refund_as_the_merchant(served, capsys):
    url, _ = served
    create = ["order", "create", "--amount", "1000", "--currency", "JPY", "--sim", url, "--json"]
    assert main(create) == 0
    order = json.loads(capsys.readouterr().out)
    pid = order["paymentRequestId"]
    assert main(["payment", "refund", pid, "--sim", url]) == 1  # not paid: refused, said why
    assert "ORDER_STATUS_INVALID" in capsys.readouterr().err
    assert (
        main(["payment", "refund", pid, "--amount", "1.5", "--currency", "JPY", "--sim", url]) == 2
    )
    assert main(["payment", "cancel", pid, "--reason", "customer left", "--sim", url]) == 0
    capsys.readouterr()
    assert main(["payment", "show", pid, "--sim", url]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "CLOSED"
