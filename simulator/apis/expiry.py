"""paymentExpiryTime: every order closes at its expiry unless it is final by then.

Cashier Payment orders live 10 minutes at most (`orders.MAX_EXPIRY_SECONDS`). On ORDER_CREATED an
`expire` job is due at paymentExpiryTime; on FINAL it is dropped. When it runs, the payment goes
CREATED/DECODED -> CLOSED (`sim.payments.expire`, Event.EXPIRED), and cancelPayment follows
(simulator/apis/cancel_payment.py). A code decoded after that answers EXPIRED_CODE.
"""

from __future__ import annotations

from simulator.events import Event, PaymentEvent
from simulator.scheduler import Job
from simulator.state import Sim


def _schedule(sim: Sim, event: PaymentEvent) -> None:
    """An `expire` job at the order's paymentExpiryTime."""
    payment_request_id = event.payment_request_id
    record = sim.payments.get_record(payment_request_id)
    if record is None:
        return
    sim.scheduler.enqueue(
        "expire",
        {"paymentRequestId": payment_request_id},
        record["expiry"],
        key=f"expire:{payment_request_id}",
    )


def _run_expire(sim: Sim, job: Job) -> None:
    sim.payments.expire(job.payload["paymentRequestId"])


def register(sim: Sim) -> None:
    """The `expire` job, scheduled on ORDER_CREATED and dropped on FINAL."""
    sim.scheduler.register("expire", _run_expire)
    sim.events.on(Event.ORDER_CREATED, lambda event: _schedule(sim, event))
    sim.events.on(
        Event.FINAL, lambda event: sim.scheduler.cancel(f"expire:{event.payment_request_id}")
    )
