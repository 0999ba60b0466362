"""Part 2 against the reference wallet (mpp_reference), both over real HTTP on loopback: the
wallet verifies every call the simulator makes and the simulator verifies every answer.

The simulator runs on the virtual clock; the wallet follows it through GET /_sim/clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import mpp_reference
from contracts import signing
from simulator import create_app
from tests.simulator.part2.helpers import T0
from tests.support.live_server import live_server

CLIENT_ID = "REF_WALLET_PART2"
USER = "u_10001"


@dataclass
class World:
    """The simulator and the reference wallet, each with its base URL."""

    sim: Any
    sim_url: str
    wallet: Any
    wallet_url: str
    http: requests.Session

    def post(self, url: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.http.post(url, json=body or {}, timeout=30)

    def get(self, url: str) -> dict[str, Any]:
        response = self.http.get(url, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        response = self.post(f"{self.sim_url}/_sim/clock/advance", {"seconds": seconds})
        assert response.status_code == 200, response.text

    def order(self, **params: Any) -> dict[str, Any]:
        body = {"clientId": CLIENT_ID, "amount": {"currency": "JPY", "value": "1000"}, **params}
        response = self.post(f"{self.sim_url}/_sim/orders", body)
        assert response.status_code == 201, response.text
        return response.json()

    def drive(self, code_value: str, action: str) -> dict[str, Any]:
        response = self.post(
            f"{self.wallet_url}/_mpp/driver/pay",
            {"codeValue": code_value, "customerId": USER, "action": action},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def deliver_notifications(self) -> None:
        self.wallet.extensions["mpp_reference"].outbox.run_due()

    def outbound(self, payment_request_id: str) -> list[dict[str, Any]]:
        entries = self.sim.journal.query(payment_request_id=payment_request_id, limit=500)
        return [e for e in reversed(entries) if e["direction"] == "outbound"]


@contextmanager
def world(tmp_path: Path) -> Iterator[World]:
    sim_app = create_app(
        {
            "data_dir": tmp_path / "sim",
            "clock": "virtual",
            "clock_start": T0.isoformat(),
            "run_scheduler": False,
            "testing": True,
        }
    )
    sim = sim_app.extensions["aplus_sim"]
    http = requests.Session()
    http.trust_env = False
    with live_server(sim_app) as sim_server:
        sim.config.base_url = sim_server.url
        wallet_app = mpp_reference.create_app(
            {
                "data_dir": tmp_path / "wallet",
                "alipay_url": sim_server.url,
                "alipay_public_key": sim.keys.public_key_base64,
                "client_id": CLIENT_ID,
                "clock_url": f"{sim_server.url}/_sim/clock",
                "run_outbox": False,
                "testing": True,
            }
        )
        with live_server(wallet_app) as wallet_server:
            wallet = wallet_app.extensions["mpp_reference"]
            wallet_url = wallet_server.url
            put = http.put(
                f"{sim_server.url}/_sim/participants/{CLIENT_ID}",
                json={
                    "publicKey": signing.public_key_base64(wallet.private_key),
                    "walletCurrency": "KRW",
                    "cashierUrl": f"{wallet_url}/cashier",
                    "inquiryPaymentUrl": f"{wallet_url}/aps/api/v1/payments/inquiryPayment",
                    "cancelPaymentUrl": f"{wallet_url}/aps/api/v1/payments/cancelPayment",
                    "refundUrl": f"{wallet_url}/aps/api/v1/payments/refund",
                },
                timeout=30,
            )
            assert put.status_code == 200, put.text
            yield World(sim, sim_server.url, wallet_app, wallet_url, http)


@pytest.fixture
def both(tmp_path):
    with world(tmp_path) as w:
        yield w


def assert_clean(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        assert entry["signature"] == "valid", entry
        assert entry["request_violations"] == [], entry
        assert entry["response_violations"] == [], entry
        assert entry["error"] is None, entry


def test_a_user_who_never_pays_is_polled_then_cancelled_at_expiry(both):
    order = both.order()
    opened = both.drive(order["codeValue"], "abandon")  # decoded, then the user walks away
    assert opened["problem"] is None, opened
    both.advance(3600)
    payment_request_id = order["paymentRequestId"]
    entries = both.outbound(payment_request_id)
    assert_clean(entries)
    assert [e["api"] for e in entries] == ["inquiryPayment"] * 7 + ["cancelPayment"]
    assert all(
        e["note"].startswith("poll") and "PAYMENT_IN_PROCESS" in e["note"] for e in entries[:7]
    )
    assert entries[-1]["result_code"] == "SUCCESS"
    view = both.get(f"{both.sim_url}/_sim/payments/{payment_request_id}")
    assert view["status"] == "CLOSED"
    wallet_view = both.get(f"{both.wallet_url}/_mpp/payments/{payment_request_id}")
    assert wallet_view["status"] in ("CANCELLED", "CLOSED"), wallet_view


def test_a_lost_notification_is_found_by_inquiry_and_refunded_in_two_parts(both):
    order = both.order()
    paid = both.drive(order["codeValue"], "confirm")  # debited; the notification stays queued
    balance_after_payment = paid["balance"]
    payment_request_id = order["paymentRequestId"]
    both.advance(5)  # the first poll finds the success
    view = both.get(f"{both.sim_url}/_sim/payments/{payment_request_id}")
    assert view["status"] == "SUCCESS"
    assert view["paymentId"]
    both.deliver_notifications()  # the late notification is a harmless replay

    for value in ("400", "600"):
        response = both.post(
            f"{both.sim_url}/_sim/payments/{payment_request_id}/refunds",
            {"amount": {"currency": "JPY", "value": value}},
        )
        assert response.status_code == 202, response.text
    both.advance(0)
    refunds = both.get(f"{both.sim_url}/_sim/payments/{payment_request_id}")["refunds"]
    assert [r["status"] for r in refunds] == ["SUCCESS", "SUCCESS"]
    assert sum(int(r["refundFromAmount"]["value"]) for r in refunds) == int(
        view["payToAmount"]["value"]
    )
    assert_clean(both.outbound(payment_request_id))
    users = both.get(f"{both.wallet_url}/_mpp/users")["users"]
    balance = next(u["balance"] for u in users if u["customerId"] == USER)
    assert balance == balance_after_payment + int(view["payToAmount"]["value"])
