"""`aplus-sim fault add|list|get|delete|clear` against a simulator on loopback."""

from __future__ import annotations

import json

import pytest

from simulator.cli import main
from tests.support.live_server import live_server


@pytest.fixture
def url(app):
    with live_server(app) as server:
        yield server.url


def test_add_list_get_delete_clear(url, capsys, client):
    assert (
        main(
            [
                "fault",
                "add",
                "userInitiatedPay",
                "--result",
                "U/UNKNOWN_EXCEPTION",
                "--times",
                "1",
                "--url",
                url,
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "1"
    assert (
        main(
            [
                "fault",
                "add",
                "notifyPayment",
                "--effect",
                "http_error",
                "--param",
                "status=500",
                "--client-id",
                "W1",
                "--match",
                "currency=JPY",
                "--probability",
                "0.5",
                "--seed",
                "3",
                "--url",
                url,
            ]
        )
        == 0
    )
    assert main(["fault", "add", "cancelPayment", "--effect", "duplicate", "--url", url]) == 0
    capsys.readouterr()
    assert main(["fault", "list", "--url", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "result U/UNKNOWN_EXCEPTION" in lines[0] and "times=1" in lines[0]
    assert "http_error" in lines[1] and "status=500" in lines[1] and "client=W1" in lines[1]
    assert "outbound" in lines[2] and "duplicate" in lines[2]
    assert main(["fault", "get", "2", "--url", url]) == 0
    rule = json.loads(capsys.readouterr().out)
    assert rule["effect"] == {"kind": "http_error", "commit": False, "status": 500}
    assert (rule["probability"], rule["seed"], rule["match"]) == (0.5, 3, {"currency": ["JPY"]})
    assert main(["fault", "delete", "2", "--url", url]) == 0
    assert main(["fault", "clear", "--url", url]) == 0
    assert "deleted 2 rule(s)" in capsys.readouterr().err
    assert client.get("/_sim/faults").get_json()["rules"] == []


def test_refusals_name_the_problem(url, capsys):
    assert main(["fault", "add", "userInitiatedPay", "--result", "F/NOPE", "--url", url]) == 1
    assert "NOPE" in capsys.readouterr().err
    assert main(["fault", "get", "99", "--url", url]) == 1
    assert "no fault rule 99" in capsys.readouterr().err
    assert (
        main(["fault", "add", "userInitiatedPay", "--effect", "drop", "--param", "x", "--url", url])
        == 2
    )


def test_unreachable_simulator(capsys):
    # A setup error (nothing listening) exits 2 with one line, never a traceback.
    assert main(["fault", "list", "--url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach" in err
    assert "Traceback" not in err


def test_report_command(url, capsys, wallet, make_order, client):
    client.post(
        "/_sim/faults",
        json={
            "api": "userInitiatedPay",
            "effect": {"kind": "result", "resultCode": "PROCESS_FAIL"},
        },
    )
    order = make_order()
    wallet.decode(order["codeValue"])
    assert main(["report", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "shown F PROCESS_FAIL" in out and "then stopped" in out
    wallet.decode(order["codeValue"])  # an F retried: bad, so the command fails
    assert main(["report", "--client-id", wallet.client_id, "--url", url]) == 1
    assert "kept retrying an F" in capsys.readouterr().out
    assert main(["report", "--json", "--url", url]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["bad"] == 1
