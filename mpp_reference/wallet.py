"""The wallet's business logic: decode, pay, cancel, answer inquiries, cancellations and refunds.

Pages, the driver endpoint and the endpoints Alipay+ calls are thin layers over this object.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from contracts import signing
from mpp_reference.alipay_client import (
    NOTIFY_PAYMENT,
    USER_INITIATED_PAY,
    AlipayPlusClient,
    CallOutcome,
)
from mpp_reference.clock import Clock
from mpp_reference.config import WalletConfig
from mpp_reference.db import iso, payments, refunds
from mpp_reference.ledger import InsufficientBalance, Ledger
from mpp_reference.outbox import Outbox
from mpp_reference.results import (
    OrderNotExist,
    OrderStatusInvalid,
    ParamIllegal,
    RefundAmountExceed,
    RefundWindowExceed,
    RepeatReqInconsistent,
    result,
)

log = logging.getLogger("mpp_reference.wallet")

REFUND_WINDOW = timedelta(days=366)
# Codes of a failed decode that get their own page; every other F shows the generic one.
DECODE_ERROR_PAGES = {"EXPIRED_CODE": "expired", "ORDER_IS_CLOSED": "closed"}


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
        merchant = self.decoded.get("order", {}).get("merchant", {})
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


def _amount(value: Any) -> tuple[str, int]:
    return str(value["currency"]), int(value["value"])


def _new_id(prefix: str, now: datetime) -> str:
    return f"{prefix}{now:%Y%m%d%H%M%S}{secrets.token_hex(8)}"


class Wallet:
    """One wallet: its users' money, its payments, and its conversation with Alipay+."""

    def __init__(
        self,
        config: WalletConfig,
        engine: Engine,
        clock: Clock,
        ledger: Ledger,
        client: AlipayPlusClient,
        outbox: Outbox,
        identifier: Any,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.ledger = ledger
        self.client = client
        self.outbox = outbox
        self.identifier = identifier
        self.private_key: Any = client.private_key  # the wallet's own key (signs answers)
        self.alipay_public_key: Any = None  # callable giving Alipay+'s key (checks requests)

    # -- reading ----------------------------------------------------------------------------

    def payment(self, payment_request_id: str, conn: Connection | None = None) -> Payment | None:
        """A payment the wallet knows, or None."""
        query = select(payments).where(payments.c.payment_request_id == payment_request_id)
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        return self._to_payment(row) if row else None

    @staticmethod
    def _to_payment(row: Any) -> Payment:
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

    def recent_payments(self, limit: int = 20) -> list[Payment]:
        """The newest payments."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(payments).order_by(payments.c.created_at.desc()).limit(limit)
            ).all()
        return [self._to_payment(r) for r in rows]

    def seconds_left(self, payment: Payment) -> int:
        """Seconds until paymentExpiryTime (0 when past or unknown)."""
        if not payment.expiry:
            return 0
        left = (signing.parse_time(payment.expiry) - self.clock.now()).total_seconds()
        return max(0, int(left))

    # -- the user's side: identify, decode, pay, cancel -------------------------------------

    def identify(self, code_value: str) -> dict[str, Any]:
        """The code-identification result (the server SDK's fields)."""
        return self.identifier.identify(code_value)

    def open_code(
        self, code_value: str, customer_id: str, scanned: bool = False
    ) -> Payment | Problem:
        """Identify and decode a code for a user: the payment to show, or why not."""
        code_value = code_value or ""
        if not code_value.strip():
            return Problem("unsupported", "PARAM_ILLEGAL", "No code value was given.")
        if self.ledger.user(customer_id) is None:
            return Problem("failed", "USER_NOT_EXIST", f"There is no wallet user {customer_id!r}.")
        found = self.identify(code_value)
        status = (found.get("result") or {}).get("resultStatus")
        if status != "S":
            return Problem(
                "failed",
                (found.get("result") or {}).get("resultCode", "UNKNOWN_EXCEPTION"),
                "The code could not be identified; please try again later.",
            )
        if not found.get("isSupported"):
            return Problem(
                "unsupported", "NOT_SUPPORTED", "This code cannot be paid with this wallet."
            )
        if found.get("postCodeMatchActionType") != "DECODE":
            url = found.get("redirectUrl") or ""
            return Problem(
                "unsupported",
                "OPEN_URL",
                f"This is an entry code that opens a page ({url}), not an order to pay here.",
            )
        return self.decode(found.get("codeValue") or code_value, customer_id, scanned)

    def decode(self, code_value: str, customer_id: str, scanned: bool = False) -> Payment | Problem:
        """userInitiatedPay with the retry discipline; stores the decoded payment."""
        outcome = self.client.call(
            USER_INITIATED_PAY,
            {"codeValue": code_value, "customerId": customer_id},
            self.config.decode_timeout,
            self.config.decode_backoff,
        )
        if outcome.status == "U":
            return Problem(
                "failed",
                outcome.code,
                "Alipay+ did not give a definite answer after "
                f"{outcome.attempts} attempts ({outcome.message}). Nothing was charged; "
                "please try again.",
                attempts=outcome.attempts,
            )
        if outcome.status == "F":
            return Problem(
                DECODE_ERROR_PAGES.get(outcome.code, "failed"),
                outcome.code,
                outcome.message or outcome.code,
                attempts=outcome.attempts,
            )
        body = outcome.body or {}
        self._check_decoded(body)
        prid = str(body.get("paymentRequestId") or "")
        if not prid:
            return Problem("failed", "PROCESS_FAIL", "Alipay+ answered without a paymentRequestId.")
        pay_to = body.get("payToAmount") or {}
        if pay_to.get("currency") != self.config.wallet_currency:
            return Problem(
                "failed",
                "CURRENCY_NOT_SUPPORT",
                f"This wallet pays in {self.config.wallet_currency}, not {pay_to.get('currency')}.",
                prid,
            )
        now = iso(self.clock.now())
        with self.engine.begin() as conn:
            existing = self.payment(prid, conn)
            if existing is None:
                conn.execute(
                    payments.insert().values(
                        payment_request_id=prid,
                        code_value=code_value,
                        customer_id=customer_id,
                        status="DECODED",
                        scanned=1 if scanned else 0,
                        decode_body=json.dumps(body, ensure_ascii=False),
                        pay_to_currency=pay_to["currency"],
                        pay_to_value=int(pay_to["value"]),
                        expiry=body.get("paymentExpiryTime"),
                        created_at=now,
                        updated_at=now,
                        refunded_from_value=0,
                        refunded_value=0,
                        reversed_value=0,
                    )
                )
            elif existing.decoded == {}:
                # Alipay+ cancelled this order before the user opened it: remember the details
                # for the pages, but it stays closed.
                conn.execute(
                    payments.update()
                    .where(payments.c.payment_request_id == prid)
                    .values(
                        code_value=code_value,
                        customer_id=customer_id,
                        decode_body=json.dumps(body, ensure_ascii=False),
                        pay_to_currency=pay_to["currency"],
                        pay_to_value=int(pay_to["value"]),
                        expiry=body.get("paymentExpiryTime"),
                        updated_at=now,
                    )
                )
        payment = self.payment(prid)
        assert payment is not None
        if payment.status == "CLOSED":
            return Problem("closed", "ORDER_IS_CLOSED", "This order has been closed.", prid)
        return payment

    @staticmethod
    def _check_decoded(body: dict[str, Any]) -> None:
        try:
            from contracts import validate
        except ImportError:  # pragma: no cover - contracts.validation not there yet
            return
        for violation in validate("userInitiatedPay", "response", body):
            log.warning("userInitiatedPay answer: %s %s", violation.pointer, violation.message)

    def confirm(self, payment_request_id: str, customer_id: str) -> Payment | Problem:
        """The user pressed Pay: debit once, record the result, notify Alipay+ (via the outbox)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            payment = self.payment(payment_request_id, conn)
            if payment is None:
                return Problem("failed", "ORDER_NOT_EXIST", "This payment is unknown.")
            if payment.customer_id != customer_id:
                return Problem(
                    "failed",
                    "ACCESS_DENIED",
                    "This payment was opened by another user.",
                    payment_request_id,
                )
            if payment.status != "DECODED":
                return payment  # already final: pressing Pay again changes nothing
            if payment.expiry and signing.parse_time(payment.expiry) <= now:
                self._set(conn, payment_request_id, status="CLOSED", close_reason="EXPIRED")
                return Problem(
                    "expired",
                    "EXPIRED_CODE",
                    "The time to pay this order has run out; nothing was charged.",
                    payment_request_id,
                )
            ccy, value = _amount(payment.decoded["payToAmount"])
            try:
                self.ledger.post(
                    conn,
                    reference=f"payment:{payment_request_id}",
                    customer_id=customer_id,
                    amount=-value,
                    currency=ccy,
                    kind="PAYMENT",
                    payment_request_id=payment_request_id,
                    when=now,
                )
            except InsufficientBalance:
                self._finish(conn, payment, "F", "USER_BALANCE_NOT_ENOUGH", now)
            else:
                self._finish(conn, payment, "S", "SUCCESS", now)
        self.outbox.deliver(payment_request_id)
        return self.payment(payment_request_id) or Problem("failed", "PROCESS_FAIL", "lost")

    def user_cancel(self, payment_request_id: str, customer_id: str) -> Payment | Problem:
        """The user pressed Cancel on the cashier: close the order and tell Alipay+."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            payment = self.payment(payment_request_id, conn)
            if payment is None:
                return Problem("failed", "ORDER_NOT_EXIST", "This payment is unknown.")
            if payment.customer_id != customer_id:
                return Problem(
                    "failed", "ACCESS_DENIED", "This payment was opened by another user."
                )
            if payment.status != "DECODED":
                return payment
            self._finish(conn, payment, "F", "ORDER_IS_CLOSED", now, close_reason="USER_CANCELLED")
        self.outbox.deliver(payment_request_id)
        return self.payment(payment_request_id) or Problem("failed", "PROCESS_FAIL", "lost")

    def _finish(
        self,
        conn: Connection,
        payment: Payment,
        status: str,
        code: str,
        now: datetime,
        close_reason: str | None = None,
    ) -> None:
        """Record a final result and put its notifyPayment in the outbox, in one transaction."""
        decoded = payment.decoded
        paid = status == "S"
        messages = {
            "SUCCESS": "Payment succeeded.",
            "USER_BALANCE_NOT_ENOUGH": "The balance is not enough for this payment.",
            "ORDER_IS_CLOSED": "The user cancelled the payment.",
        }
        payment_result = result("paymentResult", code, messages.get(code))
        payment_id = _new_id("MPP", now) if paid else None
        self._set(
            conn,
            payment.payment_request_id,
            status="SUCCESS" if paid else "CLOSED" if close_reason else "FAILED",
            payment_id=payment_id,
            payment_time=signing.format_time(now) if paid else None,
            result_code=code,
            result_message=payment_result.get("resultMessage"),
            close_reason=close_reason,
        )
        message: dict[str, Any] = {
            "paymentResult": payment_result,
            "paymentRequestId": payment.payment_request_id,
        }
        if paid:
            message["paymentId"] = payment_id
            message["paymentTime"] = signing.format_time(now)
        message["paymentAmount"] = decoded["paymentAmount"]
        message["payToAmount"] = decoded["payToAmount"]
        message["customerId"] = payment.customer_id
        if paid and decoded.get("paymentPromoInfo"):
            message["paymentPromoInfo"] = decoded["paymentPromoInfo"]
        url = decoded.get("paymentNotifyUrl") or self.client.url_for(NOTIFY_PAYMENT)
        self.outbox.enqueue(conn, payment.payment_request_id, url, message)

    def _set(self, conn: Connection, payment_request_id: str, **values: Any) -> None:
        values["updated_at"] = iso(self.clock.now())
        conn.execute(
            payments.update()
            .where(payments.c.payment_request_id == payment_request_id)
            .values(**values)
        )

    # -- Alipay+'s side: inquiryPayment, cancelPayment, refund --------------------------------

    def inquiry_payment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer inquiryPayment: `result` is about the call, `paymentResult` about the payment."""
        prid = str(request.get("paymentRequestId") or "")
        payment = self.payment(prid)
        if payment is None or not payment.decoded:
            # Never decoded here (or only cancelled before the user came): unknown to the wallet.
            if payment is not None and payment.status == "CLOSED":
                return {
                    "result": result("inquiryPayment", "SUCCESS"),
                    "paymentResult": result("paymentResult", "ORDER_IS_CLOSED"),
                }
            raise OrderNotExist(f"paymentRequestId {prid!r} is unknown to this wallet")
        answer: dict[str, Any] = {"result": result("inquiryPayment", "SUCCESS")}
        if payment.status == "DECODED":
            answer["paymentResult"] = result(
                "paymentResult", "PAYMENT_IN_PROCESS", "The user has not confirmed yet."
            )
        elif payment.status == "SUCCESS":
            answer["paymentResult"] = result("paymentResult", "SUCCESS")
            answer["paymentId"] = payment.payment_id
            answer["paymentTime"] = payment.payment_time
        elif payment.status == "CLOSED":
            answer["paymentResult"] = result("paymentResult", "ORDER_IS_CLOSED")
        else:
            answer["paymentResult"] = result(
                "paymentResult", payment.result_code or "PROCESS_FAIL", payment.result_message
            )
        answer["paymentAmount"] = payment.decoded["paymentAmount"]
        answer["payToAmount"] = payment.decoded["payToAmount"]
        answer["customerId"] = payment.customer_id
        return answer

    def cancel_payment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer cancelPayment: always succeeds; gives back whatever was debited, once."""
        prid = str(request.get("paymentRequestId") or "")
        now = self.clock.now()
        with self.engine.begin() as conn:
            payment = self.payment(prid, conn)
            if payment is None:
                # Remember it, so a later decode of this order shows "closed" and never pays.
                stamp = iso(now)
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
            elif payment.status != "CLOSED" or (payment.payment_id and not payment.reversed_value):
                give_back = 0
                if payment.payment_id and not payment.reversed_value:
                    paid = int(payment.decoded["payToAmount"]["value"])
                    give_back = paid - payment.refunded_from_value
                if give_back > 0:
                    self.ledger.post(
                        conn,
                        reference=f"reversal:{prid}",
                        customer_id=str(payment.customer_id),
                        amount=give_back,
                        currency=payment.decoded["payToAmount"]["currency"],
                        kind="REVERSAL",
                        payment_request_id=prid,
                        when=now,
                    )
                values: dict[str, Any] = {"status": "CLOSED", "reversed_value": give_back}
                if payment.status != "CLOSED":
                    values["close_reason"] = "CANCELLED_BY_ALIPAY"
                self._set(conn, prid, **values)
        return {"result": result("cancelPayment", "SUCCESS")}

    def refund(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer refund: idempotent on refundRequestId; never more than the user paid."""
        rrid = str(request.get("refundRequestId") or "")
        prid = str(request.get("paymentRequestId") or "")
        fingerprint = json.dumps(
            {
                key: request.get(key)
                for key in ("refundAmount", "refundFromAmount", "refundPromoInfo", "surchargeInfo")
            },
            sort_keys=True,
        )
        now = self.clock.now()
        with self.engine.begin() as conn:
            seen = conn.execute(select(refunds).where(refunds.c.refund_request_id == rrid)).first()
            if seen is not None:
                if seen.fingerprint != fingerprint or seen.payment_request_id != prid:
                    raise RepeatReqInconsistent(
                        f"refundRequestId {rrid} was already used with other amounts"
                    )
                return json.loads(seen.response_body)
            payment = self.payment(prid, conn)
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
            if payment.payment_time and now - signing.parse_time(payment.payment_time) > (
                REFUND_WINDOW
            ):
                raise RefundWindowExceed("the payment is more than 366 days old")
            ccy, value = self._refund_amount(request, "refundAmount", payment, "paymentAmount")
            from_ccy, from_value = self._refund_amount(
                request, "refundFromAmount", payment, "payToAmount"
            )
            row = conn.execute(select(payments).where(payments.c.payment_request_id == prid)).one()
            paid = int(payment.decoded["paymentAmount"]["value"])
            paid_from = int(payment.decoded["payToAmount"]["value"])
            if (
                row.refunded_value + value > paid
                or row.refunded_from_value + from_value > paid_from
            ):
                raise RefundAmountExceed(
                    f"refunds would total {row.refunded_value + value} {ccy} of {paid} {ccy} "
                    f"paid ({row.refunded_from_value + from_value} of {paid_from} {from_ccy})"
                )
            self.ledger.post(
                conn,
                reference=f"refund:{rrid}",
                customer_id=str(payment.customer_id),
                amount=from_value,
                currency=from_ccy,
                kind="REFUND",
                payment_request_id=prid,
                when=now,
            )
            answer = {
                "result": result("refund", "SUCCESS"),
                "refundId": _new_id("RF", now),
                "refundTime": signing.format_time(now),
            }
            conn.execute(
                refunds.insert().values(
                    refund_request_id=rrid,
                    payment_request_id=prid,
                    fingerprint=fingerprint,
                    refund_id=answer["refundId"],
                    refund_time=answer["refundTime"],
                    refund_value=value,
                    refund_from_value=from_value,
                    response_body=json.dumps(answer),
                )
            )
            self._set(
                conn,
                prid,
                refunded_value=row.refunded_value + value,
                refunded_from_value=row.refunded_from_value + from_value,
            )
        return answer

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
            ccy, value = _amount(amount)
        except (TypeError, KeyError, ValueError):
            raise ParamIllegal(f"/{name}: not an Amount with currency and value") from None
        if ccy != paid_ccy:
            raise ParamIllegal(f"/{name}/currency: {ccy} but the payment was in {paid_ccy}")
        if value <= 0:
            raise ParamIllegal(f"/{name}/value: must be positive")
        return ccy, value

    def notification(self, payment_request_id: str) -> dict[str, Any] | None:
        """The notifyPayment message of a payment and how its delivery went."""
        return self.outbox.get(payment_request_id)

    def describe_outcome(self, outcome: CallOutcome | None) -> str:
        """A line for pages."""
        return outcome.describe() if outcome else "not sent yet"
