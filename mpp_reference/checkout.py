"""The user's side of a payment: identify the code, decode it, then Pay or Cancel.

Every final result is written together with its notifyPayment message (the outbox) in one
transaction, so nothing the user saw is ever lost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

import mpp_reference.defects as defects
from contracts import signing, validate
from mpp_reference.alipay_client import NOTIFY_PAYMENT, USER_INITIATED_PAY, AlipayPlusClient
from mpp_reference.clock import Clock
from mpp_reference.config import WalletConfig
from mpp_reference.db import iso, payments
from mpp_reference.ledger import InsufficientBalance, Ledger
from mpp_reference.outbox import Outbox
from mpp_reference.payment import Payment, PaymentBook, Problem, amount_of, new_id
from mpp_reference.results import result

log = logging.getLogger("mpp_reference.checkout")

# Codes of a failed decode that get their own page; every other F shows the generic one.
DECODE_ERROR_PAGES = {"EXPIRED_CODE": "expired", "ORDER_IS_CLOSED": "closed"}
RESULT_MESSAGES = {
    "SUCCESS": "Payment succeeded.",
    "USER_BALANCE_NOT_ENOUGH": "The balance is not enough for this payment.",
    "ORDER_IS_CLOSED": "The user cancelled the payment.",
}


@dataclass(eq=False)
class Checkout:
    """Identify, decode, confirm and cancel, as the cashier page and the driver hook do."""

    config: WalletConfig
    engine: Engine
    clock: Clock
    book: PaymentBook
    ledger: Ledger
    client: AlipayPlusClient
    outbox: Outbox
    identifier: Any

    def open_code(
        self, code_value: str, customer_id: str, scanned: bool = False
    ) -> Payment | Problem:
        """Identify and decode a code for a user: the payment to show, or why not."""
        code_value = code_value or ""
        if not code_value.strip():
            return Problem("unsupported", "PARAM_ILLEGAL", "No code value was given.")
        if self.ledger.user(customer_id) is None:
            return Problem("failed", "USER_NOT_EXIST", f"There is no wallet user {customer_id!r}.")
        found = self.identifier.identify(code_value)
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

    def _decode_backoff(self) -> tuple[float, ...]:
        # DEFECT: no_retry_on_u / u_treated_as_f -- a U or missing answer ends the decode.
        if defects.active(self.config, "no_retry_on_u") or defects.active(
            self.config, "u_treated_as_f"
        ):
            return ()
        return self.config.decode_backoff

    def decode(self, code_value: str, customer_id: str, scanned: bool = False) -> Payment | Problem:
        """userInitiatedPay with the retry discipline; stores the decoded payment."""
        outcome = self.client.call(
            USER_INITIATED_PAY,
            {"codeValue": code_value, "customerId": customer_id},
            self.config.decode_timeout,
            self._decode_backoff(),
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
        for violation in validate("userInitiatedPay", "response", body):
            log.warning("userInitiatedPay answer: %s %s", violation.pointer, violation.message)
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
        self._store_decoded(prid, code_value, customer_id, scanned, body)
        payment = self.book.get(prid)
        assert payment is not None
        if payment.status == "CLOSED":
            return Problem("closed", "ORDER_IS_CLOSED", "This order has been closed.", prid)
        return payment

    def _store_decoded(
        self, prid: str, code_value: str, customer_id: str, scanned: bool, body: dict[str, Any]
    ) -> None:
        pay_to = body["payToAmount"]
        now = iso(self.clock.now())
        details = {
            "code_value": code_value,
            "customer_id": customer_id,
            "decode_body": json.dumps(body, ensure_ascii=False),
            "pay_to_currency": pay_to["currency"],
            "pay_to_value": int(pay_to["value"]),
            "expiry": body.get("paymentExpiryTime"),
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            existing = self.book.get(prid, conn)
            if existing is None:
                conn.execute(
                    payments.insert().values(
                        payment_request_id=prid,
                        status="DECODED",
                        scanned=1 if scanned else 0,
                        created_at=now,
                        refunded_from_value=0,
                        refunded_value=0,
                        reversed_value=0,
                        **details,
                    )
                )
            elif existing.decoded == {}:
                # Alipay+ cancelled this order before the user opened it: remember the details
                # for the pages, but it stays closed.
                self.book.set(conn, prid, **details)

    def _expired(self, payment: Payment, now: datetime) -> bool:
        # DEFECT: pays_after_expiry -- the expiry check is skipped.
        if defects.active(self.config, "pays_after_expiry"):
            return False
        # No paymentExpiryTime: no local check; Alipay+ closes the order if it has a deadline.
        return bool(payment.expiry) and signing.parse_time(str(payment.expiry)) <= now

    def confirm(self, payment_request_id: str, customer_id: str) -> Payment | Problem:
        """The user pressed Pay: debit once, record the result, notify Alipay+ (via the outbox)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            payment = self._own(conn, payment_request_id, customer_id)
            if not isinstance(payment, Payment) or payment.status != "DECODED":
                return payment  # already final: pressing Pay again changes nothing
            if self._expired(payment, now):
                self.book.set(conn, payment_request_id, status="CLOSED", close_reason="EXPIRED")
                return Problem(
                    "expired",
                    "EXPIRED_CODE",
                    "The time to pay this order has run out; nothing was charged.",
                    payment_request_id,
                )
            ccy, value = amount_of(payment.debit)
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
        outcome = self.outbox.deliver(payment_request_id)
        # DEFECT: u_treated_as_f -- a U answer to the notification is taken as a failed payment.
        if defects.active(self.config, "u_treated_as_f") and outcome and outcome.status == "U":
            self._give_up_as_failed(payment_request_id, now)
        return self.book.get(payment_request_id) or Problem("failed", "PROCESS_FAIL", "lost")

    def _give_up_as_failed(self, payment_request_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            payment = self.book.get(payment_request_id, conn)
            if payment is None or payment.status != "SUCCESS":
                return
            ccy, value = amount_of(payment.debit)
            self.ledger.post(
                conn,
                reference=f"reversal:{payment_request_id}",
                customer_id=str(payment.customer_id),
                amount=value,
                currency=ccy,
                kind="REVERSAL",
                payment_request_id=payment_request_id,
                when=now,
            )
            self.book.set(conn, payment_request_id, status="FAILED", result_code="PROCESS_FAIL")

    def user_cancel(self, payment_request_id: str, customer_id: str) -> Payment | Problem:
        """The user pressed Cancel on the cashier: close the order and tell Alipay+."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            payment = self._own(conn, payment_request_id, customer_id)
            if not isinstance(payment, Payment) or payment.status != "DECODED":
                return payment
            self._finish(conn, payment, "F", "ORDER_IS_CLOSED", now, close_reason="USER_CANCELLED")
        self.outbox.deliver(payment_request_id)
        return self.book.get(payment_request_id) or Problem("failed", "PROCESS_FAIL", "lost")

    def _own(
        self, conn: Connection, payment_request_id: str, customer_id: str
    ) -> Payment | Problem:
        payment = self.book.get(payment_request_id, conn)
        if payment is None:
            return Problem("failed", "ORDER_NOT_EXIST", "This payment is unknown.")
        if payment.customer_id != customer_id:
            return Problem(
                "failed",
                "ACCESS_DENIED",
                "This payment was opened by another user.",
                payment_request_id,
            )
        return payment

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
        paid = status == "S"
        payment_result = result("paymentResult", code, RESULT_MESSAGES.get(code))
        payment_id = new_id("MPP", now) if paid else None
        self.book.set(
            conn,
            payment.payment_request_id,
            status="SUCCESS" if paid else "CLOSED" if close_reason else "FAILED",
            payment_id=payment_id,
            payment_time=signing.format_time(now) if paid else None,
            result_code=code,
            result_message=payment_result.get("resultMessage"),
            close_reason=close_reason,
        )
        url = payment.decoded.get("paymentNotifyUrl") or self.default_notify_url()
        message = self.notification(payment, payment_result, payment_id, now)
        self.outbox.enqueue(conn, payment.payment_request_id, url, message)

    def notification(
        self,
        payment: Payment,
        payment_result: dict[str, str],
        payment_id: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """The notifyPayment body: the result and an echo of the decoded amounts."""
        decoded = payment.decoded
        message: dict[str, Any] = {
            "paymentResult": payment_result,
            "paymentRequestId": payment.payment_request_id,
        }
        if payment_id:
            message["paymentId"] = payment_id
            message["paymentTime"] = signing.format_time(now)
        message["paymentAmount"] = decoded["paymentAmount"]
        message["payToAmount"] = decoded["payToAmount"]
        # DEFECT: notify_wrong_amount -- the notified payToAmount is not the decoded one.
        if defects.active(self.config, "notify_wrong_amount"):
            ccy, value = amount_of(decoded["payToAmount"])
            message["payToAmount"] = {"currency": ccy, "value": str(value + 1)}
        message["customerId"] = payment.customer_id
        if payment_id and decoded.get("paymentPromoInfo"):
            message["paymentPromoInfo"] = decoded["paymentPromoInfo"]
        return message

    def default_notify_url(self) -> str:
        """Where notifications go when the decode gave no paymentNotifyUrl: the configured
        default (the URL the Alipay+ Solution Architect gives), else Alipay+'s notifyPayment path."""
        return self.config.notify_url or self.client.url_for(NOTIFY_PAYMENT)
