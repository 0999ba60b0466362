"""Configuration of one reference-wallet instance (also read from MPP_REF_* environment variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import mpp_reference.defects as defects

DEFAULT_CLIENT_ID = "SANDBOX_APLUS_SIM_MPP_01"


def _floats(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        return tuple(float(x) for x in value.split(",") if x.strip())
    return tuple(float(x) for x in value)


@dataclass
class WalletConfig:
    """Everything a wallet instance needs; `create_app` takes one (or a dict of its fields)."""

    data_dir: Path = field(default_factory=lambda: Path(".mpp-wallet"))
    # Any SQLAlchemy URL; empty means a SQLite file in data_dir.
    db_url: str = ""
    # Base URL of Alipay+ (the simulator): the wallet calls /aps/api/v1/... there.
    alipay_url: str = "http://127.0.0.1:8360"
    # This wallet's own public base URL (its home page is where scanned payments return to).
    public_url: str = "http://127.0.0.1:8361"
    client_id: str = DEFAULT_CLIENT_ID
    wallet_currency: str = "KRW"
    # Follow another server's clock (GET returning {"now": ISO 8601}); empty: real time.
    clock_url: str = ""
    # Alipay+'s public key (PEM or bare base64). Empty: fetched once from {alipay_url}/_sim/keys.
    alipay_public_key: str = ""
    # The wallet's private key (PEM or bare base64). Empty: generated on first start and saved
    # in data_dir/keys/wallet_private_key.pem.
    private_key: str = ""
    # Demo users: a JSON file; empty means fixtures/demo/users.json if present, else Faker.
    users_file: str = ""
    user_seed: int = 20251128
    user_count: int = 10
    # Timeouts the spec asks the MPP to use (seconds).
    decode_timeout: float = 8.0
    notify_timeout: float = 5.0
    rules_timeout: float = 5.0
    # Waits between attempts of a userInitiatedPay answered U or not answered (the user waits).
    decode_backoff: tuple[float, ...] = (0.5, 1.0, 2.0)
    # Waits between notifyPayment attempts; the last one repeats until notify_give_up_seconds.
    notify_backoff: tuple[float, ...] = (5.0, 30.0, 60.0, 300.0, 600.0)
    notify_give_up_seconds: float = 86_400.0
    # Code-rule refresh period (the server SDK uses 30 min; the docs ask for at least daily).
    rules_refresh_seconds: int = 1800
    # Deliver the notifyPayment outbox from a background thread (served wallet). Tests run it
    # explicitly with `wallet.outbox.run_due()`.
    run_outbox: bool = True
    # The automation endpoint POST /_mpp/driver/pay (a real wallet would not expose it).
    driver_enabled: bool = True
    testing: bool = False
    # Where notifyPayment goes when a decode gives no paymentNotifyUrl (the default URL the
    # Alipay+ Solution Architect gives). Empty: {alipay_url}/aps/api/v1/payments/notifyPayment.
    notify_url: str = ""
    # Deliberate mistakes for mutation tests (mpp_reference/defects.py), comma-separated.
    # Also read from APLUS_MPP_DEFECT. Empty: the wallet is correct.
    defect: str = ""
    # Signs the session cookie (who is signed in); empty: generated once, kept in data_dir/keys.
    secret_key: str = ""

    @classmethod
    def from_any(cls, value: WalletConfig | dict[str, Any] | None) -> WalletConfig:
        """Build a config from a WalletConfig, a dict of field names, or MPP_REF_* variables."""
        if isinstance(value, WalletConfig):
            return value
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"MPP_REF_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        if os.environ.get("APLUS_MPP_DEFECT") and "defect" not in values:
            values["defect"] = os.environ["APLUS_MPP_DEFECT"]
        for key, item in (value or {}).items():
            if key not in known:
                raise ValueError(f"unknown wallet setting {key!r}; known: {sorted(known)}")
            values[key] = item
        cfg = cls(**values)
        cfg.data_dir = Path(cfg.data_dir)
        for name in ("decode_timeout", "notify_timeout", "rules_timeout", "notify_give_up_seconds"):
            setattr(cfg, name, float(getattr(cfg, name)))
        for name in ("user_seed", "user_count", "rules_refresh_seconds"):
            setattr(cfg, name, int(getattr(cfg, name)))
        cfg.decode_backoff = _floats(cfg.decode_backoff)
        cfg.notify_backoff = _floats(cfg.notify_backoff) or (60.0,)
        for flag in ("run_outbox", "driver_enabled", "testing"):
            if isinstance(getattr(cfg, flag), str):
                setattr(cfg, flag, getattr(cfg, flag).lower() in ("1", "true", "yes", "on"))
        cfg.alipay_url = cfg.alipay_url.rstrip("/")
        cfg.public_url = cfg.public_url.rstrip("/")
        cfg.wallet_currency = cfg.wallet_currency.upper()
        cfg.defect = ",".join(sorted(defects.parse(cfg.defect)))
        return cfg

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in use."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'wallet.db').resolve()}"
