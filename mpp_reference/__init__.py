"""A complete, correct reference wallet (MPP) for Alipay+ Cashier Payment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from mpp_reference.alipay_client import AlipayPlusClient
from mpp_reference.api import bp as aps_blueprint
from mpp_reference.automation import bp as automation_blueprint
from mpp_reference.clock import Clock, RealClock, RemoteClock
from mpp_reference.config import WalletConfig
from mpp_reference.db import make_engine, metadata
from mpp_reference.identification import Identifier
from mpp_reference.keys import AlipayPublicKey, load_or_create_private_key, session_secret
from mpp_reference.ledger import FIXTURE_USERS, Ledger, User, faker_users, load_user_file
from mpp_reference.outbox import Outbox
from mpp_reference.pages import bp as pages_blueprint
from mpp_reference.wallet import Wallet

__all__ = ["Wallet", "WalletConfig", "create_app"]


def initial_users(cfg: WalletConfig) -> list[User]:
    """The demo users: the configured file, else fixtures/demo/users.json, else Faker."""
    path = Path(cfg.users_file) if cfg.users_file else FIXTURE_USERS
    if path.exists():
        found = load_user_file(path, cfg.wallet_currency)
        if found:
            return found
    return faker_users(cfg.user_count, cfg.user_seed, cfg.wallet_currency)


def create_app(
    config: WalletConfig | dict[str, Any] | None = None, *, clock: Clock | None = None
) -> Flask:
    """Build a wallet app from a WalletConfig, a dict of its fields, or MPP_REF_* variables."""
    cfg = WalletConfig.from_any(config)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or (RemoteClock(cfg.clock_url) if cfg.clock_url else RealClock())
    app = Flask(__name__)
    app.config["TESTING"] = cfg.testing
    app.secret_key = session_secret(cfg.data_dir, cfg.secret_key)
    engine = make_engine(cfg.database_url)
    metadata.create_all(engine)
    private_key = load_or_create_private_key(cfg.data_dir, cfg.private_key)
    alipay_key = AlipayPublicKey(cfg.alipay_public_key, cfg.alipay_url)
    client = AlipayPlusClient(cfg.alipay_url, cfg.client_id, private_key, alipay_key, clock)
    outbox = Outbox(
        engine,
        client,
        clock,
        cfg.notify_timeout,
        cfg.notify_backoff,
        cfg.notify_give_up_seconds,
        cfg,
    )
    ledger = Ledger(engine)
    ledger.seed(initial_users(cfg))
    identifier = Identifier(
        client.rules_fetcher(cfg.rules_timeout),
        cfg.client_id,
        cfg.data_dir / "code_rules",
        cfg.rules_refresh_seconds,
        clock,
    )
    wallet = Wallet(cfg, engine, clock, ledger, client, outbox, identifier)
    wallet.private_key = private_key
    wallet.alipay_public_key = alipay_key
    app.extensions["mpp_reference"] = wallet

    app.register_blueprint(aps_blueprint)
    app.register_blueprint(pages_blueprint)
    app.register_blueprint(automation_blueprint)
    if cfg.run_outbox:
        outbox.start()
    return app
