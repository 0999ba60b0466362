"""Alipay+ calling the wallet: inquiry polling, expiry and cancellation, late-success reversal,
refunds and the merchant's result notification. All of it runs as scheduler jobs.

The payment engine (simulator/payments.py) calls the hooks below after it commits a change:

- `on_order_created` -> an `expire` job at paymentExpiryTime;
- `on_decoded` -> `inquiry` polls on config.inquiry_schedule (gaps, 4 s, 4 s, 30 s, ... after the
  decode) until a final paymentResult;
- `on_final` -> the remaining polls and the expiry are dropped; the merchant's notifyUrl (if any)
  is told the result;
- `on_late_success` -> a reversing cancelPayment.

Retries (cancelPayment and refund) send the identical body again: it is stored once, in the
cancellation or refund row, and resent byte for byte. See docs/time-and-callbacks.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import requests
from flask import Blueprint, jsonify
from sqlalchemy import Column, Integer, String, Table, Text, func, select

from contracts import money, signing
from contracts.wire import ALIPAY_TZ, dumps, request_id, wire_time
from simulator.control_io import control_error, request_json
from simulator.db import metadata, read
from simulator.outbound import WalletAnswer, WalletClient
from simulator.scheduler import Job, jobs_table, stamp
from simulator.state import current

OPEN = ("CREATED", "DECODED")
# Back-off between attempts of a cancelPayment or refund series (seconds); the last gap repeats.
DEFAULT_RETRY_BACKOFF = (10, 30, 60, 120, 300, 600)
# A refund (or merchant notification) nobody answers is given up after this long (seconds).
DEFAULT_GIVE_UP_SECONDS = 24 * 3600
# Refunds are accepted for at least 366 days after the payment (spec §4.7).
REFUND_WINDOW = timedelta(days=366)
# cancelPayment is possible until 00:30 UTC+8 on the day after the order was created (§4.6).
CANCEL_WINDOW_END = time(0, 30)
MERCHANT_NOTIFY_TIMEOUT = 5.0

refunds_table = Table(
    "sim_refunds",
    metadata,
    Column("refund_request_id", String(64), primary_key=True),
    Column("payment_request_id", String(64), nullable=False, index=True),
    Column("seq", Integer, nullable=False),  # 1, 2, ... per payment, in the order requested
    Column("client_id", String(64), nullable=False),
    Column("refund_amount", Text, nullable=False),  # JSON Amount, order currency
    Column("refund_from_amount", Text, nullable=False),  # JSON Amount, wallet currency
    Column("refund_promo_info", Text),
    Column("request_body", Text, nullable=False),  # the exact JSON sent on every attempt
    Column("reason", Text),
    # PENDING (being sent) -> SUCCESS | FAILED | UNKNOWN (no answer before giving up)
    Column("status", String(16), nullable=False),
    Column("result_code", String(64)),
    Column("result_message", Text),
    Column("refund_id", String(64)),
    Column("refund_time", String(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_outcome", Text),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

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


class Refused(Exception):
    """A control-plane request refused before any call to the wallet, with the protocol's code."""

    def __init__(self, code: str, message: str, http_status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


# -- small helpers --------------------------------------------------------------------------------


def _backoff(sim: Any, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    gaps = tuple(getattr(sim.config, "retry_backoff", DEFAULT_RETRY_BACKOFF))
    return float(gaps[min(attempt, len(gaps)) - 1])


def _next_attempt(sim: Any, job: Job, attempt: int, now: datetime) -> datetime:
    """When the attempt after `attempt` is due: the back-off counted from this job's due time,
    so the schedule does not drift with how late a job ran (several workers moving one virtual
    clock); with a real clock never in the past, so a backlog does not turn into a burst."""
    due = job.due_at + timedelta(seconds=_backoff(sim, attempt))
    return due if sim.clock.virtual else max(due, now)


def _give_up_after(sim: Any) -> timedelta:
    return timedelta(seconds=float(getattr(sim.config, "give_up_seconds", DEFAULT_GIVE_UP_SECONDS)))


def cancel_window_end(created: datetime) -> datetime:
    """00:30 UTC+8 on the day after `created` (in UTC+8): the last moment to cancel."""
    local_day = created.astimezone(ALIPAY_TZ).date() + timedelta(days=1)
    return datetime.combine(local_day, CANCEL_WINDOW_END, tzinfo=ALIPAY_TZ).astimezone(UTC)


def _rng(sim: Any) -> Any:
    ids = getattr(sim, "ids", None)
    return ids.rng() if ids is not None else None


def _injected(sim: Any, api: str, payment_request_id: str, kind: str) -> Any:
    """The fault rule of `kind` that fires for this payment's `api` call, if any (issue 6)."""
    faults = getattr(sim, "faults", None)
    if faults is None or not faults.has_rules(api, "outbound"):
        return None  # the usual case: one cheap read, no payment record to load
    record = sim.payments.get_record(payment_request_id)
    if record is None:
        return None
    return faults.outbound(api, record["client_id"], payment_request_id, kinds=(kind,))


def _base_request(record: dict[str, Any]) -> dict[str, str]:
    return {
        "acquirerId": record["acquirer_id"],
        "pspId": record["psp_id"],
        "paymentRequestId": record["payment_request_id"],
    }


# -- hooks the payment engine calls ------------------------------------------------------------


def on_order_created(sim: Any, payment_request_id: str) -> None:
    """Schedule the order's expiry at paymentExpiryTime."""
    record = sim.payments.get_record(payment_request_id)
    if record is None:
        return
    sim.scheduler.enqueue(
        "expire",
        {"paymentRequestId": payment_request_id},
        record["expiry"],
        key=f"expire:{payment_request_id}",
    )


def on_decoded(sim: Any, payment_request_id: str) -> None:
    """Start polling inquiryPayment on the configured schedule (unless a fault rule says not)."""
    from simulator import faults

    early = _injected(sim, "cancelPayment", payment_request_id, "early_cancel")
    if early is not None:
        faults.note_for_exchange(early.note() + ": cancelPayment follows at once")
        reason = f"{early.note()}: cancelled right after the decode"
        if sim.payments.close(payment_request_id, reason):
            start_cancellation(
                sim, payment_request_id, f"rule {early.rule_id} early_cancel", reason
            )
        return
    skip = _injected(sim, "inquiryPayment", payment_request_id, "skip_polling")
    if skip is not None:
        faults.note_for_exchange(skip.note() + ": no inquiryPayment will be sent")
        return
    schedule = tuple(sim.config.inquiry_schedule)
    if not schedule:
        return
    sim.scheduler.enqueue(
        "inquiry",
        {"paymentRequestId": payment_request_id, "poll": 1},
        sim.clock.now() + timedelta(seconds=schedule[0]),
        key=f"inquiry:{payment_request_id}",
    )


def on_final(sim: Any, payment_request_id: str) -> None:
    """Stop polling and the expiry; tell the merchant's notifyUrl, if the order has one."""
    sim.scheduler.cancel(f"inquiry:{payment_request_id}")
    sim.scheduler.cancel(f"expire:{payment_request_id}")
    record = sim.payments.get_record(payment_request_id)
    if record is not None and record.get("notify_url"):
        sim.scheduler.enqueue(
            "merchant_notify",
            {"paymentRequestId": payment_request_id, "attempt": 1, "first": stamp(sim.clock.now())},
            sim.clock.now(),
            key=f"merchant_notify:{payment_request_id}",
        )


def on_late_success(sim: Any, payment_request_id: str, reason: str) -> None:
    """A success arrived for a closed or failed order: reverse it with cancelPayment."""
    start_cancellation(sim, payment_request_id, "late_success", f"late success: {reason}")


# -- cancellation ----------------------------------------------------------------------------------


def start_cancellation(sim: Any, payment_request_id: str, trigger: str, reason: str) -> str:
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
                    request_body=dumps(_base_request(record)),
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


def cancellation_for(sim: Any, payment_request_id: str) -> dict[str, Any] | None:
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


def _run_cancel(sim: Any, job: Job) -> None:
    payment_request_id = job.payload["paymentRequestId"]
    table = cancellations_table
    where = table.c.payment_request_id == payment_request_id
    with read(sim.engine) as conn:
        row = conn.execute(select(table).where(where)).first()
    if row is None or row.status != "pending":
        return
    attempt = row.attempts + 1
    deadline = datetime.fromisoformat(row.deadline)
    now = sim.clock.now()
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
        due = _next_attempt(sim, job, attempt, now)
        if due > deadline:
            plan.update(status="gave_up")
            return (
                f"{row.trigger}: attempt {attempt}: {answer.describe()}; the cancel window "
                f"ends {wire_time(deadline)}: giving up"
            )
        plan.update(status="pending", due=due)
        return (
            f"{row.trigger}: attempt {attempt}: {answer.describe()}; same request again at "
            f"{wire_time(due)}"
        )

    answer = WalletClient(sim).call(
        "cancelPayment",
        row.client_id,
        row.request_body,
        payment_request_id=payment_request_id,
        note=decide,
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
                updated_at=stamp(now),
            )
        ).rowcount
    if not applied:
        return
    if plan["status"] == "pending":
        sim.scheduler.enqueue("cancel", job.payload, plan["due"], key=job.key)
    record = sim.payments.get_record(payment_request_id)
    if record is not None and record.get("reversal_required"):
        reversal = {"done": "done", "gave_up": "failed: no S before the cancel window ended"}
        sim.payments.set_reversal_status(
            payment_request_id, reversal.get(plan["status"], f"retrying ({answer.describe()})")
        )


def _run_expire(sim: Any, job: Job) -> None:
    payment_request_id = job.payload["paymentRequestId"]
    if sim.payments.close(payment_request_id, "expired: no final result by paymentExpiryTime"):
        start_cancellation(
            sim, payment_request_id, "expiry", "the order expired without a final result"
        )


def close_by_merchant(sim: Any, payment_request_id: str, reason: str | None) -> dict[str, Any]:
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


# -- inquiry polling -------------------------------------------------------------------------------


def _run_inquiry(sim: Any, job: Job) -> None:
    payment_request_id = job.payload["paymentRequestId"]
    poll = int(job.payload["poll"])
    record = sim.payments.get_record(payment_request_id)
    if record is None or record["status"] not in OPEN:
        return
    schedule = tuple(sim.config.inquiry_schedule)
    label = f"poll {poll} of {len(schedule)}"
    verdict: dict[str, Any] = {}
    # Polls stop at paymentExpiryTime: from then on the expiry closes and cancels the order.
    next_due = job.due_at + timedelta(seconds=schedule[poll]) if poll < len(schedule) else None
    if next_due is not None and next_due >= record["expiry"]:
        next_due = None

    def decide(answer: WalletAnswer) -> str:
        payment_result = (answer.body or {}).get("paymentResult") if answer.status == "S" else None
        if isinstance(payment_result, dict) and payment_result.get("resultStatus") in ("S", "F"):
            verdict["final"] = payment_result
            return f"{label}: final paymentResult {payment_result['resultStatus']} " + str(
                payment_result.get("resultCode")
            )
        if not answer.trusted:
            why = answer.error
        elif answer.status == "F" and answer.code == "ORDER_NOT_EXIST":
            why = (
                "ORDER_NOT_EXIST: the wallet has not seen the order (user not on the cashier yet?)"
            )
        elif isinstance(payment_result, dict):
            why = f"paymentResult {payment_result.get('resultStatus')} "
            why += str(payment_result.get("resultCode"))
        elif answer.status == "S":
            why = "result S without a paymentResult"
        else:
            why = f"result {answer.describe()}"
        if next_due is not None:
            return f"{label}: not final ({why}); next poll in {schedule[poll]} s"
        if poll < len(schedule):
            return f"{label}: not final ({why}); the next poll would come after expiry"
        return f"{label}: not final ({why}); no polls left, expiry will close the order"

    unknown = _injected(sim, "inquiryPayment", payment_request_id, "unknown_inquiry")
    if unknown is not None:
        stranger = request_id(sim.clock.now(), _rng(sim), letter="X")
        WalletClient(sim).call(
            "inquiryPayment",
            record["client_id"],
            dumps({**_base_request(record), "paymentRequestId": stranger}),
            payment_request_id=stranger,
            note=f"{unknown.note()}: a paymentRequestId the wallet never saw (before {label})",
        )
    answer = WalletClient(sim).call(
        "inquiryPayment",
        record["client_id"],
        dumps(_base_request(record)),
        payment_request_id=payment_request_id,
        note=decide,
    )
    if "final" in verdict:
        body = answer.body or {}
        fields = {
            name: body[name]
            for name in ("paymentId", "paymentTime", "paymentAmount", "payToAmount", "customerId")
            if body.get(name) is not None
        }
        sim.payments.apply_wallet_result(
            payment_request_id, verdict["final"], fields, "inquiryPayment"
        )
        return
    if next_due is not None:
        sim.scheduler.enqueue(
            "inquiry",
            {"paymentRequestId": payment_request_id, "poll": poll + 1},
            next_due,
            key=job.key,
        )


# -- refunds ---------------------------------------------------------------------------------------


def _share(total: int, part: int, whole: int) -> int:
    """total × part / whole, rounded half up (integers only, so no float error)."""
    return (2 * total * part + whole) // (2 * whole)


def request_refund(sim: Any, payment_request_id: str, params: Any) -> dict[str, Any]:
    """Accept a merchant refund (checks first, no wallet call yet); the refund job follows."""
    from simulator.payments import payments_table

    if not isinstance(params, dict):
        raise Refused("PARAM_ILLEGAL", "the body must be a JSON object", 400)
    reason = params.get("reason")
    if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= 256):
        raise Refused("PARAM_ILLEGAL", "reason must be a string of 1 to 256 characters", 400)
    unknown = sorted(set(params) - {"amount", "reason"})
    if unknown:
        raise Refused("PARAM_ILLEGAL", f"unknown field(s) {unknown}; known: amount, reason", 400)
    now = sim.clock.now()
    rng = _rng(sim)  # drawn before the write lock: the seeded generator writes its counter
    with sim.engine.begin() as conn:
        # Lock the payment row (SQLite: the write lock) so concurrent refunds add up correctly.
        locked = conn.execute(
            select(payments_table.c.status)
            .where(payments_table.c.payment_request_id == payment_request_id)
            .with_for_update()
        ).first()
        record = sim.payments.get_record(payment_request_id) if locked else None
        if record is None:
            raise Refused("ORDER_NOT_EXIST", f"no payment {payment_request_id!r}", 404)
        if record["status"] != "SUCCESS" or record.get("reversal_required"):
            state = record["status"] + (
                " (a late success being reversed)" if record.get("reversal_required") else ""
            )
            raise Refused(
                "ORDER_STATUS_INVALID",
                f"only successful payments can be refunded; payment {payment_request_id} is "
                f"{state}",
            )
        paid_at = datetime.fromisoformat(record["final_at"])
        if now > paid_at + REFUND_WINDOW:
            raise Refused(
                "REFUND_WINDOW_EXCEED",
                f"the refund window (366 days after the payment at {wire_time(paid_at)}) "
                f"ended {wire_time(paid_at + REFUND_WINDOW)}",
                422,
            )
        # Refunds are asked in the order currency, up to the order amount: with a promotion,
        # paymentAmount excludes the promotion and each refund reverses its share of it.
        paid = record["order"]["orderAmount"]
        currency, paid_value = paid["currency"], int(paid["value"])
        earlier = conn.execute(
            select(refunds_table.c.refund_amount, refunds_table.c.status).where(
                refunds_table.c.payment_request_id == payment_request_id
            )
        ).all()
        refunded = sum(
            int(json.loads(amount)["value"]) for amount, status in earlier if status != "FAILED"
        )
        remaining = paid_value - refunded
        amount = params.get("amount")
        if amount is None:
            if remaining <= 0:
                raise Refused(
                    "REFUND_AMOUNT_EXCEED", f"payment {payment_request_id} is fully refunded", 422
                )
            value = remaining
        else:
            value = _refund_value(amount, currency)
            if value > remaining:
                raise Refused(
                    "REFUND_AMOUNT_EXCEED",
                    f"refunding {value} {currency} (minor units) would bring the refunds to "
                    f"{refunded + value}, above the {paid_value} paid; {remaining} remain "
                    "refundable",
                    422,
                )
        message = _refund_message(record, refunded, value)
        refund_request_id = request_id(now, rng, letter="R")
        message = {**_base_request(record), "paymentId": record["payment_id"]} | {
            "refundRequestId": refund_request_id,
            **message,
        }
        conn.execute(
            refunds_table.insert().values(
                refund_request_id=refund_request_id,
                payment_request_id=payment_request_id,
                seq=len(earlier) + 1,
                client_id=record["client_id"],
                refund_amount=dumps(message["refundAmount"]),
                refund_from_amount=dumps(message["refundFromAmount"]),
                refund_promo_info=dumps(message["refundPromoInfo"])
                if "refundPromoInfo" in message
                else None,
                request_body=dumps(message),
                reason=reason,
                status="PENDING",
                attempts=0,
                created_at=stamp(now),
                updated_at=stamp(now),
            )
        )
    sim.scheduler.enqueue(
        "refund",
        {"refundRequestId": refund_request_id, "first": stamp(now)},
        now,
        key=f"refund:{refund_request_id}",
    )
    return refund_view(sim, refund_request_id) or {}


