"""`aplus-sim clock` against a running simulator on loopback."""

from __future__ import annotations

import json

from simulator import create_app
from simulator.cli import main
from tests.support.live_server import live_server


def _app(tmp_path, clock):
    return create_app(
        {
            "data_dir": tmp_path,
            "clock": clock,
            "clock_start": "2026-01-05T03:00:00+00:00",
            "run_scheduler": False,
        }
    )


def test_advance_moves_a_virtual_clock_and_show_reports_it(tmp_path, capsys):
    with live_server(_app(tmp_path, "virtual")) as server:
        assert main(["clock", "advance", "--url", server.url, "--seconds", "600"]) == 0
        capsys.readouterr()
        assert main(["clock", "--url", server.url, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
    assert "2026-01-05T03:10:00" in json.dumps(shown)


def test_advance_to_a_time(tmp_path, capsys):
    with live_server(_app(tmp_path, "virtual")) as server:
        code = main(["clock", "--url", server.url, "advance", "--to", "2026-01-05T11:30:00+08:00"])
        assert code == 0
        capsys.readouterr()
        main(["clock", "--url", server.url, "--json"])
        assert "2026-01-05T03:30:00" in capsys.readouterr().out


def test_a_real_clock_cannot_be_moved(tmp_path, capsys):
    with live_server(_app(tmp_path, "real")) as server:
        assert main(["clock", "advance", "--url", server.url, "--seconds", "5"]) == 1
    assert "virtual" in capsys.readouterr().out


def test_advance_over_many_jobs_shows_progress_and_runs_them_all(tmp_path, capsys):
    app = _app(tmp_path, "virtual")
    client = app.test_client()
    for _ in range(120):  # each order waits for its expiry job
        answer = client.post(
            "/_sim/orders",
            json={"amount": {"currency": "JPY", "value": "1000"}, "expirySeconds": 60},
        )
        assert answer.status_code == 201, answer.get_json()
    with live_server(app) as server:
        assert main(["clock", "advance", "--sim", server.url, "--seconds", "61", "--json"]) == 0
        out = capsys.readouterr()
    assert "jobs run, clock at" in out.err
    shown = json.loads(out.out)
    assert shown["jobsRun"] >= 120
    assert "2026-01-05T03:01:01" in shown["now"]
