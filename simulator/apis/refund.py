"""refund: Alipay+ refunds (part of) a successful payment at the wallet (Alipay+ -> wallet).

When: the merchant asks (`request_refund`, POST /_sim/payments/<id>/refunds). Checks come first,
before any call: the payment must be SUCCESS (and not a late success being reversed), within
366 days (REFUND_WINDOW_EXCEED), and the refunds may not add up to more than the order amount
(REFUND_AMOUNT_EXCEED). Then the refund series runs: the identical body (idempotent on
refundRequestId) resent on U or no answer with the back-off of `RetrySeries`, for at most
`config.give_up_seconds` (a day): then UNKNOWN.

Amounts: refundAmount in the order currency; refundFromAmount in the wallet's currency at the
payment's own FX quote, computed on cumulative amounts so that a full refund (in one part or
several) returns exactly payToAmount; each refund reverses its share of a promotion
(refundPromoInfo). Answers it acts on: S (SUCCESS, with refundId and refundTime), F (FAILED,
the wallet's code kept), U or no answer (retried). Faults: the transport effects of
`simulator.outbound`.

Not simulated: surcharges (surchargeInfo) and refunds of a payment that is not SUCCESS; the
refund is not reflected in the payment's own status.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Text, select

from contracts import apis, money
from contracts.wire import dumps, request_id, wire_time
from simulator.apis.calls import RetrySeries, base_request, give_up_after
from simulator.db import metadata, read, stamp
from simulator.errors import Refused
from simulator.outbound import WalletAnswer
from simulator.payment_records import payments_table
from simulator.scheduler import Job
from simulator.state import Sim

API = apis.get("refund")
# Refunds are accepted for at least 366 days after the payment (spec §4.7).
REFUND_WINDOW = timedelta(days=366)

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


def _share(total: int, part: int, whole: int) -> int:
    """total × part / whole, rounded half up (integers only, so no float error)."""
    return (2 * total * part + whole) // (2 * whole)


def _refund_params(params: Any) -> str | None:
    """The merchant's parameters checked; the reason, if any."""
    if not isinstance(params, dict):
        raise Refused("PARAM_ILLEGAL", "the body must be a JSON object", 400)
    reason = params.get("reason")
    if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= 256):
        raise Refused("PARAM_ILLEGAL", "reason must be a string of 1 to 256 characters", 400)
    unknown = sorted(set(params) - {"amount", "reason"})
    if unknown:
        raise Refused("PARAM_ILLEGAL", f"unknown field(s) {unknown}; known: amount, reason", 400)
    return reason


def _refundable(
    record: dict[str, Any] | None, payment_request_id: str, now: datetime
) -> dict[str, Any]:
    """The payment, unless a refund of it is refused (unknown, not successful or too old)."""
    if record is None:
        raise Refused("ORDER_NOT_EXIST", f"no payment {payment_request_id!r}", 404)
    if record["status"] != "SUCCESS" or record.get("reversal_required"):
        state = record["status"] + (
            " (a late success being reversed)" if record.get("reversal_required") else ""
        )
        raise Refused(
            "ORDER_STATUS_INVALID",
            f"only successful payments can be refunded; payment {payment_request_id} is {state}",
        )
    paid_at = datetime.fromisoformat(record["final_at"])
    if now > paid_at + REFUND_WINDOW:
        raise Refused(
            "REFUND_WINDOW_EXCEED",
            f"the refund window (366 days after the payment at {wire_time(paid_at)}) "
            f"ended {wire_time(paid_at + REFUND_WINDOW)}",
            422,
        )
    return record


def _refund_amount(
    amount: Any, paid: dict[str, str], refunded: int, payment_request_id: str
) -> int:
    """The value (minor units) of this refund: what was asked, or all that is left."""
    currency, paid_value = paid["currency"], int(paid["value"])
    remaining = paid_value - refunded
    if amount is None:
        if remaining <= 0:
            raise Refused(
                "REFUND_AMOUNT_EXCEED", f"payment {payment_request_id} is fully refunded", 422
            )
        return remaining
    value = _refund_value(amount, currency)
    if value > remaining:
        raise Refused(
            "REFUND_AMOUNT_EXCEED",
            f"refunding {value} {currency} (minor units) would bring the refunds to "
            f"{refunded + value}, above the {paid_value} paid; {remaining} remain refundable",
            422,
        )
    return value


