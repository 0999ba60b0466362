"""The `pair` fixture: the simulator and the reference wallet, each on 127.0.0.1 (port 0),
sharing the simulator's virtual clock.

Until the simulator's fault-injection control plane exists, a tiny WSGI middleware in front
of the simulator answers chosen Alipay+ calls with a signed `U` (see `Faults`).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import requests

import mpp_reference
import simulator
from contracts import signing
from tests.support.live_server import live_server


class SimClock:
    """The wallet's clock in these tests: the simulator's virtual time; sleeping only records."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The simulator's time."""
        return self.sim.clock.now()

    def sleep(self, seconds: float) -> None:
        """Record the back-off instead of waiting (the virtual clock does not move)."""
        self.sleeps.append(seconds)


@dataclass
class Faults:
    """WSGI middleware: answer the next N calls of an Alipay+ API with a signed U."""

    app: Any
    sim: Any
    pending: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seen: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))

    def __call__(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        api = path.rsplit("/", 1)[-1]
        if path.startswith("/aps/api/v1/payments/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            self.seen[api].append(raw)
            if self.pending[api] > 0:
                self.pending[api] -= 1
                body = json.dumps(
                    {
                        "result": {
                            "resultCode": "UNKNOWN_EXCEPTION",
                            "resultStatus": "U",
                            "resultMessage": "injected by the test",
                        }
                    }
                ).encode()
                client_id = environ.get("HTTP_CLIENT_ID", "")
                headers = signing.signed_response_headers(
                    self.sim.keys.private_key, client_id, path, body, self.sim.clock.now()
                )
                start_response("200 OK", list(headers.items()))
                return [body]
            import io

            environ["wsgi.input"] = io.BytesIO(raw)
        return self.app(environ, start_response)


@dataclass
class LostAnswers:
    """WSGI middleware in front of the wallet: it handles the next N calls of an API, but the
    answer is lost on the way back (Alipay+ sees an HTTP 502 without a result); or, for `slow`
    calls, the wallet starts on the request only after `delay` seconds (Alipay+ times out)."""

    app: Any
    pending: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    slow: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    delay: float = 0.6
    seen: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))

    def __call__(self, environ: dict, start_response: Any) -> Any:
        api = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
        if environ.get("PATH_INFO", "").startswith("/aps/"):
            import io

            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            self.seen[api].append(raw)
            environ["wsgi.input"] = io.BytesIO(raw)
            if self.slow[api] > 0:
                self.slow[api] -= 1
                time.sleep(self.delay)  # a slow wallet, beyond the caller's (tiny) timeout
            if self.pending[api] > 0:
                self.pending[api] -= 1
                answer = self.app(environ, lambda *args, **kwargs: None)
                b"".join(answer)  # the wallet did the work...
                start_response("502 Bad Gateway", [("Content-Type", "text/html")])
                return [b"<html>502 Bad Gateway</html>"]  # ...but its answer is lost
        return self.app(environ, start_response)


@dataclass
class Pair:
    """A running simulator and wallet, and helpers a test needs."""

    sim_url: str
    wallet_url: str
    sim: Any
    wallet: Any
    faults: Faults
    wallet_clock: SimClock
    lost: LostAnswers

    def order(self, **params: Any) -> dict[str, Any]:
        """POST /_sim/orders (the merchant creates a cashier order)."""
        answer = requests.post(f"{self.sim_url}/_sim/orders", json=params, timeout=10)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def drive(self, code_value: str, customer_id: str, action: str = "confirm") -> dict[str, Any]:
        """The wallet's driver endpoint, over HTTP."""
        answer = requests.post(
            f"{self.wallet_url}/_mpp/driver/pay",
            json={"codeValue": code_value, "customerId": customer_id, "action": action},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sim_payment(self, payment_request_id: str) -> dict[str, Any]:
        """GET /_sim/payments/<id>."""
        return requests.get(f"{self.sim_url}/_sim/payments/{payment_request_id}", timeout=10).json()

    def wallet_payment(self, payment_request_id: str) -> dict[str, Any]:
        """GET /_mpp/payments/<id> on the wallet."""
        answer = requests.get(f"{self.wallet_url}/_mpp/payments/{payment_request_id}", timeout=10)
        return answer.json()

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the virtual clock; due jobs (inquiries, cancels, refunds) run before it returns."""
        answer = requests.post(
            f"{self.sim_url}/_sim/clock/advance", json={"seconds": seconds}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def balance(self, customer_id: str) -> int:
        """A wallet user's balance."""
        return self.wallet.ledger.user(customer_id).balance


@pytest.fixture
def pair(tmp_path) -> Iterator[Pair]:
    """Simulator (virtual clock, scheduler driven by the clock) + wallet, registered together."""
    sim_app = simulator.create_app(
        {
            "data_dir": tmp_path / "sim",
            "clock": "virtual",
            "run_scheduler": False,
            "testing": True,
            "inquiry_timeout": 5.0,
        }
    )
    sim = sim_app.extensions["aplus_sim"]
    faults = Faults(sim_app.wsgi_app, sim)
    sim_app.wsgi_app = faults
    with live_server(sim_app) as sim_server:
        sim.config.base_url = sim_server.url
        clock = SimClock(sim)
        wallet_app = mpp_reference.create_app(
            {
                "data_dir": tmp_path / "wallet",
                "alipay_url": sim_server.url,
                "alipay_public_key": sim.keys.public_key_base64,
                "client_id": sim.config.default_client_id,
                "run_outbox": False,
                "testing": True,
            },
            clock=clock,
        )
        wallet = wallet_app.extensions["mpp_reference"]
        lost = LostAnswers(wallet_app.wsgi_app)
        wallet_app.wsgi_app = lost
        with live_server(wallet_app) as wallet_server:
            health = requests.get(f"{wallet_server.url}/_mpp/health", timeout=10).json()
            base = wallet_server.url
            registration = {
                "publicKey": health["publicKey"],
                "walletCurrency": health["walletCurrency"],
                "cashierUrl": f"{base}/cashier",
                "inquiryPaymentUrl": f"{base}/aps/api/v1/payments/inquiryPayment",
                "cancelPaymentUrl": f"{base}/aps/api/v1/payments/cancelPayment",
                "refundUrl": f"{base}/aps/api/v1/payments/refund",
                "signatureMode": "strict",
            }
            put = requests.put(
                f"{sim_server.url}/_sim/participants/{sim.config.default_client_id}",
                json=registration,
                timeout=10,
            )
            assert put.status_code == 200, put.text
            yield Pair(sim_server.url, wallet_server.url, sim, wallet, faults, clock, lost)
