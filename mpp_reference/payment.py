"""A payment as the wallet keeps it: the stored row, the page's view of it, and why one cannot pay."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from contracts import signing
from mpp_reference.clock import Clock
from mpp_reference.db import iso, payments


@dataclass
class Problem:
    """Why the user cannot pay: `kind` picks the page (expired, closed, unsupported, failed)."""

    kind: str
    code: str
    message: str
    payment_request_id: str | None = None
    attempts: int = 1


@dataclass
class Payment:
    """A payment as the pages show it."""

    payment_request_id: str
    status: str
    customer_id: str | None
    code_value: str | None
    scanned: bool
    decoded: dict[str, Any] = field(default_factory=dict)
    payment_id: str | None = None
    payment_time: str | None = None
    result_code: str | None = None
    result_message: str | None = None
    close_reason: str | None = None
    refunded_from_value: int = 0
    reversed_value: int = 0
    expiry: str | None = None

    @property
    def merchant_name(self) -> str:
        """The name to show for the merchant."""
        merchant = (self.decoded.get("order") or {}).get("merchant") or {}
        return (
            merchant.get("merchantDisplayName")
            or merchant.get("merchantName")
            or merchant.get("referenceMerchantId")
            or "Merchant"
        )

    @property
    def redirect_url(self) -> str | None:
        """Where the merchant wants the user back (absent for scanned codes' return: see pages)."""
        return self.decoded.get("paymentRedirectUrl")

    @property
    def debit(self) -> dict[str, Any]:
        """What the user pays in the wallet: `surchargeAmount` when Alipay+ sent a surcharge in
        the wallet's currency (the user pays it, the wallet still settles `payToAmount`: "Understand
        different amounts"), else `payToAmount`."""
        pay_to = self.decoded.get("payToAmount") or {}
        surcharge = (self.decoded.get("surchargeInfo") or {}).get("surchargeAmount")
        if isinstance(surcharge, dict) and surcharge.get("currency") == pay_to.get("currency"):
            return surcharge
        return pay_to


def amount_of(value: Any) -> tuple[str, int]:
    """(currency, minor units) of an Amount object."""
    return str(value["currency"]), int(value["value"])


def new_id(prefix: str, now: datetime) -> str:
    """The wallet's own ids: prefix, time to the second, 16 hex digits."""
    return f"{prefix}{now:%Y%m%d%H%M%S}{secrets.token_hex(8)}"


def to_payment(row: Any) -> Payment:
    """A stored `payments` row as a Payment."""
    return Payment(
        payment_request_id=row.payment_request_id,
        status=row.status,
        customer_id=row.customer_id,
        code_value=row.code_value,
        scanned=bool(row.scanned),
        decoded=json.loads(row.decode_body) if row.decode_body else {},
        payment_id=row.payment_id,
        payment_time=row.payment_time,
        result_code=row.result_code,
        result_message=row.result_message,
        close_reason=row.close_reason,
        refunded_from_value=row.refunded_from_value or 0,
        reversed_value=row.reversed_value or 0,
        expiry=row.expiry,
    )


class PaymentBook:
    """The `payments` table: read a payment, list the newest, update one."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def get(self, payment_request_id: str, conn: Connection | None = None) -> Payment | None:
        """A payment the wallet knows, or None."""
        query = select(payments).where(payments.c.payment_request_id == payment_request_id)
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        return to_payment(row) if row else None

    def recent(self, limit: int = 20) -> list[Payment]:
        """The newest payments."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(payments).order_by(payments.c.created_at.desc()).limit(limit)
            ).all()
        return [to_payment(r) for r in rows]

    def set(self, conn: Connection, payment_request_id: str, **values: Any) -> None:
        """Update one payment inside the caller's transaction."""
        values["updated_at"] = iso(self.clock.now())
        conn.execute(
            payments.update()
            .where(payments.c.payment_request_id == payment_request_id)
            .values(**values)
        )

    def seconds_left(self, payment: Payment) -> int | None:
        """Seconds until paymentExpiryTime (0 when past; None when Alipay+ gave no expiry)."""
        if not payment.expiry:
            return None
        left = (signing.parse_time(payment.expiry) - self.clock.now()).total_seconds()
        return max(0, int(left))