def _refund_value(amount: Any, currency: str) -> int:
    if not isinstance(amount, dict):
        raise Refused(
            "PARAM_ILLEGAL", f'amount must be an object like {{"currency": "{currency}", ...}}', 400
        )
    if amount.get("currency") != currency:
        raise Refused(
            "PARAM_ILLEGAL",
            f"amount.currency must be the payment's currency {currency}, not "
            f"{amount.get('currency')!r}",
            400,
        )
    value = amount.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not money.is_valid_value(currency, value):
        raise Refused(
            "PARAM_ILLEGAL",
            f"amount.value {value!r} is not a positive whole number of {currency} minor units "
            f"(exponent {money.exponent(currency)})",
            400,
        )
    return int(value)


def _refund_message(record: dict[str, Any], refunded: int, value: int) -> dict[str, Any]:
    """refundAmount, refundFromAmount, refundQuote and refundPromoInfo for one refund.

    Everything is computed on cumulative amounts, so that after a full refund (in one part or
    several) exactly payToAmount has gone back to the user and exactly the promotion's savings
    are reversed, whatever the rounding of each part:

    - gross(x) = x converted at the payment's quote (contracts.money.convert, half up);
    - savings(x) = each promotion's savingsAmount × x / orderAmount, half up;
    - this refund's refundFromAmount = [gross(after) - savings(after)] - [gross(before) - ...].

    So refundFromAmount + the reversed savings is the refund at the payment's FX rate (within
    one minor unit), as Alipay+ requires ("same FX rate as the original payment", §4.7).
    """
    paid = record["order"]["orderAmount"]
    pay_to = record["pay_to_amount"]
    whole = int(paid["value"])
    after = refunded + value
    quote = record.get("payment_quote")

    def gross(amount: int) -> int:
        if quote is None or paid["currency"] == pay_to["currency"]:
            return amount
        return money.convert(
            amount,
            paid["currency"],
            pay_to["currency"],
            Decimal(quote["quotePrice"]),
            quote["quoteCurrencyPair"],
        )

    promo = record.get("payment_promo_info") or {}
    details = []
    saved_before = saved_after = 0
    for detail in promo.get("paymentPromoDetails") or []:
        savings = detail.get("savingsAmount")
        if not isinstance(savings, dict):
            continue
        total = int(savings["value"])
        before_part, after_part = _share(total, refunded, whole), _share(total, after, whole)
        saved_before += before_part
        saved_after += after_part
        if after_part > before_part:
            details.append(
                {
                    **detail,
                    "savingsAmount": {
                        "currency": savings["currency"],
                        "value": str(after_part - before_part),
                    },
                }
            )
    # The last part gives back exactly what is left of payToAmount.
    from_after = int(pay_to["value"]) if after == whole else gross(after) - saved_after
    from_value = from_after - (gross(refunded) - saved_before if refunded else 0)
    if from_value <= 0:
        raise Refused(
            "PARAM_ILLEGAL",
            f"{value} {paid['currency']} minor units is less than one minor unit of "
            f"{pay_to['currency']} at the payment's rate; refund a larger amount",
            400,
        )
    message: dict[str, Any] = {
        "refundAmount": {"currency": paid["currency"], "value": str(value)},
        "refundFromAmount": {"currency": pay_to["currency"], "value": str(from_value)},
    }
    if quote:
        message["refundQuote"] = quote
    if details:
        message["refundPromoInfo"] = {"paymentPromoDetails": details}
    return message


