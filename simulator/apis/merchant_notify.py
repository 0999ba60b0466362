"""The merchant's result notification: the simulator POSTs a payment's final state to the
order's notifyUrl (not an Alipay+ message: the acquirer's side of the network, in small).

When: the payment turns final (Event.FINAL) and the order has a notifyUrl. Body: the payment's
view (GET /_sim/payments/<id> without the exchanges) with `"notifyType": "PAYMENT_RESULT"`,
signed with the simulator's key like an Alipay+ request. Any 2xx ends it; anything else is
retried with the back-off of `RetrySeries` for at most `config.give_up_seconds`.

Not simulated: the acquirer's own message formats; the notification is neither journaled nor
subject to fault rules.
"""

from __future__ import annotations

from datetime import datetime

import requests

from contracts import signing
from contracts.wire import ALIPAY_TZ, dumps
from simulator.apis.calls import RetrySeries, give_up_after
from simulator.db import stamp
from simulator.events import Event, PaymentEvent
from simulator.scheduler import Job
from simulator.state import Sim

TIMEOUT_SECONDS = 5.0


def _on_final(sim: Sim, event: PaymentEvent) -> None:
    """Tell the merchant's notifyUrl, if the order has one."""
    payment_request_id = event.payment_request_id
    record = sim.payments.get_record(payment_request_id)
    if record is not None and record.get("notify_url"):
        sim.scheduler.enqueue(
            "merchant_notify",
            {"paymentRequestId": payment_request_id, "attempt": 1, "first": stamp(sim.clock.now())},
            sim.clock.now(),
            key=f"merchant_notify:{payment_request_id}",
        )


def _delivered(sim: Sim, url: str, client_id: str, body: bytes) -> bool:
    """POST once; whether the merchant answered 2xx."""
    path = requests.utils.urlparse(url).path or "/"
    headers = signing.signed_request_headers(
        sim.keys.private_key, client_id, path, body, sim.clock.now().astimezone(ALIPAY_TZ)
    )
    session = requests.Session()
    session.trust_env = False
    try:
        response = session.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        return 200 <= response.status_code < 300
    except requests.RequestException:
        return False
    finally:
        session.close()


def _run_merchant_notify(sim: Sim, job: Job) -> None:
    """POST the final state to the order's notifyUrl; again with back-off until a 2xx."""
    payment_request_id = job.payload["paymentRequestId"]
    record = sim.payments.get_record(payment_request_id)
    if record is None or not record.get("notify_url"):
        return
    view = sim.payments.get_view(payment_request_id) or {}
    view.pop("exchanges", None)
    body = dumps({"notifyType": "PAYMENT_RESULT", **view}).encode("utf-8")
    if _delivered(sim, record["notify_url"], record["client_id"], body):
        return
    attempt = int(job.payload["attempt"])
    give_up_at = datetime.fromisoformat(job.payload["first"]) + give_up_after(sim)
    series = RetrySeries(sim, job, attempt - 1, give_up_at)
    if series.retry():
        series.again({**job.payload, "attempt": attempt + 1})


def register(sim: Sim) -> None:
    """The `merchant_notify` job, started on FINAL."""
    sim.scheduler.register("merchant_notify", _run_merchant_notify)
    sim.events.on(Event.FINAL, lambda event: _on_final(sim, event))
