"""Merchant refunds: checked before any call to the wallet, then sent (and resent identically)
through the scheduler; the payment shows each refund and its result."""

from __future__ import annotations

import pytest

from contracts import validate
from tests.simulator.part2.helpers import environment


@pytest.fixture
def env(tmp_path, key_files):
    with environment(tmp_path, key_files=key_files) as env:
        yield env


@pytest.fixture
def fx_env(tmp_path, key_files):
    with environment(tmp_path, wallet_currency="KRW", key_files=key_files) as env:
        yield env


def test_two_partial_refunds_succeed_and_a_third_beyond_the_payment_is_refused(env):
    order, _ = env.pay()  # 1000 JPY
    payment_request_id = order["paymentRequestId"]
    first = env.refund(payment_request_id, "300", reason="one shirt back")
    assert first.status_code == 202
    assert first.json["status"] == "PENDING"
    refund_request_id = first.json["refundRequestId"]
    assert len(refund_request_id) == 31
    env.advance(0)
    second = env.refund(payment_request_id, "600")
    assert second.status_code == 202
    env.advance(0)
    assert len(env.stub.calls_to("refund")) == 2

    third = env.refund(payment_request_id, "101")
    assert third.status_code == 422
    assert third.json["code"] == "REFUND_AMOUNT_EXCEED"
    assert "100 remain" in third.json["error"]
    env.advance(60)
    assert len(env.stub.calls_to("refund")) == 2  # refused before any call to the wallet

    calls = env.stub.calls_to("refund")
    assert all(call.signature_ok for call in calls)
    body = calls[0].body
    assert body["refundRequestId"] == refund_request_id
    assert body["paymentRequestId"] == payment_request_id
    assert body["paymentId"] == env.payment(payment_request_id)["paymentId"]
    assert body["refundAmount"] == {"currency": "JPY", "value": "300"}
    assert body["refundFromAmount"] == {"currency": "JPY", "value": "300"}
    assert "refundQuote" not in body  # one currency: no quote
    assert validate("refund", "request", body) == []

    refunds = env.payment(payment_request_id)["refunds"]
    assert [(r["refundAmount"]["value"], r["status"]) for r in refunds] == [
        ("300", "SUCCESS"),
        ("600", "SUCCESS"),
    ]
    assert refunds[0]["refundRequestId"] == refund_request_id
    assert refunds[0]["refundId"].startswith("STUBREF")
    assert refunds[0]["reason"] == "one shirt back"
    assert set(refunds[0]) >= {"refundRequestId", "refundAmount", "refundFromAmount", "status"}

    rest = env.refund(payment_request_id, None)  # no amount: whatever remains
    assert rest.status_code == 202
    assert rest.json["refundAmount"] == {"currency": "JPY", "value": "100"}
    full = env.refund(payment_request_id, None)
    assert full.status_code == 422 and full.json["code"] == "REFUND_AMOUNT_EXCEED"


def test_a_refund_answered_u_is_resent_identically_until_it_succeeds_once(env):
    stub = env.stub
    stub.script("refund", stub.u(), stub.timeout(), stub.badly_signed(stub.refund_ok()))
    order, _ = env.pay()
    refund_request_id = env.refund(order["paymentRequestId"], "1000").json["refundRequestId"]
    env.advance(0)
    assert env.payment(order["paymentRequestId"])["refunds"][0]["status"] == "PENDING"
    env.advance(3600)

    calls = stub.calls_to("refund")
    assert len(calls) == 4
    assert len({call.raw_body for call in calls}) == 1
    assert {call.body["refundRequestId"] for call in calls} == {refund_request_id}
    refund = env.payment(order["paymentRequestId"])["refunds"][0]
    assert refund["status"] == "SUCCESS"
    assert refund["attempts"] == 4
    entries = env.outbound("refund")
    assert [e["refund_request_id"] for e in entries] == [refund_request_id] * 4
    assert "same request again" in entries[0]["note"]
    assert entries[-1]["note"].endswith("refunded")


def test_a_refund_the_wallet_refuses_is_failed_and_frees_the_amount(env):
    env.stub.script("refund", env.stub.f("REFUND_WINDOW_EXCEED"))
    order, _ = env.pay()
    env.refund(order["paymentRequestId"], "1000")
    env.advance(60)
    refund = env.payment(order["paymentRequestId"])["refunds"][0]
    assert refund["status"] == "FAILED"
    assert refund["resultCode"] == "REFUND_WINDOW_EXCEED"
    assert len(env.stub.calls_to("refund")) == 1  # F is final: not resent
    assert env.refund(order["paymentRequestId"], "1000").status_code == 202