def _refund_row_view(row: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "refundRequestId": row.refund_request_id,
        "paymentRequestId": row.payment_request_id,
        "refundAmount": json.loads(row.refund_amount),
        "refundFromAmount": json.loads(row.refund_from_amount),
        "status": row.status,
        "resultCode": row.result_code,
        "resultMessage": row.result_message,
        "refundId": row.refund_id,
        "refundTime": row.refund_time,
        "reason": row.reason,
        "attempts": row.attempts,
        "lastOutcome": row.last_outcome,
        "createdTime": wire_time(datetime.fromisoformat(row.created_at)),
    }
    if row.refund_promo_info:
        view["refundPromoInfo"] = json.loads(row.refund_promo_info)
    return view


def refunds_for(sim: Any, payment_request_id: str) -> list[dict[str, Any]]:
    """The refunds of a payment, oldest first (part of GET /_sim/payments/<id>)."""
    with read(sim.engine) as conn:
        rows = conn.execute(
            select(refunds_table)
            .where(refunds_table.c.payment_request_id == payment_request_id)
            .order_by(refunds_table.c.seq)
        ).all()
    return [_refund_row_view(row) for row in rows]


def refund_view(sim: Any, refund_request_id: str) -> dict[str, Any] | None:
    """One refund by its refundRequestId."""
    with read(sim.engine) as conn:
        row = conn.execute(
            select(refunds_table).where(refunds_table.c.refund_request_id == refund_request_id)
        ).first()
    return None if row is None else _refund_row_view(row)


