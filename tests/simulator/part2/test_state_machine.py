"""A Hypothesis state machine over part 2: orders, decode, notifications, the clock moving,
merchant cancels and refunds, with the wallet's answers to inquiry/cancel/refund chosen at random
(S, F, U, timeout, bad signature). Whatever happens:

- refunds never exceed the payment, and a refused refund never reaches the wallet;
- a final state never changes; a closed order never becomes successful, and a success reported
  for it is reversed (reversal required, cancelPayment sent);
- every message the simulator sends validates against its schema and carries a good signature;
- and all of that across restarts of the simulator on the same database.
"""

from __future__ import annotations

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
    run_state_machine_as_test,
)

from contracts import validate
from simulator.apis.cancel_payment import cancellation_for
from tests.simulator.part2.helpers import Env, environment
from tests.support.wallet_stub import Reply, WalletStub

FINAL = ("SUCCESS", "FAILED", "CLOSED")
ANSWERS = ("S", "F", "U", "timeout", "bad-signature")


def wallet_reply(stub: WalletStub, api: str, answer: str) -> Reply:
    """The stub's reply for `api` standing for one of ANSWERS."""
    if api == "inquiryPayment":
        base = {
            "S": stub.paid(),
            "F": stub.payment_failed("USER_BALANCE_NOT_ENOUGH"),
            "U": stub.in_process(),
        }
    elif api == "refund":
        base = {"S": stub.refund_ok(), "F": stub.f("PROCESS_FAIL"), "U": stub.u()}
    else:
        base = {"S": stub.s(), "F": stub.f("PROCESS_FAIL"), "U": stub.u()}
    if answer == "timeout":
        return stub.timeout()
    if answer == "bad-signature":
        return stub.badly_signed(base["S"])
    return base[answer]


