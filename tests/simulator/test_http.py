"""End to end over real HTTP on loopback, and concurrent duplicates from several threads.

The concurrency tests run two app instances on one database (as two worker processes would)
and release 20 requests at once with a barrier.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from contracts import money, signing, validate
from simulator.events import Event
from tests.simulator.conftest import PATHS, make_app, notify_body
from tests.support.live_server import live_server


class HttpWallet:
    """A wallet talking to the simulator over HTTP, checking every answer's signature."""

    def __init__(self, base_url: str, sim: Any) -> None:
        self.base_url = base_url
        self.sim = sim
        self.client_id = sim.config.default_client_id
        self.private_key = sim.keys.default_mpp_private_key()

    def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        path = PATHS[api]
        raw = json.dumps(body, indent=3).encode()
        headers = signing.signed_request_headers(
            self.private_key, self.client_id, path, raw, self.sim.clock.now()
        )
        response = requests.post(self.base_url + path, data=raw, headers=headers, timeout=30)
        assert response.status_code == 200
        signing.verify_headers(
            self.sim.keys.public_key,
            path,
            response.headers,
            response.content,
            time_header="Response-Time",
        )
        answer = response.json()
        assert validate(api, "response", answer) == [], answer
        return answer


@pytest.fixture
def served(app, sim) -> Iterator[tuple[str, Any]]:
    """The app on 127.0.0.1 (port 0), its base URL set as the simulator's public URL."""
    with live_server(app) as server:
        sim.config.base_url = server.url
        yield server.url, sim