def _run_refund(sim: Any, job: Job) -> None:
    refund_request_id = job.payload["refundRequestId"]
    where = refunds_table.c.refund_request_id == refund_request_id
    with read(sim.engine) as conn:
        row = conn.execute(select(refunds_table).where(where)).first()
    if row is None or row.status != "PENDING":
        return
    attempt = row.attempts + 1
    now = sim.clock.now()
    give_up_at = datetime.fromisoformat(job.payload["first"]) + _give_up_after(sim)
    plan: dict[str, Any] = {}

    def decide(answer: WalletAnswer) -> str:
        if answer.status == "S":
            plan["status"] = "SUCCESS"
            return f"refund attempt {attempt}: refunded"
        if answer.status == "F":
            plan["status"] = "FAILED"
            return f"refund attempt {attempt}: refused by the wallet ({answer.code})"
        due = _next_attempt(sim, job, attempt, now)
        if due > give_up_at:
            plan["status"] = "UNKNOWN"
            return f"refund attempt {attempt}: {answer.describe()}; no answer for a day: giving up"
        plan.update(status="PENDING", due=due)
        return (
            f"refund attempt {attempt}: {answer.describe()}; same request again at {wire_time(due)}"
        )

    answer = WalletClient(sim).call(
        "refund",
        row.client_id,
        row.request_body,
        payment_request_id=row.payment_request_id,
        refund_request_id=refund_request_id,
        note=decide,
    )
    body = answer.body or {}
    values: dict[str, Any] = {
        "status": plan["status"],
        "attempts": attempt,
        "last_outcome": answer.describe(),
        "updated_at": stamp(now),
    }
    if plan["status"] in ("SUCCESS", "FAILED"):
        values.update(
            result_code=answer.result.get("resultCode"),
            result_message=answer.result.get("resultMessage"),
            refund_id=body.get("refundId"),
            refund_time=body.get("refundTime"),
        )
    with sim.engine.begin() as conn:
        conn.execute(refunds_table.update().where(where).values(**values))
    if plan["status"] == "PENDING":
        sim.scheduler.enqueue("refund", job.payload, plan["due"], key=job.key)


