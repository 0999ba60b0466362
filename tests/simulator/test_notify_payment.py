"""notifyPayment: every outcome, replays and late successes, through the Flask test client."""

from __future__ import annotations

import pytest

from simulator.events import Event, PaymentEvent


@pytest.fixture
def decoded(wallet, make_order):
    """A decoded order: the userInitiatedPay answer's body."""
    order = make_order()
    return wallet.decode(order["codeValue"]).body


@pytest.fixture
def events(sim):
    """Record the payment events instead of running their listeners (polls, cancels, ...)."""
    seen: list[PaymentEvent] = []
    sim.events.clear()
    for event in Event:
        sim.events.on(event, seen.append)
    return seen


def test_success_makes_the_payment_successful(wallet, decoded, sim, client, events):
    answer = wallet.notify(decoded)
    assert answer.code == "SUCCESS" and answer.result["resultStatus"] == "S"
    view = client.get(f"/_sim/payments/{decoded['paymentRequestId']}").get_json()
    assert view["status"] == "SUCCESS"
    assert view["paymentId"] == "W" + decoded["paymentRequestId"][-20:]
    assert view["paymentResult"]["resultCode"] == "SUCCESS"
    assert PaymentEvent(Event.FINAL, decoded["paymentRequestId"]) in events


def test_failure_makes_the_payment_failed(wallet, decoded, sim):
    assert wallet.notify(decoded, "F").code == "SUCCESS"
    record = sim.payments.get_record(decoded["paymentRequestId"])
    assert record["status"] == "FAILED"
    assert record["payment_result"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"


def test_u_is_refused(wallet, decoded, sim):
    body = {
        "paymentRequestId": decoded["paymentRequestId"],
        "paymentResult": {"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"},
    }
    answer = wallet.call("notifyPayment", body)
    assert answer.code == "PARAM_ILLEGAL"
    assert "resultStatus" in answer.result["resultMessage"]
    assert sim.payments.get_record(decoded["paymentRequestId"])["status"] == "DECODED"


@pytest.mark.parametrize("field", ["paymentAmount", "payToAmount"])
def test_amount_differing_from_the_decode_is_refused_naming_the_field(wallet, decoded, sim, field):
    changed = dict(decoded[field], value=str(int(decoded[field]["value"]) + 1))
    answer = wallet.notify(decoded, **{field: changed})
    assert answer.code == "PARAM_ILLEGAL"
    assert field in answer.result["resultMessage"]
    assert sim.payments.get_record(decoded["paymentRequestId"])["status"] == "DECODED"


def test_other_customer_is_refused(wallet, decoded):
    answer = wallet.notify(decoded, customerId="someone_else")
    assert answer.code == "PARAM_ILLEGAL" and "customerId" in answer.result["resultMessage"]


def test_identical_replay_is_success_and_changes_nothing(wallet, decoded, sim, events):
    first = wallet.notify(decoded)
    sim.clock.advance(5)
    again = wallet.notify(decoded)
    assert first.text == again.text
    assert [e.event for e in events].count(Event.FINAL) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"paymentId": "ANOTHER_ID"},
        {"paymentResult": {"resultCode": "RISK_REJECT", "resultStatus": "F"}},
    ],
)
def test_different_replay_is_repeat_req_inconsistent(wallet, decoded, sim, change):
    assert wallet.notify(decoded).code == "SUCCESS"
    answer = wallet.notify(decoded, **change)
    assert answer.code == "REPEAT_REQ_INCONSISTENT"
    assert next(iter(change)) in answer.result["resultMessage"]
    assert sim.payments.get_record(decoded["paymentRequestId"])["status"] == "SUCCESS"


def test_unknown_payment_request_id(wallet, decoded):
    answer = wallet.notify(dict(decoded, paymentRequestId="20250101120000000000X0000000000"))
    assert answer.code == "ORDER_NOT_EXIST"


def test_never_decoded_order_does_not_exist_for_the_wallet(wallet, make_order):
    order = make_order()
    fake = {
        "paymentRequestId": order["paymentRequestId"],
        "paymentAmount": order["paymentAmount"],
        "payToAmount": order["payToAmount"],
    }
    answer = wallet.notify(fake)
    assert answer.code == "ORDER_NOT_EXIST" and "never decoded" in answer.result["resultMessage"]