def test_refusals_before_any_call(env):
    open_order = env.create_order()
    env.decode(open_order)
    not_paid = env.refund(open_order["paymentRequestId"], "100")
    assert not_paid.status_code == 409
    assert not_paid.json["code"] == "ORDER_STATUS_INVALID"
    assert "DECODED" in not_paid.json["error"]

    unknown = env.refund("NO-SUCH-PAYMENT", "100")
    assert unknown.status_code == 404 and unknown.json["code"] == "ORDER_NOT_EXIST"

    order, _ = env.pay()
    payment_request_id = order["paymentRequestId"]
    for body, fragment in (
        ({"amount": {"currency": "JPY", "value": "10.5"}}, "10.5"),
        ({"amount": {"currency": "JPY", "value": "0"}}, "positive"),
        ({"amount": {"currency": "JPY", "value": "-5"}}, "positive"),
        ({"amount": {"currency": "USD", "value": "100"}}, "JPY"),
        ({"amount": "100"}, "object"),
        ({"amount": {"currency": "JPY", "value": "1"}, "reason": 7}, "reason"),
        ({"amount": {"currency": "JPY", "value": "1"}, "refundAmount": {}}, "unknown field"),
    ):
        response = env.client.post(f"/_sim/payments/{payment_request_id}/refunds", json=body)
        assert response.status_code == 400, body
        assert response.json["code"] == "PARAM_ILLEGAL"
        assert fragment in response.json["error"], response.json
    env.advance(0)
    assert env.stub.calls_to("refund") == []


def test_refund_window_is_366_days(env):
    order, _ = env.pay()
    env.advance(366 * 24 * 3600)
    assert env.refund(order["paymentRequestId"], "100").status_code == 202
    env.advance(24 * 3600)
    late = env.refund(order["paymentRequestId"], "100")
    assert late.status_code == 422
    assert late.json["code"] == "REFUND_WINDOW_EXCEED"


def test_a_reversed_late_success_cannot_be_refunded(env):
    env.stub.set_default("inquiryPayment", env.stub.in_process())
    order = env.create_order()
    decoded = env.decode(order)
    env.advance(700)
    env.notify(decoded)  # late success: reversed by cancelPayment, never SUCCESS
    refused = env.refund(order["paymentRequestId"], "100")
    assert refused.status_code == 409 and refused.json["code"] == "ORDER_STATUS_INVALID"


def test_cross_currency_refunds_use_the_payment_rate_and_reverse_the_promotion(fx_env):
    env = fx_env
    order, decoded = env.pay(promoId="P-10PCT")  # 1000 JPY at 9.05 = 9050 KRW, 905 saved
    assert decoded["payToAmount"] == {"currency": "KRW", "value": "8145"}
    payment_request_id = order["paymentRequestId"]
    for value in ("333", "333", "334"):
        assert env.refund(payment_request_id, value).status_code == 202
    env.advance(0)

    bodies = [call.body for call in env.stub.calls_to("refund")]
    assert [b["refundAmount"]["value"] for b in bodies] == ["333", "333", "334"]
    from_values = [int(b["refundFromAmount"]["value"]) for b in bodies]
    assert sum(from_values) == 8145  # exactly what the user paid, whatever the rounding
    # Cumulative: gross 333 -> 3014 (3013.65), 666 -> 6027 (6027.3); savings 301 (301.4),
    # 603 (602.7); so 3014-301 = 2713, (6027-603)-2713 = 2711, 8145-5424 = 2721.
    assert from_values == [2713, 2711, 2721]
    assert all(b["refundFromAmount"]["currency"] == "KRW" for b in bodies)
    assert all(b["refundQuote"] == decoded["paymentQuote"] for b in bodies)
    savings = [
        int(b["refundPromoInfo"]["paymentPromoDetails"][0]["savingsAmount"]["value"])
        for b in bodies
    ]
    assert sum(savings) == 905
    assert bodies[0]["refundPromoInfo"]["paymentPromoDetails"][0]["promoId"] == "P-10PCT"
    assert [validate("refund", "request", body) for body in bodies] == [[], [], []]
    assert all(not e["request_violations"] for e in env.outbound("refund"))


def test_concurrent_refunds_never_exceed_the_payment(env):
    import threading

    order, _ = env.pay()
    payment_request_id = order["paymentRequestId"]
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def refund():
        client = env.app.test_client()
        barrier.wait()
        response = client.post(
            f"/_sim/payments/{payment_request_id}/refunds",
            json={"amount": {"currency": "JPY", "value": "300"}},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=refund) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [202, 202, 202, 422, 422, 422]
    refunds = env.client.get(f"/_sim/payments/{payment_request_id}/refunds").json["refunds"]
    assert sum(int(r["refundAmount"]["value"]) for r in refunds) == 900
