"""Shared helpers for part 2: a simulator on the virtual clock wired to a wallet stub."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts import signing
from simulator import create_app, pricing
from tests.support.wallet_stub import WalletStub

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 11:00 in UTC+8
TIMEOUT = 1.0  # the simulator's outbound timeouts in these tests (seconds)

# Our own small demo data, so the tests do not depend on the shipped fixtures' values.
MERCHANTS = {
    "merchants": [
        {
            "referenceMerchantId": "M-PART2",
            "merchantName": "Part Two Shop",
            "merchantMCC": "5651",
            "merchantAddress": {"region": "JP", "city": "Tokyo"},
        }
    ]
}
FX_RATES = {"rates": [{"pair": "JPY/KRW", "price": "9.05000000"}]}
PROMOTIONS = {
    "promotions": [
        {"promoId": "P-10PCT", "promoName": "10% off", "percent": "10"},
    ]
}


@contextmanager
def demo_data(directory: Path) -> Iterator[None]:
    """Point the pricing module at our demo data for the duration of the block."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("merchants.json", MERCHANTS),
        ("fx_rates.json", FX_RATES),
        ("promotions.json", PROMOTIONS),
    ):
        (directory / name).write_text(json.dumps(data), encoding="utf-8")
    caches = (pricing.merchants, pricing.fx_rates, pricing.promotions)
    saved = pricing.DEMO
    pricing.DEMO = directory
    for cached in caches:
        cached.cache_clear()
    try:
        yield
    finally:
        pricing.DEMO = saved
        for cached in caches:
            cached.cache_clear()


@dataclass
class Env:
    """A simulator (virtual clock) and the wallet stub it calls."""

    app: Any
    sim: Any
    client: Any
    stub: WalletStub
    settings: dict[str, Any]

    def restart(self) -> None:
        """A new simulator process on the same data directory (the old one is dropped)."""
        self.app = create_app({**self.settings, "clock_start": ""})
        self.sim = self.app.extensions["aplus_sim"]
        self.client = self.app.test_client()

    # -- the merchant side -------------------------------------------------------------------------

    def create_order(self, **params: Any) -> dict[str, Any]:
        """POST /_sim/orders for the stub wallet; the answer."""
        body = {"clientId": self.stub.client_id, "amount": {"currency": "JPY", "value": "1000"}}
        body.update(params)
        response = self.client.post("/_sim/orders", json=body)
        assert response.status_code == 201, response.json
        return response.json

    def payment(self, payment_request_id: str) -> dict[str, Any]:
        """GET /_sim/payments/<id>."""
        response = self.client.get(f"/_sim/payments/{payment_request_id}")
        assert response.status_code == 200, response.json
        return response.json

    def advance(self, seconds: float) -> dict[str, Any]:
        """POST /_sim/clock/advance."""
        response = self.client.post("/_sim/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.json
        return response.json

    def refund(self, payment_request_id: str, value: str | None, **extra: Any):
        """POST /_sim/payments/<id>/refunds; the raw response."""
        body: dict[str, Any] = dict(extra)
        if value is not None:
            body["amount"] = {"currency": "JPY", "value": value}
        return self.client.post(f"/_sim/payments/{payment_request_id}/refunds", json=body)

    # -- the wallet side (signed with the stub's key) ----------------------------------------------

    def wallet_call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        """A signed call from the stub wallet to the simulator's Alipay+ API."""
        path = {
            "userInitiatedPay": "/aps/api/v1/payments/userInitiatedPay",
            "notifyPayment": "/aps/api/v1/payments/notifyPayment",
        }[api]
        raw = json.dumps(body).encode()
        headers = signing.signed_request_headers(
            self.stub.private_key, self.stub.client_id, path, raw, self.sim.clock.now()
        )
        response = self.client.post(path, data=raw, headers=headers)
        assert response.status_code == 200
        return response.json

    def decode(self, order: dict[str, Any], customer_id: str = "user-1") -> dict[str, Any]:
        """userInitiatedPay for the order's code; asserts success."""
        answer = self.wallet_call(
            "userInitiatedPay", {"codeValue": order["codeValue"], "customerId": customer_id}
        )
        assert answer["result"]["resultStatus"] == "S", answer
        return answer

    def notify(self, decoded: dict[str, Any], status: str = "S", code: str = "SUCCESS"):
        """notifyPayment with the decoded amounts; the answer."""
        body: dict[str, Any] = {
            "paymentRequestId": decoded["paymentRequestId"],
            "paymentResult": {"resultStatus": status, "resultCode": code, "resultMessage": code},
            "paymentAmount": decoded["paymentAmount"],
            "payToAmount": decoded["payToAmount"],
            "customerId": "user-1",
        }
        if decoded.get("paymentPromoInfo"):
            body["paymentPromoInfo"] = decoded["paymentPromoInfo"]
        if status == "S":
            body["paymentId"] = "WALLETPAY" + decoded["paymentRequestId"][-8:]
            body["paymentTime"] = signing.format_time(self.sim.clock.now())
        return self.wallet_call("notifyPayment", body)

    def pay(self, **order_params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create, decode and notify S: a successful payment (order, decoded answer)."""
        order = self.create_order(**order_params)
        decoded = self.decode(order)
        assert self.notify(decoded)["result"]["resultStatus"] == "S"
        return order, decoded

    def outbound(self, api: str | None = None, payment_request_id: str | None = None):
        """The journal's outbound entries, oldest first."""
        entries = self.sim.journal.query(api=api, payment_request_id=payment_request_id, limit=1000)
        return [e for e in reversed(entries) if e["direction"] == "outbound"]


@contextmanager
def environment(
    tmp_path: Path, wallet_currency: str = "JPY", key_files: Path | None = None, **config: Any
) -> Iterator[Env]:
    """A simulator on a virtual clock at T0 calling a fresh wallet stub on loopback.

    `key_files`: a keys folder to copy in (tests/simulator/conftest.py's session fixture), so
    the simulator does not generate RSA keys for every test.
    """
    if key_files is not None:
        shutil.copytree(key_files, tmp_path / "sim" / "keys")
    stub = WalletStub(wallet_currency=wallet_currency)
    settings: dict[str, Any] = {
        "data_dir": tmp_path / "sim",
        "clock": "virtual",
        "clock_start": T0.isoformat(),
        "run_scheduler": False,
        "testing": True,
        "inquiry_timeout": TIMEOUT,
        "cancel_timeout": TIMEOUT,
        "refund_timeout": TIMEOUT,
    }
    settings.update(config)
    with demo_data(tmp_path / "demo"), stub.serving():
        app = create_app(settings)
        sim = app.extensions["aplus_sim"]
        client = app.test_client()
        put = client.put(
            f"/_sim/participants/{stub.client_id}",
            json=stub.participant(sim.keys.public_key_base64),
        )
        assert put.status_code == 200, put.json
        yield Env(app, sim, client, stub, settings)


def offsets(times: list[str], start: datetime) -> list[float]:
    """Seconds from `start` for each ISO time."""
    return [
        round((datetime.fromisoformat(t).astimezone(UTC) - start) / timedelta(seconds=1), 3)
        for t in times
    ]
