"""The wallet's own database (SQLAlchemy Core): users, payments, ledger, refunds, outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.pool import NullPool

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("balance", BigInteger, nullable=False),  # minor units of `currency`
    Column("currency", String(3), nullable=False),
)

# One row per paymentRequestId the wallet has seen (decoded, or only cancelled by Alipay+).
payments = Table(
    "payments",
    metadata,
    Column("payment_request_id", String(64), primary_key=True),
    Column("code_value", Text),
    Column("customer_id", String(64)),
    # DECODED (on the cashier) | SUCCESS | FAILED | CLOSED
    Column("status", String(16), nullable=False),
    Column("scanned", Integer, nullable=False, default=0),  # 1: came from /scan (Scenario 2)
    Column("decode_body", Text),  # the userInitiatedPay answer, as received
    Column("pay_to_currency", String(3)),
    Column("pay_to_value", BigInteger),
    Column("payment_id", String(64), unique=True),
    Column("payment_time", String(40)),
    Column("result_code", String(64)),
    Column("result_message", String(256)),
    Column("close_reason", String(64)),
    Column("refunded_from_value", BigInteger, nullable=False, default=0),  # wallet currency
    Column("refunded_value", BigInteger, nullable=False, default=0),  # order currency
    Column("reversed_value", BigInteger, nullable=False, default=0),  # given back by cancel
    Column("expiry", String(40)),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# Every money movement; `reference` is unique, so posting the same movement twice is a no-op.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(160), nullable=False, unique=True),
    Column("customer_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),  # signed: debit < 0 < credit
    Column("currency", String(3), nullable=False),
    Column("kind", String(16), nullable=False),  # PAYMENT | REVERSAL | REFUND
    Column("payment_request_id", String(64)),
    Column("created_at", String(40), nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_request_id", String(64), primary_key=True),
    Column("payment_request_id", String(64), nullable=False),
    Column("fingerprint", Text, nullable=False),  # the fields compared on a replay
    Column("refund_id", String(64), unique=True),
    Column("refund_time", String(40)),
    Column("refund_value", BigInteger, nullable=False),
    Column("refund_from_value", BigInteger, nullable=False),
    Column("response_body", Text, nullable=False),  # the answer, repeated on a replay
)

# notifyPayment messages waiting for (or done with) delivery to Alipay+.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_request_id", String(64), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),  # exact bytes sent on every attempt
    Column("status", String(16), nullable=False),  # PENDING | DONE | FAILED | GAVE_UP
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", String(40), nullable=False),
    Column("claimed_until", String(40)),
    Column("last_outcome", Text),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)


def iso(dt: datetime) -> str:
    """A stored time: UTC ISO 8601 with microseconds, so stored values sort as text."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and immediate write transactions."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False, "isolation_level": None},
        poolclass=NullPool if ":memory:" not in url else None,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # pragma: no cover - exercised through use
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # pragma: no cover - exercised through use
        # Take the write lock up front: a check-then-debit never interleaves with another.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
