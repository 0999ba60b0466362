"""inquiryPayment: Alipay+ asks the wallet how a payment stands (Alipay+ -> wallet).

When: from the decode (Event.DECODED) until a final result, on `config.inquiry_schedule`
(gaps in seconds after the decode: 4, 4, 30, 60, 60, 60, 300, 300 by default); polls stop at
paymentExpiryTime (the expiry then closes and cancels the order) and when the payment turns
final (Event.FINAL).

Answers it acts on: result S with a final paymentResult (S or F) -> the payment becomes
SUCCESS or FAILED (`sim.payments.apply_wallet_result`; a success for a closed order is a late
success, reversed by cancelPayment). Anything else (F ORDER_NOT_EXIST, U/PAYMENT_IN_PROCESS, no
answer, a bad signature) -> the next poll, if any. Faults: the transport effects of
`simulator.outbound`, `skip_polling` (never poll this payment) and `unknown_inquiry` (also ask
about a paymentRequestId the wallet never saw).

Not simulated: polling after paymentExpiryTime; the request carries no paymentId (Alipay+ may
send one it learned elsewhere).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts import apis
from contracts.wire import dumps, request_id
from simulator.apis.calls import base_request
from simulator.events import Event, PaymentEvent
from simulator.faults.outbound import injected, note_for_exchange
from simulator.outbound import WalletAnswer, WalletClient
from simulator.payments import OPEN
from simulator.scheduler import Job
from simulator.state import Sim

API = apis.get("inquiryPayment")
# The fields of a final answer the payment keeps.
KEPT_FIELDS = ("paymentId", "paymentTime", "paymentAmount", "payToAmount", "customerId")


def _start_polling(sim: Sim, event: PaymentEvent) -> None:
    """Poll inquiryPayment on the configured schedule (unless a fault rule says not)."""
    payment_request_id = event.payment_request_id
    skip = injected(sim, API.name, payment_request_id, "skip_polling")
    if skip is not None:
        note_for_exchange(skip.note() + ": no inquiryPayment will be sent")
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


def _why_not_final(answer: WalletAnswer, payment_result: Any) -> str:
    if not answer.trusted:
        return str(answer.error)
    if answer.status == "F" and answer.code == "ORDER_NOT_EXIST":
        return "ORDER_NOT_EXIST: the wallet has not seen the order (user not on the cashier yet?)"
    if isinstance(payment_result, dict):
        return (
            f"paymentResult {payment_result.get('resultStatus')} {payment_result.get('resultCode')}"
        )
    if answer.status == "S":
        return "result S without a paymentResult"
    return f"result {answer.describe()}"


def _run_inquiry(sim: Sim, job: Job) -> None:
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
        why = _why_not_final(answer, payment_result)
        if next_due is not None:
            return f"{label}: not final ({why}); next poll in {schedule[poll]} s"
        if poll < len(schedule):
            return f"{label}: not final ({why}); the next poll would come after expiry"
        return f"{label}: not final ({why}); no polls left, expiry will close the order"

    unknown = injected(sim, API.name, payment_request_id, "unknown_inquiry")
    if unknown is not None:
        stranger = request_id(sim.clock.now(), sim.ids.rng(), letter="X")
        WalletClient(sim).call(
            API.name,
            record["client_id"],
            dumps({**base_request(record), "paymentRequestId": stranger}),
            payment_request_id=stranger,
            note=f"{unknown.note()}: a paymentRequestId the wallet never saw (before {label})",
        )
    answer = WalletClient(sim).call(
        API.name,
        record["client_id"],
        dumps(base_request(record)),
        payment_request_id=payment_request_id,
        note=decide,
    )
    if "final" in verdict:
        body = answer.body or {}
        fields = {name: body[name] for name in KEPT_FIELDS if body.get(name) is not None}
        sim.payments.apply_wallet_result(payment_request_id, verdict["final"], fields, API.name)
        return
    if next_due is not None:
        sim.scheduler.enqueue(
            "inquiry",
            {"paymentRequestId": payment_request_id, "poll": poll + 1},
            next_due,
            key=job.key,
        )


def register(sim: Sim) -> None:
    """The `inquiry` job; polls start on DECODED and stop on FINAL."""
    sim.scheduler.register("inquiry", _run_inquiry)
    sim.events.on(Event.DECODED, lambda event: _start_polling(sim, event))
    sim.events.on(
        Event.FINAL, lambda event: sim.scheduler.cancel(f"inquiry:{event.payment_request_id}")
    )
