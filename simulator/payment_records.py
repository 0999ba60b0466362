"""The `payments` table and its reads: one payment as a record, a summary or the full view.

The state machine that writes these rows is simulator/payments.py (`sim.payments`, a
`PaymentRecords` too); here are only the table, the prebuilt reads, and the views the control
plane and the dashboard show (GET /_sim/payments, GET /_sim/payments/<id>).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Boolean, Column, Engine, String, Table, Text, bindparam, func, select

from contracts.wire import loads, wire_time
from simulator.db import FastRead, metadata, read, unstamp

payments_table = Table(
    "payments",
    metadata,
    Column("payment_request_id", String(64), primary_key=True),
    Column("code_value", String(512), nullable=False, unique=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("psp_id", String(64), nullable=False),
    Column("acquirer_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("order_json", Text, nullable=False),
    Column("payment_amount", Text, nullable=False),
    Column("pay_to_amount", Text, nullable=False),
    Column("payment_quote", Text),
    Column("payment_promo_info", Text),
    Column("redirect_url", Text, nullable=False),
    Column("notify_url", Text),
    Column("merchant_id", String(64), nullable=False),
    Column("created_at", String(40), nullable=False, index=True),
    Column("expiry_at", String(40), nullable=False),
    Column("customer_id", String(64)),
    Column("decoded_at", String(40)),
    Column("decode_response", Text),
    Column("pass_through_info", Text),
    Column("notify_json", Text),
    Column("payment_result", Text),
    Column("payment_id", String(64)),
    Column("payment_time", String(64)),
    Column("final_at", String(40)),
    Column("final_source", String(32)),
    Column("close_reason", Text),
    Column("late_result", Text),
    Column("reversal_required", Boolean, nullable=False, default=False),
    Column("reversal_reason", Text),
    Column("reversal_status", String(32)),
)

# Built once: every decode looks its payment up by code value, every notification by id.
BY_CODE = select(payments_table).where(payments_table.c.code_value == bindparam("code_value"))
BY_ID = select(payments_table).where(
    payments_table.c.payment_request_id == bindparam("payment_request_id")
)
# A part of GET /_sim/payments/<id> that another area adds (e.g. the refunds).
ViewPart = Callable[[str], Any]


class PaymentRecords:
    """Reads of the `payments` table; `view_parts` add other areas' parts to the full view."""

    def __init__(self, engine: Engine, exchanges: ViewPart) -> None:
        self.engine = engine
        self.exchanges = exchanges
        self.view_parts: dict[str, ViewPart] = {}
        # The plain reads every decode and notifyPayment start with (replays end there).
        self._read_by_code = FastRead(engine, BY_CODE)
        self._read_by_id = FastRead(engine, BY_ID)

    def find_by_code(self, code_value: str) -> Any:
        """The row of the payment whose order code is `code_value` (a plain read), or None."""
        return self._read_by_code.first(code_value=code_value)

    def find(self, payment_request_id: str) -> Any:
        """The row of a payment (a plain read, no lock), or None."""
        return self._read_by_id.first(payment_request_id=payment_request_id)

    # -- views for the control plane ---------------------------------------------------------

    def get_record(self, payment_request_id: str) -> dict[str, Any] | None:
        """The internal row as a dict (amounts parsed), or None."""
        with read(self.engine) as conn:
            row = conn.execute(BY_ID, {"payment_request_id": payment_request_id}).first()
        if row is None:
            return None
        record = dict(row._mapping)
        for name in ("payment_amount", "pay_to_amount", "payment_quote", "payment_promo_info"):
            record[name] = loads(record[name])
        record["order"] = json.loads(record.pop("order_json"))
        record["payment_result"] = loads(record["payment_result"])
        record["late_result"] = loads(record["late_result"])
        record["expiry"] = unstamp(record["expiry_at"])
        record["created"] = unstamp(record["created_at"])
        return record

    def get_view(self, payment_request_id: str) -> dict[str, Any] | None:
        """What GET /_sim/payments/<id> answers: state, amounts and every exchange."""
        record = self.get_record(payment_request_id)
        if record is None:
            return None
        view = _summary(record)
        view.update(
            {
                "codeValue": record["code_value"],
                "order": record["order"],
                "paymentQuote": record["payment_quote"],
                "paymentPromoInfo": record["payment_promo_info"],
                "paymentId": record["payment_id"],
                "paymentTime": record["payment_time"],
                "paymentResult": record["payment_result"],
                "closeReason": record["close_reason"],
                "reversal": {
                    "required": bool(record["reversal_required"]),
                    "reason": record["reversal_reason"],
                    "status": record["reversal_status"],
                },
            }
        )
        for name, part in self.view_parts.items():
            view[name] = part(payment_request_id)
        view["exchanges"] = self.exchanges(payment_request_id)
        return view

    def list(self, limit: int = 50, client_id: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the most recent payments, newest first."""
        query = select(payments_table).order_by(payments_table.c.created_at.desc()).limit(limit)
        if client_id:
            query = query.where(payments_table.c.client_id == client_id)
        with read(self.engine) as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            record = dict(row._mapping)
            for name in ("payment_amount", "pay_to_amount"):
                record[name] = json.loads(record[name])
            record["order"] = json.loads(record["order_json"])
            record["expiry"] = unstamp(record["expiry_at"])
            record["created"] = unstamp(record["created_at"])
            out.append(_summary(record))
        return out

    def count(self) -> int:
        """How many payments exist."""
        with read(self.engine) as conn:
            return conn.execute(select(func.count()).select_from(payments_table)).scalar_one()


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "paymentRequestId": record["payment_request_id"],
        "clientId": record["client_id"],
        "status": record["status"],
        "merchantName": record["order"].get("merchant", {}).get("merchantName"),
        "orderDescription": record["order"].get("orderDescription"),
        "orderAmount": record["order"].get("orderAmount"),
        "paymentAmount": record["payment_amount"],
        "payToAmount": record["pay_to_amount"],
        "customerId": record["customer_id"],
        "createdTime": wire_time(record["created"]),
        "paymentExpiryTime": wire_time(record["expiry"]),
        "reversalRequired": bool(record["reversal_required"]),
    }
