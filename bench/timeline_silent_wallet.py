"""The journal of one cashier payment with a silent wallet, on the virtual clock.

The wallet decodes the order and then never reports a result: its inquiryPayment answers are
always "still in process", and its first cancelPayment answer times out. Everything runs over real
HTTP on loopback (the simulator and a wallet stub, both on port 0); the virtual clock is moved
through `POST /_sim/clock/advance`, so the 10-minute story takes about a second.

    .venv/bin/python bench/timeline_silent_wallet.py

Prints the journal excerpt: offset from the decode, time (UTC+8), direction, API, outcome, note.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts import signing  # noqa: E402
from simulator import create_app  # noqa: E402
from tests.support.live_server import live_server  # noqa: E402
from tests.support.wallet_stub import WalletStub  # noqa: E402

UTC8 = timezone(timedelta(hours=8))
START = "2026-01-05T03:00:00+00:00"  # 11:00 UTC+8


def main() -> int:
    """Run the story and print the journal excerpt."""
    started = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the output
    stub = WalletStub(wallet_currency="KRW")
    with tempfile.TemporaryDirectory() as data_dir, stub.serving():
        app = create_app(
            {
                "data_dir": data_dir,
                "clock": "virtual",
                "clock_start": START,
                "run_scheduler": False,
                # Short timeouts so the wallet's silence costs little real time.
                "inquiry_timeout": 0.3,
                "cancel_timeout": 0.3,
                "refund_timeout": 0.3,
            }
        )
        sim = app.extensions["aplus_sim"]
        stub.set_default("inquiryPayment", stub.in_process())
        stub.script("cancelPayment", stub.timeout(), stub.s())
        with live_server(app) as server:
            http = requests.Session()
            http.trust_env = False
            base = server.url
            put = http.put(
                f"{base}/_sim/participants/{stub.client_id}",
                json=stub.participant(sim.keys.public_key_base64),
            )
            put.raise_for_status()
            order = http.post(
                f"{base}/_sim/orders",
                json={"clientId": stub.client_id, "amount": {"currency": "JPY", "value": "1000"}},
            ).json()
            # The wallet decodes the code (a signed userInitiatedPay), then says nothing more.
            path = "/aps/api/v1/payments/userInitiatedPay"
            body = json.dumps({"codeValue": order["codeValue"], "customerId": "silent-user"})
            headers = signing.signed_request_headers(
                stub.private_key, stub.client_id, path, body.encode(), sim.clock.now()
            )
            decoded = http.post(base + path, data=body.encode(), headers=headers).json()
            assert decoded["result"]["resultStatus"] == "S", decoded
            decoded_at = sim.clock.now()
            advanced = http.post(f"{base}/_sim/clock/advance", json={"seconds": 3600}).json()
            entries = http.get(
                f"{base}/_sim/journal",
                params={"paymentRequestId": order["paymentRequestId"], "limit": 100},
            ).json()["entries"]
            view = http.get(f"{base}/_sim/payments/{order['paymentRequestId']}").json()
            record = sim.payments.get_record(order["paymentRequestId"])

    print(f"paymentRequestId {order['paymentRequestId']}")
    print(
        f"order created and decoded at {decoded_at.astimezone(UTC8):%H:%M:%S} UTC+8, "
        f"paymentExpiryTime {order['paymentExpiryTime']}"
    )
    print()
    print(f"{'offset':>8}  {'UTC+8':8}  {'dir':3}  {'api':16}  {'outcome':28}  note")
    rows = []
    for entry in reversed(entries):
        when = datetime.fromisoformat(entry["time"]).astimezone(UTC)
        outcome = entry["error"] or f"{entry['result_status']} {entry['result_code']}"
        direction = "in" if entry["direction"] == "inbound" else "out"
        rows.append((when, direction, entry["api"], outcome, entry["note"] or ""))
    # The close itself is a state change, not an exchange: it comes from the payment record.
    closed_at = datetime.fromisoformat(record["final_at"]).astimezone(UTC)
    rows.append((closed_at, "--", "(order closed)", "CLOSED", record["close_reason"]))
    rows.sort(key=lambda row: (row[0], row[1] != "--"))
    for when, direction, api, outcome, note in rows:
        offset = (when - decoded_at).total_seconds()
        print(
            f"{offset:>7.0f}s  {when.astimezone(UTC8):%H:%M:%S}  {direction:3}  "
            f"{api:16}  {outcome[:28]:28}  {note}"
        )
    print()
    print(f"final status {view['status']} ({view['closeReason']})")
    print(f"jobs run by the clock advance: {advanced['jobsRun']}")
    print(f"wall time: {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