def request_refund(sim: Sim, payment_request_id: str, params: Any) -> dict[str, Any]:
    """Accept a merchant refund (checks first, no wallet call yet); the refund job follows."""
    reason = _refund_params(params)
    now = sim.clock.now()
    rng = sim.ids.rng()  # drawn before the write lock: the seeded generator writes its counter
    with sim.engine.begin() as conn:
        # Lock the payment row (SQLite: the write lock) so concurrent refunds add up correctly.
        locked = conn.execute(
            select(payments_table.c.status)
            .where(payments_table.c.payment_request_id == payment_request_id)
            .with_for_update()
        ).first()
        record = _refundable(
            sim.payments.get_record(payment_request_id) if locked else None,
            payment_request_id,
            now,
        )
        earlier = conn.execute(
            select(refunds_table.c.refund_amount, refunds_table.c.status).where(
                refunds_table.c.payment_request_id == payment_request_id
            )
        ).all()
        refunded = sum(
            int(json.loads(amount)["value"]) for amount, status in earlier if status != "FAILED"
        )
        # Refunds are asked in the order currency, up to the order amount: with a promotion,
        # paymentAmount excludes the promotion and each refund reverses its share of it.
        paid = record["order"]["orderAmount"]
        value = _refund_amount(params.get("amount"), paid, refunded, payment_request_id)
        message = _refund_message(record, refunded, value)
        refund_request_id = request_id(now, rng, letter="R")
        message = {**base_request(record), "paymentId": record["payment_id"]} | {
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


def refunds_for(sim: Sim, payment_request_id: str) -> list[dict[str, Any]]:
    """The refunds of a payment, oldest first (part of GET /_sim/payments/<id>)."""
    with read(sim.engine) as conn:
        rows = conn.execute(
            select(refunds_table)
            .where(refunds_table.c.payment_request_id == payment_request_id)
            .order_by(refunds_table.c.seq)
        ).all()
    return [_refund_row_view(row) for row in rows]


def refund_view(sim: Sim, refund_request_id: str) -> dict[str, Any] | None:
    """One refund by its refundRequestId."""
    with read(sim.engine) as conn:
        row = conn.execute(
            select(refunds_table).where(refunds_table.c.refund_request_id == refund_request_id)
        ).first()
    return None if row is None else _refund_row_view(row)


def _run_refund(sim: Sim, job: Job) -> None:
    refund_request_id = job.payload["refundRequestId"]
    where = refunds_table.c.refund_request_id == refund_request_id
    with read(sim.engine) as conn:
        row = conn.execute(select(refunds_table).where(where)).first()
    if row is None or row.status != "PENDING":
        return
    give_up_at = datetime.fromisoformat(job.payload["first"]) + give_up_after(sim)
    series = RetrySeries(sim, job, row.attempts, give_up_at)
    attempt = series.attempt
    plan: dict[str, Any] = {}

    def decide(answer: WalletAnswer) -> str:
        if answer.status == "S":
            plan["status"] = "SUCCESS"
            return f"refund attempt {attempt}: refunded"
        if answer.status == "F":
            plan["status"] = "FAILED"
            return f"refund attempt {attempt}: refused by the wallet ({answer.code})"
        if not series.retry():
            plan["status"] = "UNKNOWN"
            return f"refund attempt {attempt}: {answer.describe()}; no answer for a day: giving up"
        plan["status"] = "PENDING"
        return (
            f"refund attempt {attempt}: {answer.describe()}; same request again at "
            f"{wire_time(series.due)}"
        )

    answer = series.send(
        API.name,
        row.client_id,
        row.request_body,
        decide,
        payment_request_id=row.payment_request_id,
        refund_request_id=refund_request_id,
    )
    body = answer.body or {}
    values: dict[str, Any] = {
        "status": plan["status"],
        "attempts": attempt,
        "last_outcome": answer.describe(),
        "updated_at": stamp(series.now),
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
        series.again()


def register(sim: Sim) -> None:
    """The `refund` job, and the refunds as part of GET /_sim/payments/<id>."""
    sim.scheduler.register("refund", _run_refund)
    sim.payments.view_parts["refunds"] = lambda payment_request_id: refunds_for(
        sim, payment_request_id
    )