# -- the merchant's notifyUrl ----------------------------------------------------------------------


def _run_merchant_notify(sim: Any, job: Job) -> None:
    """POST the final state to the order's notifyUrl; again with back-off until a 2xx."""
    payment_request_id = job.payload["paymentRequestId"]
    record = sim.payments.get_record(payment_request_id)
    if record is None or not record.get("notify_url"):
        return
    view = sim.payments.get_view(payment_request_id) or {}
    view.pop("exchanges", None)
    body = dumps({"notifyType": "PAYMENT_RESULT", **view}).encode("utf-8")
    url = record["notify_url"]
    path = requests.utils.urlparse(url).path or "/"
    headers = signing.signed_request_headers(
        sim.keys.private_key,
        record["client_id"],
        path,
        body,
        sim.clock.now().astimezone(ALIPAY_TZ),
    )
    session = requests.Session()
    session.trust_env = False
    try:
        response = session.post(url, data=body, headers=headers, timeout=MERCHANT_NOTIFY_TIMEOUT)
        if 200 <= response.status_code < 300:
            return
    except requests.RequestException:
        pass
    finally:
        session.close()
    attempt = int(job.payload["attempt"])
    due = _next_attempt(sim, job, attempt, sim.clock.now())
    if due <= datetime.fromisoformat(job.payload["first"]) + _give_up_after(sim):
        sim.scheduler.enqueue(
            "merchant_notify", {**job.payload, "attempt": attempt + 1}, due, key=job.key
        )


