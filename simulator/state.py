"""The one object that holds a simulator instance's state (moto's backend, in Flask terms)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Engine

from simulator.config import SimConfig


@dataclass
class Sim:
    """Everything one app instance owns. Each area's `init_app` fills in its own attribute."""

    config: SimConfig
    engine: Engine
    clock: Any = None  # simulator.clock.Clock
    keys: Any = None  # simulator.keys.KeyStore
    journal: Any = None  # simulator.journal.Journal
    scheduler: Any = None  # simulator.scheduler.Scheduler
    payments: Any = None  # simulator.payments.PaymentEngine


def current() -> Sim:
    """The Sim of the app handling the current request."""
    return current_app.extensions["aplus_sim"]
