"""cancelPayment: Alipay+ cancels a payment at the wallet (Alipay+ -> wallet).

When: the order expired without a final result (Event.EXPIRED), the merchant closed it
(`close_by_merchant`, POST /_sim/payments/<id>/cancel), a success arrived for a closed or
failed payment (Event.LATE_SUCCESS: the reversal), or a fault rule cancelled it right after the
decode (`early_cancel`). The payment is CLOSED first (simulator/payments.py); this module then
runs the cancelPayment series: the identical body, resent on U or no answer with the back-off
of `RetrySeries`, until S or the cancel window ends (00:30 UTC+8 the day after the order).

Answers it acts on: S (cancelled), F ORDER_NOT_EXIST (treated as cancelled, with a conformance
note: a wallet should answer S for an order it does not know, spec §10), anything else or no
answer (retried). Faults: the transport effects of `simulator.outbound`, and `early_cancel`.

Not simulated: CANCEL_WINDOW_EXCEED from the wallet is retried like any F (Alipay+'s own
cancel window is enforced here instead); no cancellation of a payment that is SUCCESS without a
late-success reason (the merchant refunds it instead).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Text, select

from contracts import apis
from contracts.wire import ALIPAY_TZ, dumps, wire_time
from simulator.apis.calls import RetrySeries, base_request
from simulator.db import metadata, read, stamp
from simulator.errors import Refused
from simulator.events import Event, PaymentEvent
from simulator.faults.outbound import injected, note_for_exchange
from simulator.outbound import WalletAnswer
from simulator.scheduler import Job
from simulator.state import Sim

API = apis.get("cancelPayment")
# cancelPayment is possible until 00:30 UTC+8 on the day after the order was created (§4.6).
CANCEL_WINDOW_END = time(0, 30)

cancellations_table = Table(
    "sim_cancellations",
    metadata,
    Column("payment_request_id", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("trigger", String(32), nullable=False),  # expiry | merchant | late_success
    Column("reason", Text, nullable=False),
    Column("request_body", Text, nullable=False),
    # pending -> done | gave_up | window_exceeded
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_outcome", Text),
    Column("conformance", Text),
    Column("deadline", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)


def cancel_window_end(created: datetime) -> datetime:
    """00:30 UTC+8 on the day after `created` (in UTC+8): the last moment to cancel."""
    local_day = created.astimezone(ALIPAY_TZ).date() + timedelta(days=1)
    return datetime.combine(local_day, CANCEL_WINDOW_END, tzinfo=ALIPAY_TZ).astimezone(UTC)


# -- starting a series -----------------------------------------------------------------------


def start_cancellation(sim: Sim, payment_request_id: str, trigger: str, reason: str) -> str:
    """Begin (or re-arm) the cancelPayment series for a payment; returns its status."""
    record = sim.payments.get_record(payment_request_id)
    if record is None:
        raise LookupError(payment_request_id)
    now = sim.clock.now()
    deadline = cancel_window_end(record["created"])
    table = cancellations_table
    where = table.c.payment_request_id == payment_request_id
    with sim.engine.begin() as conn:
        row = conn.execute(select(table).where(where)).first()
        if row is None:
            status = "pending" if now <= deadline else "window_exceeded"
            conn.execute(
                table.insert().values(
                    payment_request_id=payment_request_id,
                    client_id=record["client_id"],
                    trigger=trigger,
                    reason=reason,
                    request_body=dumps(base_request(record)),
                    status=status,
                    attempts=0,
                    deadline=stamp(deadline),
                    created_at=stamp(now),
                    updated_at=stamp(now),
                )
            )
        else:
            # Same paymentRequestId, same body: cancelPayment is idempotent at the wallet.
            # A running series goes on (now); a finished one starts again from attempt 1.
            running = row.status == "pending"
            status = "pending" if running or now <= deadline else "window_exceeded"
            conn.execute(
                table.update()
                .where(where)
                .values(
                    trigger=trigger if trigger == "late_success" else row.trigger,
                    reason=reason if trigger == "late_success" else row.reason,
                    status=status,
                    attempts=row.attempts if running else 0,
                    updated_at=stamp(now),
                )
            )
    if status == "pending":
        sim.scheduler.enqueue(
            "cancel",
            {"paymentRequestId": payment_request_id},
            now,
            key=f"cancel:{payment_request_id}",
        )
    if record.get("reversal_required") or trigger == "late_success":
        sim.payments.set_reversal_status(
            payment_request_id, "pending" if status == "pending" else "failed: cancel window ended"
        )
    return status


def cancellation_for(sim: Sim, payment_request_id: str) -> dict[str, Any] | None:
    """The cancelPayment series of a payment (trigger, reason, status, attempts), if any."""
    with read(sim.engine) as conn:
        row = conn.execute(
            select(cancellations_table).where(
                cancellations_table.c.payment_request_id == payment_request_id
            )
        ).first()
    if row is None:
        return None
    return {
        "trigger": row.trigger,
        "reason": row.reason,
        "status": row.status,
        "attempts": row.attempts,
        "lastOutcome": row.last_outcome,
        "conformance": row.conformance,
        "deadline": wire_time(datetime.fromisoformat(row.deadline)),
    }


def close_by_merchant(sim: Sim, payment_request_id: str, reason: str | None) -> dict[str, Any]:
    """The merchant closes an open order: CLOSED now, cancelPayment to the wallet follows."""
    record = sim.payments.get_record(payment_request_id)
    if record is None:
        raise Refused("ORDER_NOT_EXIST", f"no payment {payment_request_id!r}", 404)
    why = f"closed by the merchant: {reason}" if reason else "closed by the merchant"
    if sim.payments.close(payment_request_id, why):
        start_cancellation(sim, payment_request_id, "merchant", why)
    else:
        record = sim.payments.get_record(payment_request_id) or record
        if record["status"] != "CLOSED":
            raise Refused(
                "ORDER_STATUS_INVALID",
                f"payment {payment_request_id} is {record['status']}, not open; "
                + ("refund it instead" if record["status"] == "SUCCESS" else "nothing to cancel"),
            )
    record = sim.payments.get_record(payment_request_id) or record
    return {
        "paymentRequestId": payment_request_id,
        "status": record["status"],
        "closeReason": record["close_reason"],
        "cancellation": cancellation_for(sim, payment_request_id),
    }


# -- one attempt -----------------------------------------------------------------------------


def _run_cancel(sim: Sim, job: Job) -> None:
    payment_request_id = job.payload["paymentRequestId"]
    table = cancellations_table
    where = table.c.payment_request_id == payment_request_id
    with read(sim.engine) as conn:
        row = conn.execute(select(table).where(where)).first()
    if row is None or row.status != "pending":
        return
    series = RetrySeries(sim, job, row.attempts, datetime.fromisoformat(row.deadline))
    attempt = series.attempt
    plan: dict[str, Any] = {}

    def decide(answer: WalletAnswer) -> str:
        if answer.status == "S":
            plan.update(status="done")
            return f"{row.trigger}: attempt {attempt}: cancelled"
        if answer.status == "F" and answer.code == "ORDER_NOT_EXIST":
            plan.update(
                status="done",
                conformance="the wallet answered F ORDER_NOT_EXIST; a wallet should answer S "
                "SUCCESS to a cancel for an order it does not know (spec §10)",
            )
            return f"{row.trigger}: attempt {attempt}: treated as cancelled; conformance: " + (
                "the wallet should answer S to a cancel for an unknown order"
            )
        if not series.retry():
            plan.update(status="gave_up")
            return (
                f"{row.trigger}: attempt {attempt}: {answer.describe()}; the cancel window "
                f"ends {wire_time(series.deadline)}: giving up"
            )
        plan.update(status="pending")
        return (
            f"{row.trigger}: attempt {attempt}: {answer.describe()}; same request again at "
            f"{wire_time(series.due)}"
        )

    answer = series.send(
        API.name, row.client_id, row.request_body, decide, payment_request_id=payment_request_id
    )
    with sim.engine.begin() as conn:
        # Only if nobody re-armed the series meanwhile (a late success during this attempt):
        # then the re-armed series' own job sends the cancel again.
        applied = conn.execute(
            table.update()
            .where(where, table.c.trigger == row.trigger, table.c.reason == row.reason)
            .values(
                status=plan["status"],
                attempts=attempt,
                last_outcome=answer.describe(),
                conformance=plan.get("conformance", row.conformance),
                updated_at=stamp(series.now),
            )
        ).rowcount
    if not applied:
        return
    if plan["status"] == "pending":
        series.again()
    record = sim.payments.get_record(payment_request_id)
    if record is not None and record.get("reversal_required"):
        reversal = {"done": "done", "gave_up": "failed: no S before the cancel window ended"}
        sim.payments.set_reversal_status(
            payment_request_id, reversal.get(plan["status"], f"retrying ({answer.describe()})")
        )


# -- what starts a series --------------------------------------------------------------------


def _early_cancel(sim: Sim, event: PaymentEvent) -> None:
    """A fault rule `early_cancel`: close the order and cancel it right after the decode."""
    payment_request_id = event.payment_request_id
    early = injected(sim, API.name, payment_request_id, "early_cancel")
    if early is None:
        return
    note_for_exchange(early.note() + ": cancelPayment follows at once")
    reason = f"{early.note()}: cancelled right after the decode"
    if sim.payments.close(payment_request_id, reason):
        start_cancellation(sim, payment_request_id, f"rule {early.rule_id} early_cancel", reason)


def register(sim: Sim) -> None:
    """The `cancel` job, and the events that start a series."""
    sim.scheduler.register("cancel", _run_cancel)
    sim.events.on(Event.DECODED, lambda event: _early_cancel(sim, event))
    sim.events.on(
        Event.EXPIRED,
        lambda event: start_cancellation(
            sim, event.payment_request_id, "expiry", "the order expired without a final result"
        ),
    )
    sim.events.on(
        Event.LATE_SUCCESS,
        lambda event: start_cancellation(
            sim, event.payment_request_id, "late_success", f"late success: {event.reason}"
        ),
    )
