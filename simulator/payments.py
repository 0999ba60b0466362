"""The payment state machine: the named transitions of the `payments` rows (`sim.payments`).

States (spec §7): CREATED (code issued) -> DECODED (userInitiatedPay done) -> SUCCESS | FAILED |
CLOSED. A final state never changes; a success that arrives for a CLOSED or FAILED payment is
acknowledged and marked for an Alipay+-initiated cancellation (the reversal, `mark_late_success`).

Every transition is one database transaction (BEGIN IMMEDIATE on SQLite, row locks elsewhere),
committed before the answer goes out; its event (simulator/events.py) is announced after the
commit. The API modules (simulator/apis/) decide which transition a message asks for:

| transition          | from             | to                 | by                              | event        |
|---------------------|------------------|--------------------|---------------------------------|--------------|
| create_order        | -                | CREATED            | the merchant (POST /_sim/orders)| ORDER_CREATED|
| decode              | CREATED          | DECODED            | userInitiatedPay                | DECODED      |
| finalize            | CREATED, DECODED | SUCCESS, FAILED    | notifyPayment, inquiryPayment   | FINAL        |
| close               | CREATED, DECODED | CLOSED             | the merchant, early_cancel      | FINAL        |
| expire              | CREATED, DECODED | CLOSED             | paymentExpiryTime (a job)       | FINAL, EXPIRED|
| mark_late_success   | CLOSED, FAILED   | (reversal pending) | notifyPayment, inquiryPayment   | LATE_SUCCESS |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam
from sqlalchemy.exc import IntegrityError

from contracts.wire import dumps
from simulator.clock import Clock
from simulator.code_rules import CodeRuleStore
from simulator.config import SimConfig
from simulator.db import Prepared, stamp, write
from simulator.events import Event, Events
from simulator.ids import Ids
from simulator.keys import KeyStore
from simulator.orders import NewOrder, OrderError, check_order
from simulator.payment_records import BY_CODE, BY_ID, PaymentRecords, ViewPart, payments_table

__all__ = ["OPEN", "STATUSES", "Locked", "OrderError", "PaymentEngine", "payments_table"]

STATUSES = ("CREATED", "DECODED", "SUCCESS", "FAILED", "CLOSED")
OPEN = ("CREATED", "DECODED")
EXPIRED_REASON = "expired: no final result by paymentExpiryTime"

_MARK_DECODED = (
    payments_table.update()
    .where(payments_table.c.payment_request_id == bindparam("b_payment_request_id"))
    .where(payments_table.c.status == "CREATED")
    .values(
        status="DECODED",
        customer_id=bindparam("b_customer_id"),
        decoded_at=bindparam("b_decoded_at"),
        decode_response=bindparam("b_decode_response"),
        pass_through_info=bindparam("b_pass_through_info"),
    )
)


class Locked:
    """One payment row under the write lock: transitions add values and events; the values are
    written in one UPDATE and the events announced once the transaction commits."""

    def __init__(self, conn: Any, row: Any, now: datetime) -> None:
        self.conn = conn
        self.row = row
        self.now = now
        self.values: dict[str, Any] = {}
        self.events: list[tuple[Event, str | None]] = []

    def record(self, **values: Any) -> None:
        """Store `values` with the transition (e.g. the notification as first received)."""
        self.values.update(values)

    def finalize(
        self, status: str, payment_result: dict[str, Any], fields: dict[str, Any], source: str
    ) -> None:
        """CREATED/DECODED -> SUCCESS (status "S") or FAILED ("F"), learned from `source`."""
        self.values.update(
            status="SUCCESS" if status == "S" else "FAILED",
            payment_result=dumps(payment_result),
            payment_id=fields.get("paymentId"),
            payment_time=fields.get("paymentTime"),
            customer_id=self.row.customer_id or fields.get("customerId"),
            final_at=stamp(self.now),
            final_source=source,
        )
        self.events.append((Event.FINAL, None))

    def mark_late_success(self, late_result: dict[str, Any], reason: str) -> None:
        """A success for a CLOSED or FAILED payment: keep it, and require its reversal."""
        self.values.update(
            late_result=dumps(late_result),
            reversal_required=True,
            reversal_reason=reason,
            reversal_status="pending",
        )
        self.events.append((Event.LATE_SUCCESS, reason))


class PaymentEngine(PaymentRecords):
    """The payments of one simulator: orders and the state machine's transitions (and, from
    PaymentRecords, the reads and views)."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        events: Events,
        config: SimConfig,
        keys: KeyStore,
        ids: Ids,
        exchanges: ViewPart,
    ) -> None:
        super().__init__(engine, exchanges)
        self.clock = clock
        self.events = events
        self.config = config
        self.keys = keys
        self.ids = ids
        # Kept here too for the control plane (GET/PUT /_sim/code-rules); also `sim.code_rules`.
        self.code_rules = CodeRuleStore(engine)
        # A first decode: the row again under the write lock, then CREATED -> DECODED.
        self._lock_by_code = Prepared(engine, BY_CODE.with_for_update())
        self._mark_decoded = Prepared(engine, _MARK_DECODED)

    # -- create_order: the merchant front door -----------------------------------------------

    def create_order(self, params: Any) -> dict[str, Any]:
        """Create a cashier order; returns paymentRequestId, codeValue, cashierUrl, expiry..."""
        now = self.clock.now()
        checked = check_order(params, self.keys, self.config.default_client_id, now)
        rng = self.ids.rng()
        base = self.config.base_url.rstrip("/")
        order = NewOrder(checked, params, now, rng, base)
        try:
            with self.engine.begin() as conn:
                conn.execute(payments_table.insert().values(**order.row))
        except IntegrityError:  # a collision of random ids: astronomically rare, try once more
            order.new_ids(now, rng)
            with self.engine.begin() as conn:
                conn.execute(payments_table.insert().values(**order.row))
        self.events.emit(Event.ORDER_CREATED, order.payment_request_id)
        return order.answer(base)

    # -- reads -------------------------------------------------------------------------------

    # -- transitions -------------------------------------------------------------------------

    def decode(
        self,
        code_value: str,
        check: Callable[[Any], str | None],
        answer: Callable[[Any], dict[str, Any]],
        customer_id: str,
        pass_through_info: str | None,
    ) -> str:
        """CREATED -> DECODED under the write lock; the exact text of the answer.

        `check(row)` runs again under the lock: a text is the answer without a transition (a
        replay), an exception a refusal. `answer(row)` builds the answer that is stored.
        """
        with write(self.engine) as conn:
            row = self._lock_by_code.first(conn, code_value=code_value)
            early = check(row)
            if early is not None:
                return early
            text = dumps(answer(row))
            updated = self._mark_decoded.rowcount(
                conn,
                b_payment_request_id=row.payment_request_id,
                b_customer_id=customer_id,
                b_decoded_at=stamp(self.clock.now()),
                b_decode_response=text,
                b_pass_through_info=pass_through_info,
            )
            if updated != 1:  # pragma: no cover - the write lock makes this impossible
                raise RuntimeError("the payment changed state during decode")
        self.events.emit(Event.DECODED, row.payment_request_id)
        return text

    @contextmanager
    def locked(self, payment_request_id: str) -> Iterator[Locked]:
        """The payment's row under the write lock, for `Locked`'s transitions (one transaction;
        an exception inside rolls it back and announces nothing)."""
        where = payments_table.c.payment_request_id == payment_request_id
        with self.engine.begin() as conn:
            row = conn.execute(
                BY_ID.params(payment_request_id=payment_request_id).with_for_update()
            )
            payment = Locked(conn, row.first(), self.clock.now())
            yield payment
            if payment.values:
                conn.execute(payments_table.update().where(where).values(**payment.values))
        for event, reason in payment.events:
            self.events.emit(event, payment_request_id, reason)

    def apply_wallet_result(
        self,
        payment_request_id: str,
        payment_result: dict[str, Any],
        fields: dict[str, Any],
        source: str,
    ) -> str:
        """Apply a final paymentResult learned from the wallet (e.g. inquiryPayment).

        Returns "applied" (open -> SUCCESS/FAILED; FINAL), "late_success" (a success for a
        CLOSED/FAILED payment: reversal required; LATE_SUCCESS) or "ignored" (not final,
        unknown payment, or nothing changes).
        """
        status = (payment_result or {}).get("resultStatus")
        if status not in ("S", "F"):
            return "ignored"
        with self.locked(payment_request_id) as payment:
            row = payment.row
            if row is None:
                return "ignored"
            if row.status in OPEN:
                payment.finalize(status, payment_result, fields, source)
                return "applied"
            if status != "S" or row.status not in ("CLOSED", "FAILED") or row.reversal_required:
                return "ignored"
            reason = (
                f"success reported by {source} after the order was closed ({row.close_reason})"
                if row.status == "CLOSED"
                else f"success reported by {source} after the payment had failed"
            )
            payment.mark_late_success({"paymentResult": payment_result, **fields}, reason)
            return "late_success"

    def close(self, payment_request_id: str, reason: str) -> bool:
        """CREATED/DECODED -> CLOSED with `reason`; False if the payment is already final."""
        with self.engine.begin() as conn:
            updated = conn.execute(
                payments_table.update()
                .where(payments_table.c.payment_request_id == payment_request_id)
                .where(payments_table.c.status.in_(OPEN))
                .values(
                    status="CLOSED",
                    close_reason=reason,
                    final_at=stamp(self.clock.now()),
                    final_source="close",
                )
            )
        if updated.rowcount != 1:
            return False
        self.events.emit(Event.FINAL, payment_request_id)
        return True

    def expire(self, payment_request_id: str) -> bool:
        """paymentExpiryTime passed: CREATED/DECODED -> CLOSED; False if already final."""
        if not self.close(payment_request_id, EXPIRED_REASON):
            return False
        self.events.emit(Event.EXPIRED, payment_request_id, EXPIRED_REASON)
        return True

    def set_reversal_status(self, payment_request_id: str, status: str) -> None:
        """Record how the reversing cancelPayment stands (e.g. pending, sent, done, failed)."""
        with self.engine.begin() as conn:
            conn.execute(
                payments_table.update()
                .where(payments_table.c.payment_request_id == payment_request_id)
                .values(reversal_status=status)
            )


def init_app(app):
    """Give the app its payments and the code rules they serve."""
    sim = app.extensions["aplus_sim"]

    def exchanges(payment_request_id: str) -> list[dict[str, Any]]:
        return list(reversed(sim.journal.query(payment_request_id=payment_request_id, limit=1000)))

    sim.payments = PaymentEngine(
        sim.engine, sim.clock, sim.events, sim.config, sim.keys, sim.ids, exchanges
    )
    sim.code_rules = sim.payments.code_rules
