"""Configuration of one simulator instance."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_CLIENT_ID = "SANDBOX_APLUS_SIM_MPP_01"
# The documented inquiryPayment polling schedule (seconds after a successful decode, as gaps).
DEFAULT_INQUIRY_SCHEDULE = (4, 4, 30, 60, 60, 60, 300, 300)


@dataclass
class SimConfig:
    """Everything a simulator instance needs; `create_app` takes one (or a dict of its fields)."""

    data_dir: Path = field(default_factory=lambda: Path(".aplus-sim"))
    # Any SQLAlchemy URL; empty means a SQLite file in data_dir.
    db_url: str = ""
    # "real" or "virtual" (a virtual clock starts frozen and moves only when told).
    clock: str = "real"
    # ISO 8601 start time for a virtual clock; empty means "now".
    clock_start: str = ""
    # Public base URL of this simulator, used in paymentNotifyUrl and cashier links.
    base_url: str = "http://127.0.0.1:8360"
    default_client_id: str = DEFAULT_CLIENT_ID
    # Where the default MPP's pages and endpoints live (the reference wallet by default).
    default_wallet_url: str = "http://127.0.0.1:8361"
    journal_limit: int = 10_000
    inquiry_schedule: tuple[int, ...] = DEFAULT_INQUIRY_SCHEDULE
    # Timeouts the simulator applies when calling a wallet (seconds), as Alipay+ does.
    inquiry_timeout: float = 5.0
    cancel_timeout: float = 8.0
    refund_timeout: float = 8.0
    # Back-off between attempts of a cancelPayment or refund series (seconds; the last repeats).
    retry_backoff: tuple[int, ...] = (10, 30, 60, 120, 300, 600)
    # A refund with no final answer after this long is marked UNKNOWN (it still counts).
    give_up_seconds: float = 24 * 3600
    # Run due jobs in background threads (real clock). Tests with a virtual clock turn it off.
    run_scheduler: bool = True
    scheduler_threads: int = 4
    # Journal bodies longer than this many characters are cut with a marker.
    journal_body_limit: int = 65_536
    # How long a `drop` fault holds a connection before giving up on the client (seconds).
    drop_seconds: float = 30.0
    testing: bool = False

    @classmethod
    def from_any(cls, value: SimConfig | dict[str, Any] | None) -> SimConfig:
        """Build a config from a SimConfig, a dict of field names, or the APLUS_SIM_* environment."""
        if isinstance(value, SimConfig):
            return value
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"APLUS_SIM_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        for key, item in (value or {}).items():
            if key not in known:
                raise ValueError(f"unknown simulator setting {key!r}; known: {sorted(known)}")
            values[key] = item
        cfg = cls(**values)
        cfg.data_dir = Path(cfg.data_dir)
        cfg.journal_limit = int(cfg.journal_limit)
        cfg.inquiry_timeout = float(cfg.inquiry_timeout)
        cfg.cancel_timeout = float(cfg.cancel_timeout)
        cfg.refund_timeout = float(cfg.refund_timeout)
        cfg.give_up_seconds = float(cfg.give_up_seconds)
        cfg.scheduler_threads = int(cfg.scheduler_threads)
        cfg.journal_body_limit = int(cfg.journal_body_limit)
        cfg.drop_seconds = float(cfg.drop_seconds)
        for name in ("inquiry_schedule", "retry_backoff"):
            value = getattr(cfg, name)
            if isinstance(value, str):
                value = value.split(",")
            setattr(cfg, name, tuple(int(x) for x in value if str(x).strip()))
        for flag in ("run_scheduler", "testing"):
            if isinstance(getattr(cfg, flag), str):
                setattr(cfg, flag, getattr(cfg, flag).lower() in ("1", "true", "yes", "on"))
        if cfg.clock not in ("real", "virtual"):
            raise ValueError(f"clock must be 'real' or 'virtual', not {cfg.clock!r}")
        return cfg

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in use."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'aplus-sim.db').resolve()}"
