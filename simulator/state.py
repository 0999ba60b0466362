"""The one object that holds a simulator instance's state (moto's backend, in Flask terms).

`create_app` builds a `Sim` from the config and the engine; each area's `init_app` then fills in
its own part (the clock, the keys, the journal, ...), in the order of `simulator.AREAS`. Every
part has its real type; the journal is typed by what the others use of it (`Journal` below),
because simulator/journal.py itself reads `current()` from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import Engine

from simulator.clock import Clock
from simulator.code_rules import CodeRuleStore
from simulator.config import SimConfig
from simulator.events import Events
from simulator.faults.store import FaultStore
from simulator.ids import Ids
from simulator.keys import KeyStore
from simulator.payments import PaymentEngine
from simulator.scheduler import Scheduler


class Journal(Protocol):
    """What the rest of the simulator uses of simulator.journal.Journal."""

    def record(self, **fields: Any) -> int:
        """Store one exchange; its id."""
        ...

    def amend(self, entry_id: int, **fields: Any) -> None:
        """Overwrite fields of a recorded exchange."""
        ...

    def query(
        self,
        api: str | None = None,
        client_id: str | None = None,
        payment_request_id: str | None = None,
        problems_only: bool = False,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Exchanges matching every given filter, newest first."""
        ...


@dataclass(eq=False, repr=False)
class Sim:
    """Everything one app instance owns. Each area's `init_app` fills in its own attribute."""

    config: SimConfig
    engine: Engine
    events: Events = field(default_factory=Events)
    ids: Ids = field(init=False)
    clock: Clock = field(init=False)  # simulator.clock
    keys: KeyStore = field(init=False)  # simulator.keys
    journal: Journal = field(init=False)  # simulator.journal
    faults: FaultStore = field(init=False)  # simulator.faults
    scheduler: Scheduler[Sim] = field(init=False)  # simulator.scheduler
    payments: PaymentEngine = field(init=False)  # simulator.payments
    code_rules: CodeRuleStore = field(init=False)  # simulator.payments

    def __post_init__(self) -> None:
        self.ids = Ids(self.engine)


def current() -> Sim:
    """The Sim of the app handling the current request."""
    return current_app.extensions["aplus_sim"]
