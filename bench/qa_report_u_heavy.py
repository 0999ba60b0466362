"""The reference wallet under a U-heavy rule set: the conformance report it earns.

The simulator (virtual clock) and the reference wallet run on loopback. Rules make Alipay+ answer
U to decodes and notifications (some after committing, some dropped after committing), send its
inquiries and cancels twice, and a few F codes on decode; then ten cashier payments, two merchant
closes and a refund run through the wallet's driver endpoint. The clock moves through
`POST /_sim/clock/advance` and the wallet's outbox is run on the same clock, so the whole story
takes seconds. Prints the report (GET /_sim/report) as text, then its summary as JSON.

    .venv/bin/python bench/qa_report_u_heavy.py
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mpp_reference  # noqa: E402
import simulator  # noqa: E402
from simulator import report  # noqa: E402
from tests.e2e.pair import SimClock  # noqa: E402
from tests.support.live_server import live_server  # noqa: E402

RULES = [
    # half of all decodes: committed, then answered U (the wallet must retry identically)
    {
        "api": "userInitiatedPay",
        "effect": {"kind": "commit_then_result"},
        "probability": 0.5,
        "seed": 1,
    },
    # the first two remaining decodes: U without state (traffic limit)
    {
        "api": "userInitiatedPay",
        "effect": {
            "kind": "result",
            "resultStatus": "U",
            "resultCode": "REQUEST_TRAFFIC_EXCEED_LIMIT",
        },
        "times": 2,
    },
    # notifications: one committed and dropped, then half committed and answered U
    {"api": "notifyPayment", "effect": {"kind": "commit_then_drop", "seconds": 2}, "times": 1},
    {
        "api": "notifyPayment",
        "effect": {"kind": "commit_then_result"},
        "probability": 0.5,
        "seed": 2,
    },
    # Alipay+'s own calls: inquiries and cancels sent twice, one inquiry for an unknown payment
    {"api": "inquiryPayment", "direction": "outbound", "effect": {"kind": "duplicate"}, "times": 3},
    {
        "api": "inquiryPayment",
        "direction": "outbound",
        "effect": {"kind": "unknown_inquiry"},
        "times": 1,
    },
    {"api": "cancelPayment", "direction": "outbound", "effect": {"kind": "duplicate"}},
    # one F on decode for a given amount (the wallet must stop)
    {
        "api": "userInitiatedPay",
        "match": {"amount": "1300"},
        "effect": {"kind": "result", "resultCode": "USER_AMOUNT_EXCEED_LIMIT"},
    },
]


def main() -> int:
    """Run the story; print the report."""
    started = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("mpp_reference").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        sim_app = simulator.create_app(
            {"data_dir": Path(tmp) / "sim", "clock": "virtual", "run_scheduler": False}
        )
        sim = sim_app.extensions["aplus_sim"]
        with live_server(sim_app) as sim_server:
            sim.config.base_url = sim_server.url
            wallet_app = mpp_reference.create_app(
                {
                    "data_dir": Path(tmp) / "wallet",
                    "alipay_url": sim_server.url,
                    "alipay_public_key": sim.keys.public_key_base64,
                    "client_id": sim.config.default_client_id,
                    "run_outbox": False,
                    "decode_timeout": 0.5,
                    "notify_timeout": 0.5,
                },
                clock=SimClock(sim),
            )
            wallet = wallet_app.extensions["mpp_reference"]
            with live_server(wallet_app) as wallet_server:
                base = wallet_server.url
                health = requests.get(f"{base}/_mpp/health", timeout=10).json()
                put = requests.put(
                    f"{sim_server.url}/_sim/participants/{sim.config.default_client_id}",
                    json={
                        "publicKey": health["publicKey"],
                        "walletCurrency": health["walletCurrency"],
                        "cashierUrl": f"{base}/cashier",
                        "inquiryPaymentUrl": f"{base}/aps/api/v1/payments/inquiryPayment",
                        "cancelPaymentUrl": f"{base}/aps/api/v1/payments/cancelPayment",
                        "refundUrl": f"{base}/aps/api/v1/payments/refund",
                    },
                    timeout=10,
                )
                put.raise_for_status()
                _story(sim_server.url, base, wallet)
                found = report.build(sim, sim.config.default_client_id)
        sim.faults.shutdown.set()
    print(report.render_text(found))
    print()
    print(json.dumps({"summary": found["summary"], "exchanges": found["entries"]}))
    print(f"# {time.perf_counter() - started:.1f} s (virtual clock)", file=sys.stderr)
    return 0


def _story(sim_url: str, wallet_url: str, wallet) -> None:
    requests.post(f"{sim_url}/_sim/seed", json={"seed": 42}, timeout=10).raise_for_status()
    for rule in RULES:
        requests.post(f"{sim_url}/_sim/faults", json=rule, timeout=10).raise_for_status()

    def advance(seconds: float) -> None:
        requests.post(
            f"{sim_url}/_sim/clock/advance", json={"seconds": seconds}, timeout=60
        ).raise_for_status()
        wallet.outbox.run_due()

    paid = []
    for number, value in enumerate(
        ("1000", "1200", "1300", "1500", "1700", "2000", "2100", "2300", "2500", "2700")
    ):
        order = requests.post(
            f"{sim_url}/_sim/orders",
            json={"amount": {"currency": "JPY", "value": value}},
            timeout=10,
        ).json()
        action = "cancel" if number == 4 else "confirm"
        state = requests.post(
            f"{wallet_url}/_mpp/driver/pay",
            json={"codeValue": order["codeValue"], "customerId": "u_10001", "action": action},
            timeout=60,
        ).json()
        if state.get("status") == "SUCCESS":
            paid.append(order["paymentRequestId"])
        advance(5)
    # a merchant close of an order the user never opened, and a refund of the first payment
    order = requests.post(
        f"{sim_url}/_sim/orders", json={"amount": {"currency": "JPY", "value": "900"}}, timeout=10
    ).json()
    requests.post(
        f"{sim_url}/_sim/payments/{order['paymentRequestId']}/cancel", json={}, timeout=10
    )
    if paid:
        requests.post(
            f"{sim_url}/_sim/payments/{paid[0]}/refunds",
            json={"amount": {"currency": "JPY", "value": "500"}},
            timeout=10,
        )
    for _ in range(8):
        advance(60)
    advance(900)  # every order expired or final; every outbox row delivered


if __name__ == "__main__":
    sys.exit(main())
