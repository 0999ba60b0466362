"""Shared fixtures for the simulator's tests: a fresh app per test and a signing wallet."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from contracts import signing
from simulator import create_app
from tests.support.live_server import live_server

START = "2025-01-01T12:00:00+08:00"
PATHS = {
    "inquiryCodeRules": "/aps/api/v1/codes/inquiryCodeRules",
    "userInitiatedPay": "/aps/api/v1/payments/userInitiatedPay",
    "notifyPayment": "/aps/api/v1/payments/notifyPayment",
}


def make_app(data_dir: Any, **settings: Any) -> Flask:
    """A simulator with a virtual clock and no background scheduler, storing in `data_dir`."""
    config = {
        "data_dir": data_dir,
        "clock": "virtual",
        "clock_start": START,
        "run_scheduler": False,
        "testing": True,
        "base_url": "http://sim.test",
        "default_wallet_url": "http://wallet.test",
    }
    config.update(settings)
    return create_app(config)


@pytest.fixture(scope="session")
def key_files(tmp_path_factory) -> Path:
    """Key files made once per session (RSA key generation is slow), copied into each app."""
    template = tmp_path_factory.mktemp("sim-keys")
    make_app(template).extensions["aplus_sim"].engine.dispose()
    return template / "keys"


@pytest.fixture
def app(tmp_path, key_files) -> Iterator[Flask]:
    """A fresh simulator app (fresh database; keys copied from the session's key files)."""
    shutil.copytree(key_files, tmp_path / "sim" / "keys")
    application = make_app(tmp_path / "sim")
    yield application
    application.extensions["aplus_sim"].engine.dispose()


@pytest.fixture
def sim(app):
    """The app's Sim (config, engine, clock, keys, journal, payments)."""
    return app.extensions["aplus_sim"]


@pytest.fixture
def server(app, sim):
    """The app served over HTTP on loopback (its base_url set); held connections end with it."""
    with live_server(app) as running:
        sim.config.base_url = running.url
        yield running
        sim.faults.shutdown.set()  # a held connection ends with the server


@pytest.fixture
def client(app):
    """Flask's test client."""
    return app.test_client()


@dataclass
class Answer:
    """One answer of the simulator, its signature already checked."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    text: str

    @property
    def result(self) -> dict[str, str]:
        """The `result` object."""
        return self.body["result"]

    @property
    def code(self) -> str:
        """result.resultCode."""
        return self.body["result"]["resultCode"]


class Wallet:
    """A wallet that signs its requests like the SDKs and verifies every answer's signature."""

    def __init__(self, app: Flask, client_id: str | None = None, private_key: Any = None):
        self.app = app
        self.sim = app.extensions["aplus_sim"]
        self.client = app.test_client()
        self.client_id = client_id or self.sim.config.default_client_id
        self.private_key = private_key or self.sim.keys.default_mpp_private_key()

    def headers(self, path: str, raw: bytes) -> dict[str, str]:
        """Signed request headers for `raw` to `path`, at the simulator's clock time."""
        return signing.signed_request_headers(
            self.private_key, self.client_id, path, raw, self.sim.clock.now()
        )

    def send(
        self,
        path: str,
        raw: bytes,
        headers: dict[str, str],
        method: str = "POST",
        verify: bool = True,
    ) -> Answer:
        """Send exact bytes and headers; check the answer is signed as the SDKs expect."""
        response = self.client.open(path, method=method, data=raw, headers=headers)
        text = response.get_data(as_text=True)
        names = [name for name, _ in response.headers.items()]
        if verify:
            for name in ("signature", "response-time", "client-id"):
                assert name in names, f"response header {name!r} missing (lower case): {names}"
            signing.verify_headers(
                self.sim.keys.public_key,
                path,
                dict(response.headers.items()),
                response.get_data(),
                time_header="Response-Time",
            )
        assert response.status_code == 200, text
        return Answer(response.status_code, dict(response.headers.items()), json.loads(text), text)

    def call(self, api: str, body: dict[str, Any] | None = None, indent: int | None = 3) -> Answer:
        """POST `body` (serialised like the Python SDK, indent=3) to `api`, signed."""
        path = PATHS.get(api, api)
        raw = json.dumps(body or {}, indent=indent, ensure_ascii=False).encode()
        return self.send(path, raw, self.headers(path, raw))

    def decode(self, code_value: str, customer_id: str = "u_10001") -> Answer:
        """userInitiatedPay."""
        return self.call("userInitiatedPay", {"codeValue": code_value, "customerId": customer_id})

    def notify(self, decoded: dict[str, Any], status: str = "S", **changes: Any) -> Answer:
        """notifyPayment echoing a decode answer (S: SUCCESS, F: USER_BALANCE_NOT_ENOUGH)."""
        return self.call("notifyPayment", notify_body(decoded, status, **changes))


def notify_body(decoded: dict[str, Any], status: str = "S", **changes: Any) -> dict[str, Any]:
    """The notifyPayment a correct wallet sends after a decode answer."""
    code = "SUCCESS" if status == "S" else "USER_BALANCE_NOT_ENOUGH"
    body: dict[str, Any] = {
        "paymentResult": {"resultCode": code, "resultStatus": status, "resultMessage": code},
        "paymentRequestId": decoded["paymentRequestId"],
        "paymentAmount": decoded["paymentAmount"],
        "payToAmount": decoded["payToAmount"],
        "customerId": changes.pop("customerId", "u_10001"),
    }
    if status == "S":
        body["paymentId"] = "W" + decoded["paymentRequestId"][-20:]
        body["paymentTime"] = "2025-01-01T12:01:00+08:00"
    if decoded.get("paymentPromoInfo"):
        body["paymentPromoInfo"] = decoded["paymentPromoInfo"]
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def wallet(app) -> Wallet:
    """The default MPP, signing with its generated key."""
    return Wallet(app)


@pytest.fixture
def make_order(client):
    """Create an order through POST /_sim/orders; returns its JSON answer."""

    def create(**params: Any) -> dict[str, Any]:
        params.setdefault("amount", {"currency": "JPY", "value": "1000"})
        response = client.post("/_sim/orders", json=params)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create
