"""The wallet: one object the pages, the driver hook and the endpoints Alipay+ calls talk to.

The work is done by `checkout.Checkout` (the user's side: identify, decode, pay, cancel) and
`incoming.IncomingCalls` (Alipay+'s side: inquiryPayment, cancelPayment, refund), over the
`payment.PaymentBook`, the `ledger.Ledger` and the notifyPayment `outbox.Outbox`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from mpp_reference.alipay_client import AlipayPlusClient, CallOutcome
from mpp_reference.checkout import Checkout
from mpp_reference.clock import Clock
from mpp_reference.config import WalletConfig
from mpp_reference.incoming import IncomingCalls
from mpp_reference.ledger import Ledger
from mpp_reference.outbox import Outbox
from mpp_reference.payment import Payment, PaymentBook, Problem

__all__ = ["Payment", "Problem", "Wallet"]


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
        self.book = PaymentBook(engine, clock)
        self.checkout = Checkout(
            config, engine, clock, self.book, ledger, client, outbox, identifier
        )
        self.incoming = IncomingCalls(config, engine, clock, self.book, ledger)
        self.private_key: Any = client.private_key  # the wallet's own key (signs answers)
        self.alipay_public_key: Any = None  # callable giving Alipay+'s key (checks requests)

    # -- reading ----------------------------------------------------------------------------

    def payment(self, payment_request_id: str, conn: Connection | None = None) -> Payment | None:
        """A payment the wallet knows, or None."""
        return self.book.get(payment_request_id, conn)

    def recent_payments(self, limit: int = 20) -> list[Payment]:
        """The newest payments."""
        return self.book.recent(limit)

    def seconds_left(self, payment: Payment) -> int | None:
        """Seconds until paymentExpiryTime (0 when past; None without an expiry)."""
        return self.book.seconds_left(payment)

    def notification(self, payment_request_id: str) -> dict[str, Any] | None:
        """The notifyPayment message of a payment and how its delivery went."""
        return self.outbox.get(payment_request_id)

    def describe_outcome(self, outcome: CallOutcome | None) -> str:
        """A line for pages."""
        return outcome.describe() if outcome else "not sent yet"

    # -- the user's side --------------------------------------------------------------------

    def identify(self, code_value: str) -> dict[str, Any]:
        """The code-identification result (the server SDK's fields)."""
        return self.identifier.identify(code_value)

    def open_code(
        self, code_value: str, customer_id: str, scanned: bool = False
    ) -> Payment | Problem:
        """Identify and decode a code for a user: the payment to show, or why not."""
        return self.checkout.open_code(code_value, customer_id, scanned)

    def decode(self, code_value: str, customer_id: str, scanned: bool = False) -> Payment | Problem:
        """userInitiatedPay with the retry discipline; stores the decoded payment."""
        return self.checkout.decode(code_value, customer_id, scanned)

    def confirm(self, payment_request_id: str, customer_id: str) -> Payment | Problem:
        """The user pressed Pay."""
        return self.checkout.confirm(payment_request_id, customer_id)

    def user_cancel(self, payment_request_id: str, customer_id: str) -> Payment | Problem:
        """The user pressed Cancel."""
        return self.checkout.user_cancel(payment_request_id, customer_id)

    # -- Alipay+'s side ---------------------------------------------------------------------

    def inquiry_payment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer inquiryPayment."""
        return self.incoming.inquiry_payment(request)

    def cancel_payment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer cancelPayment."""
        return self.incoming.cancel_payment(request)

    def refund(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer refund."""
        return self.incoming.refund(request)
