"""userInitiatedPay: a wallet decodes an order code for its user (wallet -> Alipay+).

The answer is everything the cashier shows: the order, paymentAmount and payToAmount (FX quote
and promotion applied when the order was created), paymentExpiryTime, the paymentNotifyUrl and
paymentRedirectUrl. Transition: CREATED -> DECODED (`sim.payments.decode`, Event.DECODED: the
inquiryPayment polls start). Idempotent on codeValue (contracts/apis.py): the same codeValue and
customerId get the same bytes again; another customerId gets REPEAT_REQ_INCONSISTENT.

Answers: SUCCESS; INVALID_CODE (not a code Alipay+ issued), ACCESS_DENIED (issued for another
wallet), EXPIRED_CODE (past paymentExpiryTime), ORDER_IS_CLOSED (closed, paid or failed),
REPEAT_REQ_INCONSISTENT. Faults: every inbound effect; magic customerId values and magic order
amounts (4040 1xx, 4040 90x).

Not simulated: codes other than Cashier Payment order codes (entry codes, user-presented codes);
the merchant, currency and amount limits (CURRENCY_NOT_SUPPORT, USER_AMOUNT_EXCEED_LIMIT, ...)
are only answered when injected.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from contracts import apis
from contracts.wire import wire_time
from simulator.db import unstamp
from simulator.errors import (
    AccessDenied,
    ExpiredCode,
    InvalidCode,
    OrderIsClosed,
    RepeatReqInconsistent,
    success,
)
from simulator.exchange import Inbound
from simulator.state import current

API = apis.get("userInitiatedPay")
NOTIFY_PAYMENT_PATH = apis.get("notifyPayment").path
# The codes this handler answers itself (the pipeline adds its own, e.g. INVALID_SIGNATURE).
CODES = (
    "SUCCESS",
    "INVALID_CODE",
    "ACCESS_DENIED",
    "EXPIRED_CODE",
    "ORDER_IS_CLOSED",
    "REPEAT_REQ_INCONSISTENT",
)


def handle(inbound: Inbound) -> str:
    """Decode an order code for a wallet user; the exact body of the answer (idempotent)."""
    sim = current()
    code_value = inbound.body["codeValue"]
    now = sim.clock.now()
    # Most calls are answered from a plain read (replays, refusals): only a first decode
    # takes the write lock, and then checks the state again under it.
    answer = _not_decoding(sim.payments.find_by_code(code_value), inbound, now)
    if answer is not None:
        return answer
    base = sim.config.base_url.rstrip("/")
    return sim.payments.decode(
        code_value,
        check=lambda row: _not_decoding(row, inbound, now),
        answer=lambda row: _decoded(row, base),
        customer_id=inbound.body["customerId"],
        pass_through_info=inbound.body.get("passThroughInfo"),
    )


def _not_decoding(row: Any, inbound: Inbound, now: datetime) -> str | None:
    """The answer for a code that is not decoded now: a refusal (raised) or the stored answer
    of a replay; None: go on and decode it."""
    code_value = inbound.body["codeValue"]
    if row is None:
        raise InvalidCode(f"codeValue {code_value!r} is not an order code Alipay+ issued")
    inbound.payment_request_id = row.payment_request_id
    if row.client_id != inbound.client_id:
        raise AccessDenied(
            f"this order code was issued for the wallet {row.client_id!r}, "
            f"not for {inbound.client_id!r}"
        )
    expiry = unstamp(row.expiry_at)
    if row.status == "CLOSED":
        if now >= expiry:
            raise ExpiredCode(f"the code expired at {wire_time(expiry)}")
        raise OrderIsClosed(f"the order was closed ({row.close_reason})")
    if row.status == "SUCCESS":
        raise OrderIsClosed("the order has already been paid")
    if row.status == "FAILED":
        raise OrderIsClosed("the order has already failed")
    if now >= expiry:
        raise ExpiredCode(f"the code expired at {wire_time(expiry)}")
    if row.status == "DECODED":
        if row.customer_id != inbound.body["customerId"]:
            raise RepeatReqInconsistent(
                "this code was already decoded for another customerId; the same "
                "codeValue may only be decoded again with the same customerId"
            )
        inbound.note = "replay: the same answer as the first decode"
        return row.decode_response
    return None


def _decoded(row: Any, base: str) -> dict[str, Any]:
    """The answer to a first decode (stored, and sent again to every replay)."""
    response: dict[str, Any] = {
        "result": success(API.name),
        "acquirerId": row.acquirer_id,
        "pspId": row.psp_id,  # as at order creation: the outbound calls send this one too
        "codeType": "ORDER_CODE",
        "paymentRequestId": row.payment_request_id,
        "order": json.loads(row.order_json),
        "paymentAmount": json.loads(row.payment_amount),
        "payToAmount": json.loads(row.pay_to_amount),
    }
    if row.payment_quote:
        response["paymentQuote"] = json.loads(row.payment_quote)
    response["paymentFactor"] = {"isCashierPayment": "true"}
    if row.payment_promo_info:
        response["paymentPromoInfo"] = json.loads(row.payment_promo_info)
    response["paymentExpiryTime"] = wire_time(unstamp(row.expiry_at))
    response["paymentNotifyUrl"] = base + NOTIFY_PAYMENT_PATH
    response["paymentRedirectUrl"] = row.redirect_url
    return response
