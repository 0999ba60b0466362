"""The payment events hub (simulator/events.py) and what the state machine announces."""

from __future__ import annotations

import logging

from simulator.events import Event, Events, PaymentEvent


def test_listeners_run_in_order_and_a_failing_one_does_not_stop_the_rest(caplog):
    events = Events()
    seen: list[str] = []

    def broken(event: PaymentEvent) -> None:
        raise RuntimeError("listener bug")

    events.on(Event.FINAL, lambda event: seen.append("first " + event.payment_request_id))
    events.on(Event.FINAL, broken)
    events.on(Event.FINAL, lambda event: seen.append("third " + event.payment_request_id))
    events.on(Event.DECODED, lambda event: seen.append("decoded"))
    with caplog.at_level(logging.ERROR):
        events.emit(Event.FINAL, "P1")
    assert seen == ["first P1", "third P1"]
    assert "listener of final failed for P1" in caplog.text


def test_the_state_machine_announces_each_transition_once(sim, wallet, make_order):
    seen: list[PaymentEvent] = []
    sim.events.clear()
    for event in Event:
        sim.events.on(event, seen.append)
    order = make_order()
    pid = order["paymentRequestId"]
    decoded = wallet.decode(order["codeValue"]).body
    wallet.decode(order["codeValue"])  # a replay: no second DECODED
    assert sim.payments.expire(pid)
    assert not sim.payments.expire(pid)  # already final
    assert wallet.notify(decoded).code == "SUCCESS"  # a late success
    assert [(e.event, e.payment_request_id) for e in seen] == [
        (Event.ORDER_CREATED, pid),
        (Event.DECODED, pid),
        (Event.FINAL, pid),
        (Event.EXPIRED, pid),
        (Event.LATE_SUCCESS, pid),
    ]
    assert "closed" in seen[-1].reason