# -- the control plane: /_sim/clock, /_sim/payments/<id>/cancel and /refunds ---------------------

bp = Blueprint("callbacks", __name__, url_prefix="/_sim")


def _body() -> Any:
    return request_json(lambda message: Refused("PARAM_ILLEGAL", message, 400))


def _clock_state(sim: Any) -> dict[str, Any]:
    upcoming = sim.scheduler.next_due()
    with read(sim.engine) as conn:
        pending = conn.execute(
            select(func.count()).select_from(jobs_table).where(jobs_table.c.status == "pending")
        ).scalar_one()
    now = sim.clock.now()
    return {
        "mode": sim.clock.mode,
        "now": now.isoformat(timespec="microseconds"),
        "nowUtc8": wire_time(now),
        "pendingJobs": pending,
        "nextJobAt": None if upcoming is None else upcoming.isoformat(timespec="microseconds"),
    }


@bp.get("/clock")
def get_clock():
    """The clock's mode and time, and the jobs waiting for it."""
    return jsonify(_clock_state(current()))


@bp.post("/clock/advance")
def advance_clock():
    """Move a virtual clock by {"seconds": N} or to {"to": ISO 8601}, running due jobs."""
    sim = current()
    try:
        body = _body()
        if not isinstance(body, dict):
            raise Refused("PARAM_ILLEGAL", "the body must be a JSON object", 400)
        if not sim.clock.virtual:
            raise Refused(
                "PROCESS_FAIL",
                "the clock is real; start the simulator with --clock virtual to move it",
                409,
            )
        now = sim.clock.now()
        if ("seconds" in body) == ("to" in body):
            raise Refused(
                "PARAM_ILLEGAL", 'give exactly one of {"seconds": N} or {"to": "<ISO 8601>"}', 400
            )
        if "seconds" in body:
            seconds = body["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise Refused("PARAM_ILLEGAL", "seconds must be a number >= 0", 400)
            target = now + timedelta(seconds=seconds)
        else:
            try:
                target = signing.parse_time(str(body["to"])).astimezone(UTC)
            except ValueError as exc:
                raise Refused("PARAM_ILLEGAL", f"to: {exc}", 400) from None
            if target < now:
                raise Refused(
                    "PARAM_ILLEGAL",
                    f"to {body['to']!r} is before the clock's time {now.isoformat()}; "
                    "a virtual clock never goes back",
                    400,
                )
    except Refused as exc:
        return control_error(exc.message, exc.http_status, exc.code)
    before = _done_count(sim)
    sim.clock.set(target)
    state = _clock_state(sim)
    state["jobsRun"] = _done_count(sim) - before
    return jsonify(state)


def _done_count(sim: Any) -> int:
    with read(sim.engine) as conn:
        return conn.execute(
            select(func.count())
            .select_from(jobs_table)
            .where(jobs_table.c.status.in_(("done", "failed")))
        ).scalar_one()


@bp.post("/payments/<payment_request_id>/cancel")
def cancel_payment(payment_request_id: str):
    """The merchant closes the order; Alipay+ then calls cancelPayment on the wallet."""
    sim = current()
    try:
        body = _body()
        reason = body.get("reason") if isinstance(body, dict) else None
        if reason is not None and not isinstance(reason, str):
            raise Refused("PARAM_ILLEGAL", "reason must be a string", 400)
        return jsonify(close_by_merchant(sim, payment_request_id, reason)), 202
    except Refused as exc:
        return control_error(exc.message, exc.http_status, exc.code)


@bp.post("/payments/<payment_request_id>/refunds")
def create_refund(payment_request_id: str):
    """The merchant refunds (part of) a successful payment; the refund call follows."""
    sim = current()
    try:
        return jsonify(request_refund(sim, payment_request_id, _body())), 202
    except Refused as exc:
        return control_error(exc.message, exc.http_status, exc.code)


@bp.get("/payments/<payment_request_id>/refunds")
def list_refunds(payment_request_id: str):
    """The refunds of one payment."""
    sim = current()
    if sim.payments.get_record(payment_request_id) is None:
        return control_error(f"no payment {payment_request_id!r}", 404, "ORDER_NOT_EXIST")
    return jsonify({"refunds": refunds_for(sim, payment_request_id)})


def init_app(app):
    """Register the job handlers and the control-plane routes."""
    sim = app.extensions["aplus_sim"]
    sim.scheduler.register("inquiry", _run_inquiry)
    sim.scheduler.register("expire", _run_expire)
    sim.scheduler.register("cancel", _run_cancel)
    sim.scheduler.register("refund", _run_refund)
    sim.scheduler.register("merchant_notify", _run_merchant_notify)
    app.register_blueprint(bp)