class Part2Machine(RuleBasedStateMachine):
    """The model: what each order has been told and shown, checked against the simulator."""

    ENV: Env

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        env = self.ENV
        response = env.client.post("/_sim/reset", json={})
        assert response.status_code == 200
        env.stub.reset()
        self.model: dict[str, dict[str, Any]] = {}
        self.accepted_refunds: set[str] = set()

    # -- helpers ----------------------------------------------------------------------------------

    def view(self, payment_request_id: str) -> dict[str, Any]:
        return self.ENV.payment(payment_request_id)

    # -- rules ------------------------------------------------------------------------------------

    @rule(
        target=orders,
        expiry=st.sampled_from([60, 300, 600]),
        promo=st.booleans(),
        value=st.sampled_from(["1000", "999", "1"]),
    )
    def create_order(self, expiry, promo, value):
        params: dict[str, Any] = {
            "expirySeconds": expiry,
            "amount": {"currency": "JPY", "value": value},
        }
        if promo and value != "1":
            params["promoId"] = "P-10PCT"
        order = self.ENV.create_order(**params)
        payment_request_id = order["paymentRequestId"]
        self.model[payment_request_id] = {
            "order": order,
            "decoded": None,
            "first_final": None,
            "seen_closed": False,
            "told_success_when_closed": False,
            "refund_calls_allowed": 0,
        }
        return payment_request_id

    @rule(payment_request_id=orders)
    def decode(self, payment_request_id):
        entry = self.model[payment_request_id]
        answer = self.ENV.wallet_call(
            "userInitiatedPay",
            {"codeValue": entry["order"]["codeValue"], "customerId": "user-1"},
        )
        if answer["result"]["resultStatus"] == "S":
            entry["decoded"] = answer
        else:  # expired or closed: a decode is refused, never a second chance
            assert answer["result"]["resultCode"] in (
                "EXPIRED_CODE",
                "ORDER_IS_CLOSED",
                "ORDER_NOT_EXIST",
                "INVALID_CODE",
            ), answer

    @rule(payment_request_id=orders, success=st.booleans())
    def notify(self, payment_request_id, success):
        entry = self.model[payment_request_id]
        if entry["decoded"] is None:
            return
        before = self.view(payment_request_id)["status"]
        ack = self.ENV.notify(
            entry["decoded"],
            "S" if success else "F",
            "SUCCESS" if success else "USER_BALANCE_NOT_ENOUGH",
        )
        if success and before in ("CLOSED", "FAILED"):
            entry["told_success_when_closed"] = True
            # Acknowledged (or, after an F notification, refused as inconsistent) -- either way
            # the success is reversed.
            assert ack["result"]["resultCode"] in ("SUCCESS", "REPEAT_REQ_INCONSISTENT"), ack

    @rule(payment_request_id=orders)
    def pay(self, payment_request_id):
        """The user pays at once: decode, then notify S."""
        self.decode(payment_request_id)
        self.notify(payment_request_id, True)

    @rule(seconds=st.sampled_from([0, 1, 4, 30, 60, 300, 700, 3600]))
    def advance(self, seconds):
        self.ENV.advance(seconds)

    @rule(payment_request_id=orders)
    def merchant_cancel(self, payment_request_id):
        before = self.view(payment_request_id)["status"]
        response = self.ENV.client.post(f"/_sim/payments/{payment_request_id}/cancel")
        if before in ("CREATED", "DECODED", "CLOSED"):
            assert response.status_code == 202, response.json
            assert response.json["status"] == "CLOSED"
        else:
            assert response.status_code == 409
            assert response.json["code"] == "ORDER_STATUS_INVALID"

    @rule(
        payment_request_id=orders,
        portion=st.sampled_from(["one", "third", "rest", "rest+1", "double"]),
    )
    def refund(self, payment_request_id, portion):
        view = self.view(payment_request_id)
        # Refunds are asked in the order currency up to the order amount (paymentAmount
        # excludes a promotion; each refund also reverses its share of the promotion).
        paid = int(view["order"]["orderAmount"]["value"])
        active = sum(
            int(r["refundAmount"]["value"]) for r in view["refunds"] if r["status"] != "FAILED"
        )
        rest = paid - active
        value = {
            "one": 1,
            "third": max(1, paid // 3),
            "rest": max(1, rest),
            "rest+1": rest + 1,
            "double": 2 * paid,
        }[portion]
        response = self.ENV.refund(payment_request_id, str(value))
        if view["status"] != "SUCCESS" or view["reversal"]["required"]:
            assert response.status_code == 409, response.json
            assert response.json["code"] == "ORDER_STATUS_INVALID"
        elif active + value > paid:
            assert response.status_code == 422, response.json
            assert response.json["code"] == "REFUND_AMOUNT_EXCEED"
        elif response.status_code == 400:  # too small to be a whole unit of the wallet currency
            assert response.json["code"] == "PARAM_ILLEGAL"
        else:
            assert response.status_code == 202, response.json
            self.accepted_refunds.add(response.json["refundRequestId"])

    @rule()
    def restart(self):
        """The simulator restarts on the same database: series and clock carry on."""
        before = self.ENV.sim.clock.now()
        self.ENV.restart()
        assert self.ENV.sim.clock.now() == before

    @rule(
        api=st.sampled_from(["inquiryPayment", "cancelPayment", "refund"]),
        answer=st.sampled_from(ANSWERS),
    )
    def wallet_mood(self, api, answer):
        self.ENV.stub.set_default(api, wallet_reply(self.ENV.stub, api, answer))

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def states_and_refunds_hold(self):
        for payment_request_id, entry in self.model.items():
            view = self.view(payment_request_id)
            status = view["status"]
            if entry["first_final"] is None and status in FINAL:
                entry["first_final"] = status
            if entry["first_final"] is not None:
                assert status == entry["first_final"], (payment_request_id, entry, status)
            if status == "CLOSED":
                entry["seen_closed"] = True
            if entry["seen_closed"]:
                assert status == "CLOSED"
            if entry["told_success_when_closed"]:
                assert view["reversal"]["required"] is True
            if view["reversal"]["required"]:  # a cancelPayment series reverses it
                cancellation = cancellation_for(self.ENV.sim, payment_request_id)
                assert cancellation is not None and cancellation["trigger"] == "late_success"
            paid = int(view["order"]["orderAmount"]["value"])
            pay_to = int(view["payToAmount"]["value"])
            active = [r for r in view["refunds"] if r["status"] != "FAILED"]
            assert sum(int(r["refundAmount"]["value"]) for r in active) <= paid
            assert sum(int(r["refundFromAmount"]["value"]) for r in active) <= pay_to
            if view["refunds"]:
                assert status == "SUCCESS"

    @invariant()
    def everything_sent_is_valid_and_signed(self):
        env = self.ENV
        for call in env.stub.calls:
            assert call.signature_ok, call.signature_error
            assert validate(call.api, "request", call.body) == [], call.body
        for entry in env.sim.journal.query(limit=200):
            if entry["direction"] == "outbound":
                assert entry["request_violations"] == [], entry
            else:  # what the simulator answered the wallet validates too
                assert entry["response_violations"] == [], entry

    @invariant()
    def refunds_reach_the_wallet_only_when_accepted(self):
        sent = {call.body["refundRequestId"] for call in self.ENV.stub.calls_to("refund")}
        assert sent <= self.accepted_refunds

    @precondition(lambda self: bool(self.model))
    @rule(payment_request_id=consumes(orders))
    def forget(self, payment_request_id):
        """Stop following an order (keeps the model small); its invariants held so far."""
        self.model.pop(payment_request_id, None)


def test_part2_state_machine(tmp_path, key_files):
    with environment(
        tmp_path,
        key_files=key_files,
        inquiry_timeout=0.3,
        cancel_timeout=0.3,
        refund_timeout=0.3,
    ) as env:
        machine = type("Machine", (Part2Machine,), {"ENV": env})
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=30,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
