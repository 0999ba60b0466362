"""Alipay+'s side: the wallet's answers to inquiryPayment, cancelPayment and refund.

`api.py` checks the signature and the contract first; these methods get a valid request body
and return the answer body (or raise a declared `ApiError`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

import mpp_reference.defects as defects
from contracts import signing
from mpp_reference.clock import Clock
from mpp_reference.config import WalletConfig
from mpp_reference.db import iso, payments, refunds
from mpp_reference.ledger import Ledger
from mpp_reference.payment import Payment, PaymentBook, amount_of, new_id
from mpp_reference.results import (
    OrderNotExist,
    OrderStatusInvalid,
    ParamIllegal,
    RefundAmountExceed,
    RefundWindowExceed,
    RepeatReqInconsistent,
    result,
)

REFUND_WINDOW = timedelta(days=366)
# The fields a refund replay is compared on (spec §3, idempotency).
REFUND_COMPARED = ("refundAmount", "refundFromAmount", "refundPromoInfo", "surchargeInfo")


@dataclass(eq=False)
class IncomingCalls:
    """Answers to the calls Alipay+ makes on the wallet."""

    config: WalletConfig
    engine: Engine
    clock: Clock
    book: PaymentBook
    ledger: Ledger

    # -- inquiryPayment ---------------------------------------------------------------------

    def inquiry_payment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer inquiryPayment: `result` is about the call, `paymentResult` about the payment."""
        prid = str(request.get("paymentRequestId") or "")
        payment = self.book.get(prid)
        if payment is None or not payment.decoded:
            # Never decoded here (or only cancelled before the user came): unknown to the wallet.
            if payment is not None and payment.status == "CLOSED":
                return {
                    "result": result("inquiryPayment", "SUCCESS"),
                    "paymentResult": result("paymentResult", "ORDER_IS_CLOSED"),
                }
            # DEFECT: inquiry_success_unknown_id -- an id never seen is reported paid.
            if defects.active(self.config, "inquiry_success_unknown_id"):
                return {
                    "result": result("inquiryPayment", "SUCCESS"),
                    "paymentResult": result("paymentResult", "SUCCESS"),
                }
            raise OrderNotExist(f"paymentRequestId {prid!r} is unknown to this wallet")
        answer: dict[str, Any] = {"result": result("inquiryPayment", "SUCCESS")}
        answer.update(self._payment_result(payment))
        answer["paymentAmount"] = payment.decoded["paymentAmount"]
        answer["payToAmount"] = payment.decoded["payToAmount"]
        answer["customerId"] = payment.customer_id
        # DEFECT: answer_schema_violation -- amounts' values sent as numbers.
        if defects.active(self.config, "answer_schema_violation"):
            for name in ("paymentAmount", "payToAmount"):
                ccy, value = amount_of(answer[name])
                answer[name] = {"currency": ccy, "value": value}
        return answer

    def _payment_result(self, payment: Payment) -> dict[str, Any]:
        status = payment.status
        # DEFECT: inquiry_disagrees -- a paid payment is reported failed, a failed one paid.
        if defects.active(self.config, "inquiry_disagrees"):
            status = {"SUCCESS": "FAILED", "FAILED": "SUCCESS", "CLOSED": "SUCCESS"}.get(
                status, status
            )
        if status == "DECODED":
            return {
                "paymentResult": result(
                    "paymentResult", "PAYMENT_IN_PROCESS", "The user has not confirmed yet."
                )
            }
        if status == "SUCCESS":
            return {
                "paymentResult": result("paymentResult", "SUCCESS"),
                "paymentId": payment.payment_id or new_id("MPP", self.clock.now()),
                "paymentTime": payment.payment_time or signing.format_time(self.clock.now()),
            }
        if status == "CLOSED":
            return {"paymentResult": result("paymentResult", "ORDER_IS_CLOSED")}
        code = payment.result_code if payment.status == "FAILED" else "PROCESS_FAIL"
        message = payment.result_message if payment.status == "FAILED" else None
        return {"paymentResult": result("paymentResult", code or "PROCESS_FAIL", message)}

    # -- cancelPayment ----------------------------------------------------------------------

    def cancel_payment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer cancelPayment: always succeeds; gives back whatever was debited, once.

        This is also how the two-wallet race ends: when the same code was paid in another
        wallet first, Alipay+ cancels the later success here and the user gets the money back.
        """
        prid = str(request.get("paymentRequestId") or "")
        with self.engine.begin() as conn:
            payment = self.book.get(prid, conn)
            if payment is None:
                self._remember_closed(conn, prid)
            elif payment.status != "CLOSED" or (payment.payment_id and not payment.reversed_value):
                self._close(conn, payment)
            elif defects.active(self.config, "cancel_not_idempotent") and payment.reversed_value:
                # DEFECT: cancel_not_idempotent -- a repeated cancel gives the money back again.
                self._give_back(
                    conn, payment, payment.reversed_value, f"{prid}:{new_id('', self.clock.now())}"
                )
        return {"result": result("cancelPayment", "SUCCESS")}

    def _remember_closed(self, conn: Connection, prid: str) -> None:
        """An unknown id: remembered, so a later decode of this order shows "closed", never pays."""
        stamp = iso(self.clock.now())
        conn.execute(
            payments.insert().values(
                payment_request_id=prid,
                status="CLOSED",
                close_reason="CANCELLED_BY_ALIPAY",
                scanned=0,
                refunded_from_value=0,
                refunded_value=0,
                reversed_value=0,
                created_at=stamp,
                updated_at=stamp,
            )
        )

    def _close(self, conn: Connection, payment: Payment) -> None:
        give_back = 0
        if payment.payment_id and not payment.reversed_value:
            give_back = amount_of(payment.debit)[1] - payment.refunded_from_value
        if give_back > 0:
            self._give_back(conn, payment, give_back, payment.payment_request_id)
        values: dict[str, Any] = {"status": "CLOSED", "reversed_value": give_back}
        if payment.status != "CLOSED":
            values["close_reason"] = "CANCELLED_BY_ALIPAY"
        self.book.set(conn, payment.payment_request_id, **values)

    def _give_back(self, conn: Connection, payment: Payment, value: int, reference: str) -> None:
        self.ledger.post(
            conn,
            reference=f"reversal:{reference}",
            customer_id=str(payment.customer_id),
            amount=value,
            currency=payment.debit["currency"],
            kind="REVERSAL",
            payment_request_id=payment.payment_request_id,
            when=self.clock.now(),
        )

    # -- refund -----------------------------------------------------------------------------

    def refund(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer refund: idempotent on refundRequestId; never more than the user paid."""
        rrid = str(request.get("refundRequestId") or "")
        prid = str(request.get("paymentRequestId") or "")
        fingerprint = json.dumps({key: request.get(key) for key in REFUND_COMPARED}, sort_keys=True)
        now = self.clock.now()
        with self.engine.begin() as conn:
            seen = conn.execute(select(refunds).where(refunds.c.refund_request_id == rrid)).first()
            # DEFECT: refund_replay_twice -- a replay is treated as a new refund.
            replay_twice = defects.active(self.config, "refund_replay_twice")
            if seen is not None and not replay_twice:
                if seen.fingerprint != fingerprint or seen.payment_request_id != prid:
                    raise RepeatReqInconsistent(
                        f"refundRequestId {rrid} was already used with other amounts"
                    )
                return json.loads(seen.response_body)
            payment = self._refundable(conn, prid, request)
            value, from_value = self._within_paid(conn, request, payment)
            refund_id = new_id("RF", now)
            self.ledger.post(
                conn,
                reference=f"refund:{rrid}" + (f":{refund_id}" if seen is not None else ""),
                customer_id=str(payment.customer_id),
                amount=from_value,
                currency=payment.debit["currency"],
                kind="REFUND",
                payment_request_id=prid,
                when=now,
            )
            answer = {
                "result": result("refund", "SUCCESS"),
                "refundId": refund_id,
                "refundTime": signing.format_time(now),
            }
            if seen is None:
                conn.execute(
                    refunds.insert().values(
                        refund_request_id=rrid,
                        payment_request_id=prid,
                        fingerprint=fingerprint,
                        refund_id=refund_id,
                        refund_time=answer["refundTime"],
                        refund_value=value,
                        refund_from_value=from_value,
                        response_body=json.dumps(answer),
                    )
                )
        return answer

    def _refundable(self, conn: Connection, prid: str, request: dict[str, Any]) -> Payment:
        payment = self.book.get(prid, conn)
        if payment is None or not payment.decoded:
            raise OrderNotExist(f"paymentRequestId {prid!r} is unknown to this wallet")
        if payment.status != "SUCCESS":
            raise OrderStatusInvalid(
                f"payment {prid} is {payment.status}; only successful payments can be refunded"
            )
        if request.get("paymentId") != payment.payment_id:
            raise ParamIllegal(
                f"/paymentId: {request.get('paymentId')!r} is not the paymentId of {prid}"
            )
        paid_at = payment.payment_time
        if paid_at and self.clock.now() - signing.parse_time(paid_at) > REFUND_WINDOW:
            raise RefundWindowExceed("the payment is more than 366 days old")
        return payment

    def _within_paid(
        self, conn: Connection, request: dict[str, Any], payment: Payment
    ) -> tuple[int, int]:
        """The refund's (order-currency, wallet-currency) values, once they fit what was paid;
        records the new totals."""
        prid = payment.payment_request_id
        ccy, value = self._refund_amount(request, "refundAmount", payment, "paymentAmount")
        from_ccy, from_value = self._refund_amount(
            request, "refundFromAmount", payment, "payToAmount"
        )
        row = conn.execute(select(payments).where(payments.c.payment_request_id == prid)).one()
        paid = int(payment.decoded["paymentAmount"]["value"])
        paid_from = amount_of(payment.debit)[1]
        total, total_from = row.refunded_value + value, row.refunded_from_value + from_value
        # DEFECT: refund_above_paid -- the limit is not checked.
        if (total > paid or total_from > paid_from) and not defects.active(
            self.config, "refund_above_paid"
        ):
            raise RefundAmountExceed(
                f"refunds would total {total} {ccy} of {paid} {ccy} "
                f"paid ({total_from} of {paid_from} {from_ccy})"
            )
        self.book.set(conn, prid, refunded_value=total, refunded_from_value=total_from)
        return value, from_value

    @staticmethod
    def _refund_amount(
        request: dict[str, Any], name: str, payment: Payment, paid_name: str
    ) -> tuple[str, int]:
        amount = request.get(name)
        paid_ccy = payment.decoded[paid_name]["currency"]
        if amount is None and name == "refundFromAmount":
            # Same currency on both sides: the refund amount is what goes back to the user.
            if payment.decoded["paymentAmount"]["currency"] == paid_ccy:
                amount = request.get("refundAmount")
            else:
                raise ParamIllegal(f"/{name}: required for a cross-currency payment")
        try:
            ccy, value = amount_of(amount)
        except (TypeError, KeyError, ValueError):
            raise ParamIllegal(f"/{name}: not an Amount with currency and value") from None
        if ccy != paid_ccy:
            raise ParamIllegal(f"/{name}/currency: {ccy} but the payment was in {paid_ccy}")
        if value <= 0:
            raise ParamIllegal(f"/{name}/value: must be positive")
        return ccy, value