def test_success_after_close_is_acknowledged_and_marked_for_reversal(wallet, decoded, sim, events):
    payment_request_id = decoded["paymentRequestId"]
    assert sim.payments.close(payment_request_id, "expired")
    answer = wallet.notify(decoded)
    assert answer.code == "SUCCESS"
    record = sim.payments.get_record(payment_request_id)
    assert record["status"] == "CLOSED"  # a final state never changes
    assert record["reversal_required"] and "closed" in record["reversal_reason"]
    late = [(e.payment_request_id, e.reason) for e in events if e.event == Event.LATE_SUCCESS]
    assert late == [(payment_request_id, record["reversal_reason"])]
    # the same notification again: the same answer, no second reversal
    assert wallet.notify(decoded).code == "SUCCESS"
    assert [e.event for e in events].count(Event.LATE_SUCCESS) == 1


def test_failure_after_close_is_acknowledged_without_reversal(wallet, decoded, sim, events):
    sim.payments.close(decoded["paymentRequestId"], "merchant closed")
    assert wallet.notify(decoded, "F").code == "SUCCESS"
    record = sim.payments.get_record(decoded["paymentRequestId"])
    assert record["status"] == "CLOSED" and not record["reversal_required"]


def test_success_after_a_notified_failure_is_reversed(wallet, decoded, sim, events):
    assert wallet.notify(decoded, "F").code == "SUCCESS"
    answer = wallet.notify(decoded, "S")
    assert answer.code == "REPEAT_REQ_INCONSISTENT"
    record = sim.payments.get_record(decoded["paymentRequestId"])
    assert record["status"] == "FAILED" and record["reversal_required"]
    assert [e.event for e in events].count(Event.LATE_SUCCESS) == 1


def test_wallet_result_from_inquiry(sim, decoded, events):
    payment_request_id = decoded["paymentRequestId"]
    success = {"resultCode": "SUCCESS", "resultStatus": "S"}
    in_process = {"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"}
    assert sim.payments.apply_wallet_result(payment_request_id, in_process, {}, "inquiry") == (
        "ignored"
    )
    fields = {"paymentId": "P1", "paymentTime": "2025-01-01T12:01:00+08:00"}
    assert sim.payments.apply_wallet_result(payment_request_id, success, fields, "inquiry") == (
        "applied"
    )
    record = sim.payments.get_record(payment_request_id)
    assert record["status"] == "SUCCESS" and record["payment_id"] == "P1"
    assert sim.payments.apply_wallet_result(payment_request_id, success, fields, "inquiry") == (
        "ignored"
    )


def test_notify_after_inquiry_success_agrees(wallet, sim, decoded):
    payment_request_id = decoded["paymentRequestId"]
    paid = {"paymentId": "W" + payment_request_id[-20:]}
    success = {"resultCode": "SUCCESS", "resultStatus": "S"}
    sim.payments.apply_wallet_result(payment_request_id, success, paid, "inquiryPayment")
    assert wallet.notify(decoded).code == "SUCCESS"
    assert wallet.notify(decoded, "F").code == "REPEAT_REQ_INCONSISTENT"


def test_late_success_learned_by_inquiry(sim, decoded, events):
    payment_request_id = decoded["paymentRequestId"]
    sim.payments.close(payment_request_id, "expired")
    success = {"resultCode": "SUCCESS", "resultStatus": "S"}
    outcome = sim.payments.apply_wallet_result(payment_request_id, success, {}, "inquiryPayment")
    assert outcome == "late_success"
    record = sim.payments.get_record(payment_request_id)
    assert record["status"] == "CLOSED" and record["reversal_required"]
    sim.payments.set_reversal_status(payment_request_id, "done")
    view = sim.payments.get_view(payment_request_id)
    assert view["reversal"] == {
        "required": True,
        "reason": record["reversal_reason"],
        "status": "done",
    }


def test_close_only_closes_open_orders(sim, wallet, decoded):
    wallet.notify(decoded)
    assert sim.payments.close(decoded["paymentRequestId"], "merchant") is False
    assert sim.payments.get_record(decoded["paymentRequestId"])["status"] == "SUCCESS"


def test_another_wallet_cannot_notify_this_payment(app, client, decoded, sim):
    from contracts import signing
    from tests.simulator.conftest import Wallet

    key = signing.generate_private_key()
    client.put("/_sim/participants/OTHER", json={"publicKey": signing.public_key_base64(key)})
    answer = Wallet(app, "OTHER", key).notify(decoded)
    assert answer.code == "ACCESS_DENIED"
    assert sim.payments.get_record(decoded["paymentRequestId"])["status"] == "DECODED"


def test_the_journal_links_notifications_to_their_payment(wallet, decoded, sim):
    wallet.notify(decoded)
    apis = [e["api"] for e in sim.payments.get_view(decoded["paymentRequestId"])["exchanges"]]
    assert apis == ["userInitiatedPay", "notifyPayment"]
