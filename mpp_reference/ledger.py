"""Users and their balances; every money movement is one ledger entry with a unique reference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from contracts import money
from mpp_reference.db import iso, ledger_entries, users

FIXTURE_USERS = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "users.json"


class InsufficientBalance(Exception):
    """The user's balance does not cover a debit."""


@dataclass(frozen=True)
class User:
    """A wallet user."""

    customer_id: str
    name: str
    balance: int
    currency: str


def load_user_file(path: Path, currency: str) -> list[User]:
    """Users from a JSON file: a list (or {"users": [...]}) of {customerId, name, balance}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("users", [])
    result = []
    for item in data:
        balance = item.get("balance", 0)
        ccy = item.get("currency") or currency
        if isinstance(balance, dict):  # an Amount {currency, value}
            ccy = balance.get("currency", ccy)
            balance = balance.get("value", 0)
        result.append(
            User(
                customer_id=str(item["customerId"]),
                name=str(item.get("name") or item["customerId"]),
                balance=int(balance),
                currency=str(ccy).upper(),
            )
        )
    return [u for u in result if u.currency == currency] or [
        User(u.customer_id, u.name, u.balance, currency) for u in result
    ]


def faker_users(count: int, seed: int, currency: str) -> list[User]:
    """`count` demo users made by Faker with a fixed seed; the last one is nearly broke."""
    from faker import Faker

    fake = Faker("ko_KR" if currency == "KRW" else "en_US")
    fake.seed_instance(seed)
    scale = 10 ** money.exponent(currency)
    result = []
    for index in range(count):
        major = fake.random_int(50_000, 2_000_000) if index < count - 1 else 1_000
        if currency != "KRW" and index < count - 1:
            major = fake.random_int(50, 2_000)
        elif currency != "KRW":
            major = 1
        result.append(User(f"u_{10001 + index}", fake.name(), major * scale, currency))
    return result


class Ledger:
    """Balances and the append-only list of movements."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def seed(self, seed_users: list[User]) -> None:
        """Create the users that do not exist yet (never touches existing balances)."""
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(users.c.customer_id)).scalars())
            for user in seed_users:
                if user.customer_id not in existing:
                    conn.execute(
                        users.insert().values(
                            customer_id=user.customer_id,
                            name=user.name,
                            balance=user.balance,
                            currency=user.currency,
                        )
                    )

    def users(self) -> list[User]:
        """Every user, in id order."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.customer_id)).all()
        return [User(r.customer_id, r.name, r.balance, r.currency) for r in rows]

    def user(self, customer_id: str, conn: Connection | None = None) -> User | None:
        """One user, or None."""
        query = select(users).where(users.c.customer_id == customer_id)
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        return User(row.customer_id, row.name, row.balance, row.currency) if row else None

    def post(
        self,
        conn: Connection,
        *,
        reference: str,
        customer_id: str,
        amount: int,
        currency: str,
        kind: str,
        payment_request_id: str | None,
        when: datetime,
    ) -> bool:
        """Move money inside the caller's transaction; False if `reference` was already posted."""
        seen = conn.execute(
            select(ledger_entries.c.id).where(ledger_entries.c.reference == reference)
        ).first()
        if seen:
            return False
        row = conn.execute(select(users).where(users.c.customer_id == customer_id)).first()
        if row is None:
            raise KeyError(f"no wallet user {customer_id!r}")
        if row.currency != currency:
            raise ValueError(f"user {customer_id} holds {row.currency}, not {currency}")
        if row.balance + amount < 0:
            raise InsufficientBalance(f"balance {row.balance} {currency} < {-amount}")
        conn.execute(
            users.update()
            .where(users.c.customer_id == customer_id)
            .values(balance=users.c.balance + amount)
        )
        conn.execute(
            ledger_entries.insert().values(
                reference=reference,
                customer_id=customer_id,
                amount=amount,
                currency=currency,
                kind=kind,
                payment_request_id=payment_request_id,
                created_at=iso(when),
            )
        )
        return True

    def entries(
        self, payment_request_id: str | None = None, customer_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Ledger entries, oldest first, optionally for one payment or one user."""
        query = select(ledger_entries).order_by(ledger_entries.c.id)
        if payment_request_id is not None:
            query = query.where(ledger_entries.c.payment_request_id == payment_request_id)
        if customer_id is not None:
            query = query.where(ledger_entries.c.customer_id == customer_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def total(self) -> int:
        """Sum of all balances (a conservation check for tests)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(users.c.balance), 0))).scalar())
