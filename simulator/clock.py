"""The one clock every time-dependent behaviour reads: real time, or a virtual time that moves
only when told (stored in the database, so several worker processes agree on it).

Moving a virtual clock runs the jobs that fall due on the way, in time order, before the call
returns: the scheduler installs itself as the clock's `runner` (see simulator/scheduler.py), so
`sim.clock.advance(60)` from a test or from `POST /_sim/clock/advance` behaves the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, Integer, String, Table, select

from simulator.db import metadata, read

clock_table = Table(
    "sim_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("now", String(40), nullable=False),  # ISO 8601, UTC
)

# Built once: now() runs on every request with a virtual clock.
_SELECT_NOW = select(clock_table.c.now).where(clock_table.c.id == 1)


def parse_time(value: str) -> datetime:
    """An ISO 8601 time with an offset (or `Z`) as an aware UTC datetime; ValueError otherwise."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return dt.astimezone(UTC)


class Clock:
    """Real or virtual time; `now()` is always an aware UTC datetime."""

    def __init__(self, engine: Engine, mode: str = "real", start: str = "") -> None:
        if mode not in ("real", "virtual"):
            raise ValueError(f"clock mode must be 'real' or 'virtual', not {mode!r}")
        self.engine = engine
        self.mode = mode
        # Set by the scheduler: `runner(target)` moves the clock to `target` job by job.
        self.runner: Callable[[datetime], datetime] | None = None
        self._local = threading.local()
        if mode == "virtual":
            # A stored virtual time is kept (several workers, a restart, a respawned worker):
            # `start` only sets a new database's clock, or moves a stored one forward.
            with engine.begin() as conn:
                row = conn.execute(select(clock_table).where(clock_table.c.id == 1)).first()
                fresh = row is None or row.mode != "virtual"
                if fresh or (start and parse_time(start) > parse_time(row.now)):
                    initial = parse_time(start) if start else datetime.now(UTC)
                    conn.execute(clock_table.delete())
                    conn.execute(
                        clock_table.insert().values(
                            id=1, mode="virtual", now=initial.isoformat(timespec="microseconds")
                        )
                    )

    @property
    def virtual(self) -> bool:
        """Whether time moves only when told."""
        return self.mode == "virtual"

    def now(self) -> datetime:
        """The current time."""
        if self.mode == "real":
            return datetime.now(UTC)
        with read(self.engine) as conn:
            value = conn.execute(_SELECT_NOW).scalar()
        return parse_time(value)

    def set(self, when: datetime) -> datetime:
        """Move a virtual clock to `when` (never backwards), running the jobs due on the way."""
        self._check(when)
        if self.runner is not None and not getattr(self._local, "running", False):
            self._local.running = True
            try:
                return self.runner(when.astimezone(UTC))
            finally:
                self._local.running = False
        return self.move(when)

    def advance(self, seconds: float) -> datetime:
        """Move a virtual clock forward by `seconds`; returns the new time."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if self.mode != "virtual":
            self._check(datetime.now(UTC))
        return self.set(self.now() + timedelta(seconds=seconds))

    def move(self, when: datetime, strict: bool = True) -> datetime:
        """Move a virtual clock to `when` without running anything (the scheduler's step).

        Not `strict`: a time already passed (another worker moved further) leaves it as it is.
        """
        self._check(when)
        when = when.astimezone(UTC)
        with self.engine.begin() as conn:
            current = parse_time(
                conn.execute(select(clock_table.c.now).where(clock_table.c.id == 1)).scalar()
            )
            if when < current:
                if not strict:
                    return current
                raise ValueError(f"a virtual clock never goes back ({when} is before {current})")
            conn.execute(
                clock_table.update()
                .where(clock_table.c.id == 1)
                .values(now=when.isoformat(timespec="microseconds"))
            )
        return when

    def _check(self, when: datetime) -> None:
        if self.mode != "virtual":
            raise ValueError(
                "the clock is real; start the simulator with --clock virtual to move it"
            )
        if when.tzinfo is None:
            raise ValueError("the target time needs a UTC offset")


def init_app(app):
    """Give the app its clock."""
    sim = app.extensions["aplus_sim"]
    sim.clock = Clock(sim.engine, sim.config.clock, sim.config.clock_start)
