"""Several worker processes (`aplus-sim serve --workers 2`, granian) share the job table and the
virtual clock: two clock advances racing through different workers run each job exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from tests.support.wallet_stub import WalletStub

ROOT = Path(__file__).resolve().parents[3]
ORDERS = 8


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """`aplus-sim serve` on port 0 with two workers and a virtual clock; (process, base URL)."""
    command = [
        str(Path(sys.executable).parent / "aplus-sim"),
        "serve",
        "--port",
        "0",
        "--workers",
        "2",
        "--clock",
        "virtual",
        "--clock-start",
        "2026-01-05T03:00:00Z",
        "--data-dir",
        str(data_dir),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env
    )
    assert process.stdout is not None
    for line in process.stdout:  # the server prints its URL once it listens
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if found:
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep draining
            return process, found.group(1)
    process.kill()
    raise AssertionError("the server did not say where it listens")


def wait_ready(http: requests.Session, url: str) -> None:
    """Readiness check: both workers may still be importing the app."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if http.get(f"{url}/_sim/health", timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError("the server never became ready")


def test_two_workers_racing_clock_advances_run_each_job_once(tmp_path):
    stub = WalletStub()
    with stub.serving():
        stub.set_default("cancelPayment", stub.u())
        process, url = start_server(tmp_path / "sim")
        try:
            http = requests.Session()
            http.trust_env = False
            wait_ready(http, url)
            public_key = http.get(f"{url}/_sim/keys", timeout=30).json()["publicKey"]
            put = http.put(
                f"{url}/_sim/participants/{stub.client_id}",
                json=stub.participant(public_key),
                timeout=30,
            )
            assert put.status_code == 200, put.text
            orders = [
                http.post(
                    f"{url}/_sim/orders",
                    json={
                        "clientId": stub.client_id,
                        "amount": {"currency": "KRW", "value": "1000"},
                    },
                    timeout=30,
                ).json()["paymentRequestId"]
                for _ in range(ORDERS)
            ]
            answers: list[int] = []

            def advance() -> None:
                response = http.post(
                    f"{url}/_sim/clock/advance", json={"to": "2026-01-05T03:10:45Z"}, timeout=120
                )
                answers.append(response.status_code)

            racers = [threading.Thread(target=advance) for _ in range(4)]
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join(timeout=180)
            assert answers == [200] * 4
            # Expiry at 600 s, then attempts at 600, 610 and 640 s: three per order, no more.
            cancels = stub.calls_to("cancelPayment")
            per_order = Counter(call.body["paymentRequestId"] for call in cancels)
            assert per_order == dict.fromkeys(orders, 3)
            assert (
                http.get(f"{url}/_sim/clock", timeout=30)
                .json()["now"]
                .startswith("2026-01-05T03:10:45")
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
