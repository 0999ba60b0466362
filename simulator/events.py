"""What happened to a payment, announced to whoever listens: `sim.events` (a small typed hub).

The payment state machine (simulator/payments.py) announces each transition after its
transaction commits; the API modules that act on it listen (inquiry polling starts on DECODED,
cancelPayment follows EXPIRED and LATE_SUCCESS, the merchant hears of FINAL). Nothing is looked
up by name: a module registers its listeners in its `init_app`.

    sim.events.on(Event.FINAL, listener)      # listener(PaymentEvent) -> None
    sim.events.emit(Event.FINAL, payment_request_id)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class Event(StrEnum):
    """The payment events, in the order a payment can meet them."""

    ORDER_CREATED = "order_created"  # CREATED: the merchant's order and its code exist
    DECODED = "decoded"  # CREATED -> DECODED: userInitiatedPay decoded the code
    FINAL = "final"  # -> SUCCESS | FAILED | CLOSED (notifyPayment, inquiryPayment, close, expiry)
    EXPIRED = "expired"  # -> CLOSED because paymentExpiryTime passed without a final result
    LATE_SUCCESS = "late_success"  # a success for a CLOSED or FAILED payment: reverse it


@dataclass(frozen=True)
class PaymentEvent:
    """One announcement: which event, for which payment, and why (late success, expiry)."""

    event: Event
    payment_request_id: str
    reason: str | None = None


Listener = Callable[[PaymentEvent], None]


class Events:
    """Listeners per event, called in the order they were registered."""

    def __init__(self) -> None:
        self._listeners: dict[Event, list[Listener]] = {event: [] for event in Event}

    def on(self, event: Event, listener: Listener) -> None:
        """Call `listener(PaymentEvent)` each time `event` is announced."""
        self._listeners[event].append(listener)

    def clear(self) -> None:
        """Forget every listener (tests that watch the state machine alone)."""
        for listeners in self._listeners.values():
            listeners.clear()

    def emit(self, event: Event, payment_request_id: str, reason: str | None = None) -> None:
        """Announce `event`; a failing listener is logged and never undoes the transition."""
        announcement = PaymentEvent(event, payment_request_id, reason)
        for listener in list(self._listeners[event]):
            try:
                listener(announcement)
            except Exception:  # the state change is committed and answered: keep going
                log.exception("listener of %s failed for %s", event, payment_request_id)