def create_order(base_url: str, **params: Any) -> dict[str, Any]:
    params.setdefault("amount", {"currency": "JPY", "value": "1000"})
    response = requests.post(f"{base_url}/_sim/orders", json=params, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def test_cashier_flow_end_to_end(served):
    base_url, sim = served
    wallet = HttpWallet(base_url, sim)
    order = create_order(base_url, amount={"currency": "KRW", "value": "15000"})
    rules = wallet.call("inquiryCodeRules", {})
    assert rules["result"]["resultStatus"] == "S" and rules["codeRules"]
    decoded = wallet.call("userInitiatedPay", {"codeValue": order["codeValue"], "customerId": "u1"})
    assert decoded["paymentRequestId"] == order["paymentRequestId"]
    assert decoded["paymentNotifyUrl"] == f"{base_url}/aps/api/v1/payments/notifyPayment"
    assert "paymentQuote" not in decoded
    ack = wallet.call("notifyPayment", notify_body(decoded, customerId="u1"))
    assert ack["result"]["resultCode"] == "SUCCESS"
    view = requests.get(f"{base_url}/_sim/payments/{order['paymentRequestId']}", timeout=30)
    body = view.json()
    assert body["status"] == "SUCCESS"
    assert [e["api"] for e in body["exchanges"]][-2:] == ["userInitiatedPay", "notifyPayment"]


def test_cashier_flow_with_fx_and_promotion(served):
    base_url, sim = served
    wallet = HttpWallet(base_url, sim)
    order = create_order(
        base_url, amount={"currency": "JPY", "value": "20000"}, promoId="PROMO-10PCT"
    )
    decoded = wallet.call("userInitiatedPay", {"codeValue": order["codeValue"], "customerId": "u1"})
    quote = decoded["paymentQuote"]
    assert quote["quoteCurrencyPair"] == "JPY/KRW"
    detail = decoded["paymentPromoInfo"]["paymentPromoDetails"][0]
    assert detail["promoId"] == "PROMO-10PCT"
    savings = int(detail["savingsAmount"]["value"])
    assert savings > 0
    gross = money.convert(20000, "JPY", "KRW", Decimal(quote["quotePrice"]), "JPY/KRW")
    assert int(decoded["payToAmount"]["value"]) == gross - savings
    # paymentAmount excludes the promotion; payToAmount = paymentAmount x quotePrice.
    paid = int(decoded["paymentAmount"]["value"])
    assert paid < 20000
    assert int(decoded["payToAmount"]["value"]) == money.convert(
        paid, "JPY", "KRW", Decimal(quote["quotePrice"]), "JPY/KRW"
    )
    ack = wallet.call("notifyPayment", notify_body(decoded, customerId="u1"))
    assert ack["result"]["resultCode"] == "SUCCESS"
    view = requests.get(f"{base_url}/_sim/payments/{order['paymentRequestId']}", timeout=30)
    assert view.json()["status"] == "SUCCESS"
    assert view.json()["paymentPromoInfo"] == decoded["paymentPromoInfo"]


@pytest.fixture
def worker_pair(tmp_path, key_files) -> Iterator[tuple[list[str], list[Any]]]:
    """Two app instances on one SQLite database, each served on loopback: URLs and Sims."""
    shutil.copytree(key_files, tmp_path / "sim" / "keys")
    first = make_app(tmp_path / "sim")
    second = make_app(tmp_path / "sim")
    with live_server(first) as one, live_server(second) as two:
        for app, server in ((first, one), (second, two)):
            app.extensions["aplus_sim"].config.base_url = server.url
        yield [one.url, two.url], [app.extensions["aplus_sim"] for app in (first, second)]


@pytest.fixture
def two_workers(worker_pair) -> tuple[list[str], Any]:
    """Two app instances on one SQLite database: their URLs and the first one's Sim."""
    urls, sims = worker_pair
    return urls, sims[0]


def _at_once(count: int, send) -> list[Any]:
    """Run send(i) in `count` threads released together; the answers in index order."""
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = send(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _signed_post(base_url: str, sim: Any, api: str, raw: bytes) -> requests.Response:
    path = PATHS[api]
    headers = signing.signed_request_headers(
        sim.keys.default_mpp_private_key(), sim.config.default_client_id, path, raw, sim.clock.now()
    )
    return requests.post(base_url + path, data=raw, headers=headers, timeout=60)


def test_twenty_identical_notifications_change_the_state_once(worker_pair):
    urls, sims = worker_pair
    sim = sims[0]
    finals: list[str] = []
    for worker in sims:  # each app announces its own transitions
        worker.events.on(Event.FINAL, lambda event: finals.append(event.payment_request_id))
    order = create_order(urls[0])
    decoded = HttpWallet(urls[0], sim).call(
        "userInitiatedPay", {"codeValue": order["codeValue"], "customerId": "u_10001"}
    )
    raw = json.dumps(notify_body(decoded)).encode()
    answers = _at_once(20, lambda i: _signed_post(urls[i % 2], sim, "notifyPayment", raw))
    bodies = {response.text for response in answers}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["result"]["resultCode"] == "SUCCESS"
    assert finals == [order["paymentRequestId"]]  # one state change
    notifications = sim.journal.query(api="notifyPayment", limit=100)
    assert len(notifications) == 20
    replays = [e for e in notifications if e["note"] and e["note"].startswith("replay")]
    assert len(replays) == 19


def test_twenty_customers_decoding_one_code_only_one_wins(two_workers):
    urls, sim = two_workers
    order = create_order(urls[0])

    def decode(index: int) -> dict[str, Any]:
        raw = json.dumps({"codeValue": order["codeValue"], "customerId": f"u_{index}"}).encode()
        return _signed_post(urls[index % 2], sim, "userInitiatedPay", raw).json()

    answers = _at_once(20, decode)
    codes = [answer["result"]["resultCode"] for answer in answers]
    assert codes.count("SUCCESS") == 1
    assert codes.count("REPEAT_REQ_INCONSISTENT") == 19
    winner = codes.index("SUCCESS")
    record = sim.payments.get_record(order["paymentRequestId"])
    assert record["customer_id"] == f"u_{winner}" and record["status"] == "DECODED"
