"""notifyPayment: a wallet reports the final result of a payment (wallet -> Alipay+).

Only final results: paymentResult.resultStatus S or F. Transitions (simulator/payments.py):
DECODED -> SUCCESS or FAILED (`finalize`, Event.FINAL: polls and expiry stop, the merchant
hears of it); a success for a CLOSED or FAILED payment, or a success after a notified failure,
is acknowledged and marked for reversal (`mark_late_success`, Event.LATE_SUCCESS: a reversing
cancelPayment follows). Idempotent on paymentRequestId (contracts/apis.py): an identical
resend is SUCCESS and changes nothing; one that differs in a compared field is
REPEAT_REQ_INCONSISTENT. The amounts and customerId must be the decoded ones (PARAM_ILLEGAL
names the field).

Answers: SUCCESS; PARAM_ILLEGAL (not final, or amounts other than decoded), ORDER_NOT_EXIST (no
decoded payment), ACCESS_DENIED (another wallet's payment), REPEAT_REQ_INCONSISTENT. Faults:
every inbound effect; magic order amounts (4040 2xx, 4040 91x).

Not simulated: partial captures and customs declarations beyond echoing
customsDeclarationAmount; paymentTime is kept as sent, not checked against the clock.
"""

from __future__ import annotations

import json
from typing import Any

from contracts import apis
from contracts.wire import dumps
from simulator.errors import (
    AccessDenied,
    OrderNotExist,
    ParamIllegal,
    RepeatReqInconsistent,
    success,
)
from simulator.exchange import Inbound
from simulator.payments import Locked
from simulator.state import current

API = apis.get("notifyPayment")
# The codes this handler answers itself (the pipeline adds its own, e.g. INVALID_SIGNATURE).
CODES = ("SUCCESS", "PARAM_ILLEGAL", "ORDER_NOT_EXIST", "ACCESS_DENIED", "REPEAT_REQ_INCONSISTENT")
REPLAY_NOTE = "replay: identical to the notification already recorded"


def handle(inbound: Inbound) -> dict[str, Any]:
    """Record the wallet's final result; the answer's body."""
    sim = current()
    body = inbound.body
    payment_request_id = body["paymentRequestId"]
    status = body["paymentResult"].get("resultStatus")
    if status not in ("S", "F"):
        raise ParamIllegal(
            f"paymentResult.resultStatus must be S or F in notifyPayment, not {status!r} "
            "(send the notification once the payment is final)"
        )
    compared = _compared(body)
    # An identical replay (the usual retry) is answered from a plain read, without the lock.
    seen = sim.payments.find(payment_request_id)
    if (
        seen is not None
        and seen.notify_json is not None
        and seen.client_id == inbound.client_id
        and json.loads(seen.notify_json) == compared
    ):
        inbound.note = REPLAY_NOTE
        return {"result": success(API.name)}
    with sim.payments.locked(payment_request_id) as payment:
        row = payment.row
        if row is None or row.status == "CREATED":
            raise OrderNotExist(
                f"no decoded payment has paymentRequestId {payment_request_id!r}"
                + (" (the code was never decoded with userInitiatedPay)" if row else "")
            )
        if row.client_id != inbound.client_id:
            raise AccessDenied(
                f"payment {payment_request_id} belongs to the wallet {row.client_id!r}"
            )
        if row.notify_json is None:
            late_reason = _first_notification(payment, body, compared, status)
        else:
            late_reason = _notified_again(payment, compared, status)
            if late_reason is None:
                inbound.note = REPLAY_NOTE
                return {"result": success(API.name)}
    if late_reason is not None:
        inbound.note = f"late success: {late_reason}; a reversing cancelPayment follows"
        if row.notify_json is not None:
            raise RepeatReqInconsistent(
                "paymentRequestId was already notified as failed; this success will be "
                "reversed by an Alipay+-initiated cancelPayment"
            )
    return {"result": success(API.name)}


def _compared(body: dict[str, Any]) -> dict[str, Any]:
    """The fields a resend must repeat (contracts/apis.py), paymentResult by status and code."""
    compared = {name: body.get(name) for name in API.compared}
    compared["paymentResult"] = {
        "resultStatus": body["paymentResult"].get("resultStatus"),
        "resultCode": body["paymentResult"].get("resultCode"),
    }
    return compared


def _first_notification(
    payment: Locked, body: dict[str, Any], compared: dict[str, Any], status: str
) -> str | None:
    """Record the first notification and its transition; the late-success reason, if any."""
    row = payment.row
    _check_against_decode(row, body)
    payment.record(notify_json=dumps(compared))
    if row.status == "DECODED":
        payment.finalize(status, body["paymentResult"], body, API.name)
        return None
    if row.status == "SUCCESS":  # learned from inquiryPayment first
        if status == "F" or (row.payment_id and body.get("paymentId") != row.payment_id):
            raise RepeatReqInconsistent(
                "the payment is already successful (learned from inquiryPayment) "
                f"with paymentId {row.payment_id!r}"
            )
        return None
    if status != "S" or row.reversal_required:
        return None
    reason = (
        f"success arrived after the order was closed ({row.close_reason})"
        if row.status == "CLOSED"
        else "success arrived after the payment had failed"
    )
    payment.mark_late_success(compared, reason)
    return reason


def _notified_again(payment: Locked, compared: dict[str, Any], status: str) -> str | None:
    """A resend: None if identical (a replay); the late-success reason of a success after a
    notified failure (marked for reversal); else REPEAT_REQ_INCONSISTENT."""
    row = payment.row
    first = json.loads(row.notify_json)
    differing = [name for name in API.compared if first.get(name) != compared[name]]
    if not differing:
        return None
    if (
        status == "S"
        and first["paymentResult"]["resultStatus"] == "F"
        and not row.reversal_required
    ):
        # Trigger 4 of the late-success rule: F first, S later -> reverse it.
        reason = "success notified after a failure was notified"
        payment.mark_late_success(compared, reason)
        return reason
    raise RepeatReqInconsistent(
        "paymentRequestId already notified with other values for: " + ", ".join(differing)
    )


def _check_against_decode(row: Any, body: dict[str, Any]) -> None:
    """Amounts and customer must be what was decoded; the message names the field."""
    expected = {
        "paymentAmount": json.loads(row.payment_amount),
        "payToAmount": json.loads(row.pay_to_amount),
        "customerId": row.customer_id,
    }
    for name, value in expected.items():
        sent = body.get(name)
        if sent is not None and sent != value:
            raise ParamIllegal(
                f"{name} {dumps(sent)} differs from what was decoded ({dumps(value)}); "
                "echo the userInitiatedPay values exactly"
            )
    promo = body.get("paymentPromoInfo")
    if promo is not None and row.payment_promo_info and promo != json.loads(row.payment_promo_info):
        raise ParamIllegal(
            "paymentPromoInfo differs from the promotion that was decoded "
            f"({row.payment_promo_info})"
        )
