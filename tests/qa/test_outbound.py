"""Faults on the simulator's own calls to the wallet, seen by a wallet stub on loopback."""

from __future__ import annotations

import pytest

from tests.simulator.part2.helpers import environment


@pytest.fixture
def env(tmp_path, key_files):
    with environment(tmp_path, key_files=key_files) as env:
        yield env


def _rule(env, **rule):
    rule.setdefault("direction", "outbound")
    response = env.client.post("/_sim/faults", json=rule)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _decoded(env):
    order = env.create_order()
    env.decode(order)
    return order["paymentRequestId"]


def test_duplicate_cancel_sends_the_same_bytes_twice(env):
    rule = _rule(env, api="cancelPayment", effect={"kind": "duplicate"}, times=1)
    payment_request_id = _decoded(env)
    env.client.post(f"/_sim/payments/{payment_request_id}/cancel", json={})
    env.advance(1)
    calls = env.stub.calls_to("cancelPayment")
    assert len(calls) == 2 and calls[0].raw_body == calls[1].raw_body
    assert all(call.signature_ok for call in calls)
    notes = [e["note"] for e in env.outbound("cancelPayment")]
    assert notes[0].startswith(f"injected: rule {rule} duplicate (call 1 of 2)")
    assert env.client.get(f"/_sim/faults/{rule}").json["fired"] == 1


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("bad_signature", lambda call: not call.signature_ok),
        ("no_signature", lambda call: "Signature" not in call.headers),
        ("malformed", lambda call: call.body == {} and call.raw_body),
        ("stale_time", lambda call: call.signature_ok and call.headers["Request-Time"]),
    ],
)
def test_spoiled_inquiries_reach_the_wallet_spoiled(env, kind, check):
    _rule(env, api="inquiryPayment", effect={"kind": kind}, times=1)
    _decoded(env)
    env.advance(4)
    (call,) = env.stub.calls_to("inquiryPayment")
    assert check(call), call
    entry = env.outbound("inquiryPayment")[0]
    assert entry["note"].startswith(f"injected: rule 1 {kind}")


def test_stale_time_is_an_hour_old(env):
    from contracts import signing

    _rule(env, api="inquiryPayment", effect={"kind": "stale_time", "seconds": 3600}, times=1)
    _decoded(env)
    env.advance(4)
    (call,) = env.stub.calls_to("inquiryPayment")
    sent = signing.parse_time(call.headers["Request-Time"])
    assert (env.sim.clock.now() - sent).total_seconds() == pytest.approx(3600, abs=1)


def test_skip_polling(env):
    _rule(env, api="inquiryPayment", effect={"kind": "skip_polling"})
    payment_request_id = _decoded(env)
    env.advance(120)
    assert env.stub.calls_to("inquiryPayment") == []
    decode = env.sim.journal.query(api="userInitiatedPay")[0]
    assert "skip_polling" in decode["note"]
    assert env.payment(payment_request_id)["status"] == "DECODED"


def test_early_cancel(env):
    _rule(env, api="cancelPayment", effect={"kind": "early_cancel"})
    payment_request_id = _decoded(env)
    assert env.payment(payment_request_id)["status"] == "CLOSED"
    env.advance(1)
    (call,) = env.stub.calls_to("cancelPayment")
    assert call.body["paymentRequestId"] == payment_request_id
    assert "early_cancel" in env.sim.journal.query(api="userInitiatedPay")[0]["note"]


def test_unknown_inquiry(env):
    _rule(env, api="inquiryPayment", effect={"kind": "unknown_inquiry"}, times=1)
    payment_request_id = _decoded(env)
    env.advance(4)
    calls = env.stub.calls_to("inquiryPayment")
    assert len(calls) == 2
    assert calls[0].body["paymentRequestId"] != payment_request_id
    assert calls[1].body["paymentRequestId"] == payment_request_id
    stranger = env.outbound("inquiryPayment")[0]
    assert "unknown_inquiry" in stranger["note"]


def test_match_on_amount_for_outbound(env):
    _rule(env, api="inquiryPayment", match={"amount": "777"}, effect={"kind": "no_signature"})
    _decoded(env)  # 1000 JPY: untouched
    order = env.create_order(amount={"currency": "JPY", "value": "777"})
    env.decode(order)
    env.advance(4)
    calls = {c.body["paymentRequestId"]: c for c in env.stub.calls_to("inquiryPayment")}
    assert "Signature" not in calls[order["paymentRequestId"]].headers
    assert sum("Signature" in c.headers for c in calls.values()) == 1


def test_seeded_refund_ids_repeat(env):
    env.client.post("/_sim/seed", json={"seed": 5})
    order, _ = env.pay()
    first = env.refund(order["paymentRequestId"], "100").json["refundRequestId"]
    env.client.post("/_sim/reset")
    env.client.post("/_sim/seed", json={"seed": 5})
    order2, _ = env.pay()
    assert order2["paymentRequestId"] == order["paymentRequestId"]
    assert env.refund(order2["paymentRequestId"], "100").json["refundRequestId"] == first
