"""Seeded ids and random choices: `sim.ids` and its `sim_seed` row.

`POST /_sim/seed {"seed": 42}` seeds `sim.ids`, the one generator of random ids and choices
(a persisted seed and counter, so several workers draw the same sequence).
"""

from __future__ import annotations

import random

from sqlalchemy import Column, Engine, Integer, Table, delete, select, update

from simulator.db import metadata, read

seed_table = Table(
    "sim_seed",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", Integer),
    Column("counter", Integer, nullable=False, default=0),
)


class Ids:
    """The one generator of random ids and choices; repeatable after `seed(n)`.

    Unseeded, draws come from the operating system (`secrets`). Seeded, draw number k is
    random.Random(f"{seed}:{k}"): the counter is a row, so every worker draws the next k.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def seed(self, value: int | None) -> None:
        """Seed the generator (None: back to unseeded); the counter restarts at 0."""
        with self.engine.begin() as conn:
            conn.execute(delete(seed_table))
            conn.execute(seed_table.insert().values(id=1, seed=value, counter=0))

    def restart(self) -> None:
        """Count draws from 0 again, keeping the seed (a reset replays the same sequence)."""
        with self.engine.begin() as conn:
            conn.execute(update(seed_table).where(seed_table.c.id == 1).values(counter=0))

    def seed_value(self) -> int | None:
        """The seed in use, or None."""
        return self.state()["seed"]

    def state(self) -> dict[str, int | None]:
        """{"seed", "draws"}."""
        with read(self.engine) as conn:
            row = conn.execute(select(seed_table).where(seed_table.c.id == 1)).first()
        return {
            "seed": None if row is None else row.seed,
            "draws": 0 if row is None else row.counter,
        }

    def rng(self) -> random.Random:
        """A generator for one draw (seeded: the next in the sequence; else from the OS).

        Seeded, it writes the counter: call it before opening a write transaction, not in one.
        """
        with read(self.engine) as conn:
            row = conn.execute(select(seed_table).where(seed_table.c.id == 1)).first()
        if row is None or row.seed is None:
            return random.SystemRandom()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(seed_table).where(seed_table.c.id == 1).with_for_update()
            ).first()
            if row is None or row.seed is None:
                return random.SystemRandom()
            conn.execute(
                update(seed_table).where(seed_table.c.id == 1).values(counter=row.counter + 1)
            )
        return random.Random(f"{row.seed}:{row.counter}")

    def token(self, alphabet: str, length: int) -> str:
        """`length` characters drawn from `alphabet`."""
        rng = self.rng()
        return "".join(rng.choice(alphabet) for _ in range(length))
