"""Persisted jobs: every call the simulator makes to a wallet runs as a row in `sim_jobs`.

A job is claimed atomically (a conditional UPDATE inside one transaction), so several worker
processes never run it twice, and it survives a restart because it is a row. With a real clock a
background thread runs due jobs; with a virtual clock, moving the clock runs every job that falls
due on the way, in time order, with the clock set to each job's due time while it runs.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
)

from simulator.clock import Clock
from simulator.config import SimConfig
from simulator.db import metadata, read, stamp, unstamp

log = logging.getLogger(__name__)

jobs_table = Table(
    "sim_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("key", String(200), nullable=True),
    Column("payload", Text, nullable=False),
    # Fixed-width ISO 8601 UTC text, so ordering the text orders the times (any database).
    Column("due_at", String(32), nullable=False),
    # pending -> running -> done | failed; pending -> cancelled
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64), nullable=True),
    # Real (wall-clock) seconds until which the claim holds; a worker that died mid-job loses it.
    Column("lease_until", Float, nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_sim_jobs_pending", "status", "due_at", "id"),
    Index("ix_sim_jobs_key", "key", "status"),
)

# A claim older than this (real seconds) belongs to a worker that died; another may take it.
LEASE_SECONDS = 120.0
# Guard against a handler that keeps scheduling itself at the same instant.
MAX_JOBS_PER_RUN = 100_000


@dataclass(frozen=True)
class Job:
    """One claimed job as a handler sees it."""

    id: int
    kind: str
    key: str | None
    payload: dict[str, Any]
    due_at: datetime
    attempts: int


# Whoever the handlers serve (the app's Sim); the scheduler only hands it back to them.
Owner = TypeVar("Owner")
Handler = Callable[[Owner, Job], None]


class Scheduler(Generic[Owner]):
    """The job table's API: enqueue, cancel, run what is due, and (virtual clock) run up to a time."""

    def __init__(
        self,
        owner: Owner,
        engine: Engine,
        clock: Clock,
        config: SimConfig,
        poll_seconds: float = 1.0,
    ) -> None:
        self.owner = owner
        self.engine = engine
        self.clock = clock
        self.config = config
        self.handlers: dict[str, Handler[Owner]] = {}
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.poll_seconds = poll_seconds
        self._advance_lock = threading.Lock()
        self._thread_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._wake = threading.Event()
        self._stop = threading.Event()

    # -- registration -------------------------------------------------------------------------

    def register(self, kind: str, handler: Handler[Owner]) -> None:
        """Run `handler(owner, job)` for jobs of `kind`."""
        self.handlers[kind] = handler

    def handler(self, kind: str) -> Callable[[Handler[Owner]], Handler[Owner]]:
        """Decorator form of `register`."""

        def decorate(func: Handler[Owner]) -> Handler[Owner]:
            self.register(kind, func)
            return func

        return decorate

    # -- the table ----------------------------------------------------------------------------

    def enqueue(
        self, kind: str, payload: dict[str, Any], due_at: datetime, key: str | None = None
    ) -> int:
        """Add a job; a pending job with the same `key` is replaced. Returns the new job's id."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            if key is not None:
                conn.execute(
                    jobs_table.update()
                    .where(and_(jobs_table.c.key == key, jobs_table.c.status == "pending"))
                    .values(status="cancelled", finished_at=stamp(now), error="replaced")
                )
            job_id = conn.execute(
                jobs_table.insert().values(
                    kind=kind,
                    key=key,
                    payload=json.dumps(payload, separators=(",", ":"), sort_keys=True),
                    due_at=stamp(due_at),
                    status="pending",
                    attempts=0,
                    created_at=stamp(now),
                )
            ).inserted_primary_key[0]
        if not self.clock.virtual:
            self._ensure_thread()
            if due_at <= now:
                self._wake.set()
        return int(job_id)

    def cancel(self, key: str) -> int:
        """Cancel the pending jobs with `key`; returns how many were cancelled."""
        now = stamp(self.clock.now())  # read before the write transaction (SQLite: one writer)
        with self.engine.begin() as conn:
            return conn.execute(
                jobs_table.update()
                .where(and_(jobs_table.c.key == key, jobs_table.c.status == "pending"))
                .values(status="cancelled", finished_at=now)
            ).rowcount

    def pending(self, key: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Pending jobs (optionally with one key or kind), soonest first."""
        query = select(jobs_table).where(jobs_table.c.status == "pending")
        if key is not None:
            query = query.where(jobs_table.c.key == key)
        if kind is not None:
            query = query.where(jobs_table.c.kind == kind)
        with read(self.engine) as conn:
            rows = conn.execute(query.order_by(jobs_table.c.due_at, jobs_table.c.id)).all()
        return [self._as_dict(row) for row in rows]

    def jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent jobs of any status, newest first (for tests and the dashboard)."""
        query = select(jobs_table).order_by(jobs_table.c.id.desc()).limit(limit)
        with read(self.engine) as conn:
            return [self._as_dict(row) for row in conn.execute(query).all()]

    def next_due(self) -> datetime | None:
        """When the soonest pending job falls due, if any."""
        with read(self.engine) as conn:
            value = conn.execute(
                select(jobs_table.c.due_at)
                .where(jobs_table.c.status == "pending")
                .order_by(jobs_table.c.due_at, jobs_table.c.id)
                .limit(1)
            ).scalar()
        return unstamp(value) if value else None

    def count(self, *statuses: str) -> int:
        """How many jobs are in one of `statuses` (e.g. "pending"; "done", "failed")."""
        with read(self.engine) as conn:
            return conn.execute(
                select(func.count())
                .select_from(jobs_table)
                .where(jobs_table.c.status.in_(statuses))
            ).scalar_one()

    # -- running ------------------------------------------------------------------------------

    def run_due(self, now: datetime) -> int:
        """Run every job due at or before `now`, soonest first; returns how many ran."""
        ran = 0
        while ran < MAX_JOBS_PER_RUN:
            job = self._claim(now)
            if job is None:
                return ran
            self._execute(job)
            ran += 1
        raise RuntimeError(f"more than {MAX_JOBS_PER_RUN} jobs fell due at once; a job loops")

    def run_until(self, target: datetime) -> datetime:
        """Move a virtual clock to `target`, stopping at each job's due time to run it."""
        clock = self.clock
        with self._advance_lock:
            start = clock.now()
            if target < start:
                raise ValueError(f"a virtual clock never goes back ({target} is before {start})")
            steps = 0
            while True:
                now = clock.now()
                self.run_due(now)
                upcoming = self.next_due()
                if upcoming is not None and upcoming <= target:
                    clock.move(max(upcoming, now), strict=False)
                elif now < target:
                    clock.move(target, strict=False)
                else:
                    return now
                steps += 1
                if steps > MAX_JOBS_PER_RUN:
                    raise RuntimeError("the clock could not reach its target: a job loops")

    def _claim(self, now: datetime) -> Job | None:
        due = stamp(now)
        while True:
            real_now = time.time()
            claimable = or_(
                jobs_table.c.status == "pending",
                and_(jobs_table.c.status == "running", jobs_table.c.lease_until < real_now),
            )
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(jobs_table)
                    .where(and_(claimable, jobs_table.c.due_at <= due))
                    .order_by(jobs_table.c.due_at, jobs_table.c.id)
                    .limit(1)
                ).first()
                if row is None:
                    return None
                # The UPDATE re-checks what the SELECT saw: of two workers, only one changes it.
                same_lease = (
                    jobs_table.c.lease_until.is_(None)
                    if row.lease_until is None
                    else jobs_table.c.lease_until == row.lease_until
                )
                taken = conn.execute(
                    jobs_table.update()
                    .where(
                        and_(
                            jobs_table.c.id == row.id,
                            jobs_table.c.status == row.status,
                            same_lease,
                        )
                    )
                    .values(
                        status="running",
                        claimed_by=self.worker_id,
                        lease_until=real_now + LEASE_SECONDS,
                        attempts=row.attempts + 1,
                    )
                ).rowcount
            if taken == 1:
                return Job(
                    id=row.id,
                    kind=row.kind,
                    key=row.key,
                    payload=json.loads(row.payload),
                    due_at=unstamp(row.due_at),
                    attempts=row.attempts + 1,
                )

    def _execute(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        status, error = "done", None
        if handler is None:
            status, error = "failed", f"no handler registered for job kind {job.kind!r}"
        else:
            try:
                handler(self.owner, job)
            except Exception:
                status, error = "failed", traceback.format_exc()
                log.exception("job %s (%s) failed", job.id, job.kind)
        finished = stamp(self.clock.now())
        with self.engine.begin() as conn:
            conn.execute(
                jobs_table.update()
                .where(and_(jobs_table.c.id == job.id, jobs_table.c.claimed_by == self.worker_id))
                .values(
                    status=status,
                    error=error,
                    finished_at=finished,
                    lease_until=None,
                )
            )

    # -- the real-clock worker threads ---------------------------------------------------------

    def start(self) -> None:
        """Run due jobs in background threads (real clock)."""
        self._ensure_thread()

    def stop(self) -> None:
        """Stop the background threads, if any."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def _ensure_thread(self) -> None:
        # is_alive() is False in a forked worker: the threads stayed behind in the parent.
        if any(t.is_alive() for t in self._threads) or not self.config.run_scheduler:
            return
        with self._thread_lock:
            if not any(t.is_alive() for t in self._threads):
                self._stop.clear()
                # Several threads, so one slow wallet (an 8 s timeout) does not hold up the
                # others' jobs; claims are atomic, so they never run a job twice.
                count = max(1, int(self.config.scheduler_threads))
                self._threads = [
                    threading.Thread(
                        target=self._loop, name=f"aplus-sim-scheduler-{n}", daemon=True
                    )
                    for n in range(count)
                ]
                for thread in self._threads:
                    thread.start()

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.run_due(self.clock.now())
                failures = 0
            except Exception:  # the database went away, a handler looped...: keep going
                failures += 1
                log.exception("scheduler pass failed")
            # Polling is fine here: this is the production loop, never a test's way of waiting.
            if self._wake.wait(self.poll_seconds if failures == 0 else min(30.0, 2.0**failures)):
                self._wake.clear()

    @staticmethod
    def _as_dict(row: Any) -> dict[str, Any]:
        data = dict(row._mapping)
        data["payload"] = json.loads(data["payload"])
        return data


def init_app(app):
    """Give the app its scheduler; a virtual clock runs due jobs whenever it moves."""
    sim = app.extensions["aplus_sim"]
    sim.scheduler = Scheduler(sim, sim.engine, sim.clock, sim.config)
    if sim.clock.virtual:
        sim.clock.runner = sim.scheduler.run_until
    elif sim.config.run_scheduler and sim.scheduler.next_due() is not None:
        # Jobs left by an earlier run (a restart): pick them up without waiting for a new one.
        sim.scheduler.start()
