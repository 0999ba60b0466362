"""A Hypothesis state machine over the simulator alone (part 1: orders, decode, notify).

Rules: create orders, decode them (the same or another customer), notify S or F (identical
or altered replays), close open orders (as the expiry job or the merchant would), move the
clock. Invariants: a final state never changes; replays answer identically; a success after a
close or a failure is acknowledged and marked for reversal; every answer validates against its
schema and verifies with the simulator's key. The payment events' listeners are replaced by a
recorder so this machine exercises the engine alone (part 2 extends it with the calls to the wallet).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from contracts import validate
from simulator.events import Event, PaymentEvent
from tests.simulator.conftest import Wallet, make_app, notify_body

FINAL = ("SUCCESS", "FAILED", "CLOSED")
_KEYS: dict[str, Path] = {}


def key_files() -> Path:
    """Key files generated once for every example (RSA generation is slow)."""
    if "dir" not in _KEYS:
        template = Path(tempfile.mkdtemp(prefix="sm-keys-"))
        make_app(template).extensions["aplus_sim"].engine.dispose()
        _KEYS["dir"] = template / "keys"
    return _KEYS["dir"]


class PaymentMachine(RuleBasedStateMachine):
    """The simulator's payment engine driven through its Alipay+ APIs."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="sm-"))
        shutil.copytree(key_files(), self.tmp / "keys")
        self.app = make_app(self.tmp)
        self.sim = self.app.extensions["aplus_sim"]
        # The payment events are recorded instead of running their listeners (polls, ...).
        self.events: list[PaymentEvent] = []
        self.sim.events.clear()
        for event in Event:
            self.sim.events.on(event, self.events.append)
        self.client = self.app.test_client()
        self.wallet = Wallet(self.app)
        self.model: dict[str, dict[str, Any]] = {}

    def teardown(self) -> None:
        self.sim.engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------

    def status(self, payment_request_id: str) -> str:
        return self.sim.payments.get_record(payment_request_id)["status"]

    def checked(self, api: str, answer: Any) -> Any:
        assert validate(api, "response", answer.body) == [], answer.body
        return answer

    # -- rules -----------------------------------------------------------------------------

    @rule(
        target=orders,
        currency=st.sampled_from(["JPY", "KRW", "USD"]),
        value=st.integers(min_value=100, max_value=5_000_000),
        promo=st.sampled_from([None, "PROMO-10PCT", "PROMO-JPY-100"]),
        expiry=st.sampled_from([60, 300, 600, 3600]),
    )
    def create(self, currency: str, value: int, promo: str | None, expiry: int) -> str:
        params: dict[str, Any] = {
            "amount": {"currency": currency, "value": str(value)},
            "expirySeconds": expiry,
        }
        if promo:
            params["promoId"] = promo
        response = self.client.post("/_sim/orders", json=params)
        assert response.status_code == 201, response.get_json()
        order = response.get_json()
        self.model[order["paymentRequestId"]] = {
            "order": order,
            "expiry_seconds": min(expiry, 600),
            "created": self.sim.clock.now(),
            "customer": None,
            "decode_text": None,
            "notified": None,
            "final": None,
            "frozen": None,
        }
        return order["paymentRequestId"]

    @rule(pid=orders, customer=st.sampled_from(["alice", "bob"]))
    def decode(self, pid: str, customer: str) -> None:
        entry = self.model[pid]
        before = self.status(pid)
        answer = self.checked(
            "userInitiatedPay", self.wallet.decode(entry["order"]["codeValue"], customer)
        )
        elapsed = (self.sim.clock.now() - entry["created"]).total_seconds()
        expired = elapsed >= entry["expiry_seconds"]
        if before in FINAL:
            assert answer.code in ("ORDER_IS_CLOSED", "EXPIRED_CODE")
        elif expired:
            assert answer.code == "EXPIRED_CODE"
        elif entry["customer"] is None:
            assert answer.code == "SUCCESS"
            entry["customer"], entry["decode_text"] = customer, answer.text
        elif customer == entry["customer"]:
            assert answer.text == entry["decode_text"]  # the same body, every time
        else:
            assert answer.code == "REPEAT_REQ_INCONSISTENT"

    @precondition(
        lambda self: any(e["decode_text"] and not e["frozen"] for e in self.model.values())
    )
    @rule(data=st.data(), outcome=st.sampled_from(["S", "F"]), alter=st.booleans())
    def notify(self, data: Any, outcome: str, alter: bool) -> None:
        candidates = [p for p, e in self.model.items() if e["decode_text"] and not e["frozen"]]
        pid = data.draw(st.sampled_from(sorted(candidates)))
        entry = self.model[pid]
        decoded = json.loads(entry["decode_text"])
        body = notify_body(decoded, outcome, customerId=entry["customer"])
        if alter:
            body["paymentId"] = "ALTERED-" + pid[-8:]
        before = self.status(pid)
        reversal_before = self.sim.payments.get_record(pid)["reversal_required"]
        answer = self.checked("notifyPayment", self.wallet.call("notifyPayment", body))
        after = self.status(pid)
        first = entry["notified"]
        if first is None:
            if before == "SUCCESS":  # only via inquiry, which this machine does not do
                raise AssertionError("SUCCESS without a notification")
            assert answer.code == "SUCCESS"
            entry["notified"] = (body, answer.text)
            if before == "DECODED":
                assert after == ("SUCCESS" if outcome == "S" else "FAILED")
            else:
                assert after == before  # CLOSED stays CLOSED
                if outcome == "S":
                    assert self.sim.payments.get_record(pid)["reversal_required"]
        elif body == first[0]:
            assert answer.text == first[1]  # identical replay, identical answer
        else:
            assert answer.code == "REPEAT_REQ_INCONSISTENT"
            if first[0]["paymentResult"]["resultStatus"] == "F" and outcome == "S":
                assert self.sim.payments.get_record(pid)["reversal_required"]
            else:
                assert self.sim.payments.get_record(pid)["reversal_required"] == reversal_before
        if before in FINAL:
            assert after == before

    @rule(pid=orders)
    def close(self, pid: str) -> None:
        before = self.status(pid)
        closed = self.sim.payments.close(pid, "merchant closed the order")
        assert closed == (before in ("CREATED", "DECODED"))
        assert self.status(pid) == ("CLOSED" if closed else before)

    @rule(seconds=st.sampled_from([1, 30, 120, 700]))
    def advance(self, seconds: int) -> None:
        self.sim.clock.advance(seconds)

    @rule(pid=consumes(orders))
    def forget(self, pid: str) -> None:
        """Stop touching one order (keeps the bundle small); its state must stay put."""
        self.model[pid]["frozen"] = self.status(pid)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def final_states_never_change(self) -> None:
        for pid, entry in self.model.items():
            status = self.status(pid)
            if entry["frozen"] is not None:
                assert status == entry["frozen"], (pid, entry["frozen"], status)
            if entry["final"] is not None:
                assert status == entry["final"], (pid, entry["final"], status)
            if status in FINAL:
                entry["final"] = status

    @invariant()
    def a_late_success_is_always_marked_for_reversal(self) -> None:
        late = [e.payment_request_id for e in self.events if e.event == Event.LATE_SUCCESS]
        assert len(late) == len(set(late))  # at most once per payment
        for pid in late:
            record = self.sim.payments.get_record(pid)
            assert record["reversal_required"] and record["status"] in ("CLOSED", "FAILED")


PaymentMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPaymentMachine = PaymentMachine.TestCase
