"""Fixtures: a scripted Alipay+ on loopback and a fresh wallet app with a fake clock per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from mpp_reference import create_app
from mpp_reference.clock import FakeClock
from tests.mpp_reference.fake_alipay import FakeAlipay
from tests.support.live_server import live_server


@dataclass
class Env:
    """One wallet under test and its Alipay+."""

    app: Any
    client: Any
    wallet: Any
    alipay: FakeAlipay
    clock: FakeClock

    def balance(self, customer_id: str) -> int:
        """A user's balance now."""
        return self.wallet.ledger.user(customer_id).balance

    def rich_user(self) -> str:
        """The user with the largest balance."""
        return max(self.wallet.ledger.users(), key=lambda u: u.balance).customer_id

    def poor_user(self) -> str:
        """The user with the smallest balance."""
        return min(self.wallet.ledger.users(), key=lambda u: u.balance).customer_id

    def driver(self, code_value: str, customer_id: str, action: str = "confirm") -> dict:
        """POST /_mpp/driver/pay and return its JSON."""
        answer = self.client.post(
            "/_mpp/driver/pay",
            json={"codeValue": code_value, "customerId": customer_id, "action": action},
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()


class _Swappable:
    """One WSGI server for the session; each test plugs its own FakeAlipay in."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def alipay_server() -> Iterator[tuple[Any, _Swappable]]:
    """A loopback server (port 0) whose app each test replaces."""
    holder = _Swappable()
    with live_server(holder) as server:
        yield server, holder


def build_env(tmp_path, alipay_server, **settings: Any) -> Env:
    """A wallet (KRW, Faker users) talking to a FakeAlipay served on 127.0.0.1, port 0;
    `settings` are extra WalletConfig fields (e.g. defect=...)."""
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    alipay = FakeAlipay(clock)
    server, holder = alipay_server
    holder.app = alipay.app
    alipay.base_url = server.url
    app = create_app(
        {
            "data_dir": tmp_path / "wallet",
            "alipay_url": server.url,
            "alipay_public_key": alipay.public_key_base64,
            "run_outbox": False,
            "testing": True,
            "users_file": str(tmp_path / "no-such-users.json"),
            **settings,
        },
        clock=clock,
    )
    wallet = app.extensions["mpp_reference"]
    alipay.wallet_public_key = wallet.private_key.public_key()
    alipay.client_id = wallet.config.client_id
    return Env(app, app.test_client(), wallet, alipay, clock)


@pytest.fixture
def env(tmp_path, alipay_server) -> Iterator[Env]:
    """A correct wallet and its scripted Alipay+."""
    yield build_env(tmp_path, alipay_server)


@pytest.fixture
def make_env(tmp_path, alipay_server) -> Callable[..., Env]:
    """Build a wallet with extra settings: `make_env(defect="no_retry_on_u")`. One per test
    at a time (they share the loopback Alipay+ server)."""
    count = 0

    def make(**settings: Any) -> Env:
        nonlocal count
        count += 1
        return build_env(tmp_path / f"w{count}", alipay_server, **settings)

    return make
