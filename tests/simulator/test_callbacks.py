"""Alipay+ calling the wallet: inquiry polling, expiry -> cancelPayment, merchant close, late
success, restarts, the merchant's notifyUrl and the clock's control plane. A wallet stub on
loopback answers; the virtual clock moves; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from simulator import create_app
from tests.simulator.part2.helpers import T0, TIMEOUT, Env, environment, offsets


@pytest.fixture
def env(tmp_path, key_files):
    with environment(tmp_path, key_files=key_files) as env:
        yield env


def times_of(entries):
    return [entry["time"] for entry in entries]


def decoded_order(env: Env):
    order = env.create_order()
    env.decode(order)
    return order["paymentRequestId"], env.sim.clock.now()


# -- inquiry polling -------------------------------------------------------------------------------


def test_inquiries_arrive_on_schedule_and_stop_at_the_first_final_answer(env):
    stub = env.stub
    stub.script("inquiryPayment", stub.in_process(), stub.in_process(), stub.in_process())
    stub.script("inquiryPayment", stub.paid(payment_id="WALLET-PAY-1"))
    payment_request_id, decoded_at = decoded_order(env)

    env.advance(3)
    assert stub.calls_to("inquiryPayment") == []
    env.advance(3600)

    calls = stub.calls_to("inquiryPayment")
    assert len(calls) == 4  # and none after the final answer, although an hour passed
    assert all(call.signature_ok for call in calls), [c.signature_error for c in calls]
    assert {call.headers["Client-Id"] for call in calls} == {stub.client_id}
    assert calls[0].body["paymentRequestId"] == payment_request_id
    assert set(calls[0].body) == {"acquirerId", "pspId", "paymentRequestId"}
    entries = env.outbound("inquiryPayment", payment_request_id)
    assert offsets(times_of(entries), decoded_at) == [4, 8, 38, 98]
    assert [e["note"].split(":")[0] for e in entries] == [f"poll {n} of 8" for n in (1, 2, 3, 4)]
    assert all(e["signature"] == "valid" and not e["request_violations"] for e in entries)
    view = env.payment(payment_request_id)
    assert view["status"] == "SUCCESS"
    assert view["paymentId"] == "WALLET-PAY-1"


def test_answers_that_are_not_final_keep_the_polls_going_and_say_why(env):
    stub = env.stub
    stub.script(
        "inquiryPayment",
        stub.order_not_exist(),
        stub.timeout(),
        stub.badly_signed(stub.paid()),
        stub.not_json(),
        stub.server_error(),
        stub.unsigned(stub.paid()),
        stub.u(),
        stub.in_process(),
    )
    payment_request_id, decoded_at = decoded_order(env)
    env.advance(599)

    entries = env.outbound("inquiryPayment", payment_request_id)
    assert offsets(times_of(entries), decoded_at) == [4, 8, 38, 98, 158, 218, 518]
    reasons = [entry["note"] for entry in entries]
    assert "ORDER_NOT_EXIST" in reasons[0]
    assert "timeout" in reasons[1] and entries[1]["error"].startswith("timeout")
    assert "invalid signature" in reasons[2] and entries[2]["signature"] == "invalid"
    assert "non-JSON" in reasons[3]
    assert "HTTP 503" in reasons[4]
    assert "missing signature" in reasons[5] and entries[5]["signature"] == "missing"
    assert "result U UNKNOWN_EXCEPTION" in reasons[6]
    assert all("not final" in reason for reason in reasons)
    # A badly signed or unsigned "paid" is not believed: the payment is still open.
    assert env.payment(payment_request_id)["status"] == "DECODED"


def test_a_failed_payment_found_by_inquiry_is_final(env):
    env.stub.script("inquiryPayment", env.stub.payment_failed("USER_BALANCE_NOT_ENOUGH"))
    payment_request_id, _ = decoded_order(env)
    env.advance(700)
    view = env.payment(payment_request_id)
    assert view["status"] == "FAILED"
    assert view["paymentResult"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert len(env.stub.calls_to("inquiryPayment")) == 1
    assert env.stub.calls_to("cancelPayment") == []  # final before expiry: nothing to cancel


def test_a_notification_stops_the_polls(env):
    env.stub.set_default("inquiryPayment", env.stub.in_process())
    order = env.create_order()
    decoded = env.decode(order)
    env.advance(10)  # polls at 4 s and 8 s
    assert env.notify(decoded)["result"]["resultStatus"] == "S"
    env.advance(3600)
    assert len(env.stub.calls_to("inquiryPayment")) == 2
    assert env.stub.calls_to("cancelPayment") == []


# -- expiry and cancelPayment -------------------------------------------------------------------


def test_expiry_closes_the_order_and_cancel_is_retried_with_the_identical_body(env):
    stub = env.stub
    stub.set_default("inquiryPayment", stub.in_process())
    stub.script("cancelPayment", stub.u(), stub.timeout(), stub.f("PROCESS_FAIL"), stub.s())
    order = env.create_order()
    env.decode(order)
    payment_request_id = order["paymentRequestId"]

    env.advance(599)
    assert env.payment(payment_request_id)["status"] == "DECODED"
    env.advance(3600)

    view = env.payment(payment_request_id)
    assert view["status"] == "CLOSED"
    assert "expired" in view["closeReason"]
    cancels = stub.calls_to("cancelPayment")
    assert len(cancels) == 4
    assert len({call.raw_body for call in cancels}) == 1  # the same request every time
    assert cancels[0].body == {
        "acquirerId": cancels[0].body["acquirerId"],
        "pspId": "1022172000000000099",
        "paymentRequestId": payment_request_id,
    }
    assert all(call.signature_ok for call in cancels)
    entries = env.outbound("cancelPayment", payment_request_id)
    assert offsets(times_of(entries), T0) == [600, 610, 640, 700]
    assert "same request again" in entries[0]["note"]
    assert entries[-1]["note"].endswith("cancelled")
    # Polling stopped at expiry: the last poll was at 518 s.
    polls = env.outbound("inquiryPayment", payment_request_id)
    assert offsets(times_of(polls), T0)[-1] == 518


def test_cancel_answered_order_not_exist_is_done_with_a_conformance_note(env):
    env.stub.script("cancelPayment", env.stub.f("ORDER_NOT_EXIST"))
    order = env.create_order()  # never decoded: the wallet has never seen it
    env.advance(700)
    assert len(env.stub.calls_to("cancelPayment")) == 1
    entry = env.outbound("cancelPayment", order["paymentRequestId"])[0]
    assert "conformance" in entry["note"]
    assert env.payment(order["paymentRequestId"])["status"] == "CLOSED"
    assert env.stub.calls_to("inquiryPayment") == []  # never decoded: never polled


def test_the_cancel_series_gives_up_when_the_cancel_window_ends(env):
    env.stub.set_default("cancelPayment", env.stub.u())
    order = env.create_order()  # 11:00 UTC+8; the window ends 00:30 UTC+8 the next day
    env.advance(24 * 3600)
    entries = env.outbound("cancelPayment", order["paymentRequestId"])
    last = entries[-1]
    window_end = T0 + timedelta(hours=13, minutes=30)
    assert offsets([last["time"]], window_end)[0] <= 0
    assert offsets([last["time"]], window_end)[0] > -600
    assert "giving up" in last["note"]
    gaps = offsets(times_of(entries[:7]), T0 + timedelta(seconds=600))
    assert gaps == [0, 10, 40, 100, 220, 520, 1120]


def test_a_restart_in_the_middle_of_a_retry_series_continues_it(env, tmp_path):
    env.stub.set_default("cancelPayment", env.stub.u())
    env.create_order()
    env.advance(630)  # expiry at 600: attempts at 600 and 610; the next is due at 640
    assert len(env.stub.calls_to("cancelPayment")) == 2

    restarted = create_app(
        {
            "data_dir": tmp_path / "sim",
            "clock": "virtual",
            "run_scheduler": False,
            "testing": True,
            "cancel_timeout": TIMEOUT,
        }
    )
    sim2 = restarted.extensions["aplus_sim"]
    assert sim2.clock.now() == T0 + timedelta(seconds=630)
    env.stub.script("cancelPayment", env.stub.u())
    env.stub.set_default("cancelPayment", env.stub.s())
    response = restarted.test_client().post("/_sim/clock/advance", json={"seconds": 600})
    assert response.status_code == 200
    cancels = env.stub.calls_to("cancelPayment")
    assert len(cancels) == 4
    assert len({call.raw_body for call in cancels}) == 1
    entries = [
        e
        for e in reversed(sim2.journal.query(api="cancelPayment", limit=100))
        if e["direction"] == "outbound"
    ]
    assert offsets(times_of(entries), T0) == [600, 610, 640, 700]
    assert entries[-1]["note"].endswith("cancelled")


# -- the merchant closes the order ---------------------------------------------------------------


def test_merchant_close_cancels_at_the_wallet(env):
    order = env.create_order()
    env.decode(order)
    payment_request_id = order["paymentRequestId"]
    response = env.client.post(
        f"/_sim/payments/{payment_request_id}/cancel", json={"reason": "customer left"}
    )
    assert response.status_code == 202
    assert response.json["status"] == "CLOSED"
    assert response.json["closeReason"] == "closed by the merchant: customer left"
    assert response.json["cancellation"]["status"] == "pending"
    env.advance(0)  # what is due now runs when the clock is told to move
    assert len(env.stub.calls_to("cancelPayment")) == 1
    again = env.client.post(f"/_sim/payments/{payment_request_id}/cancel")
    assert again.status_code == 202
    assert again.json["cancellation"]["status"] == "done"
    env.advance(3600)
    assert len(env.stub.calls_to("cancelPayment")) == 1  # no second series, no expiry cancel
    assert env.stub.calls_to("inquiryPayment") == []  # closed before the first poll


def test_merchant_close_refusals(env):
    order, _ = env.pay()
    response = env.client.post(f"/_sim/payments/{order['paymentRequestId']}/cancel")
    assert response.status_code == 409
    assert response.json["code"] == "ORDER_STATUS_INVALID"
    assert "refund" in response.json["error"]
    missing = env.client.post("/_sim/payments/NOPE/cancel")
    assert missing.status_code == 404
    assert missing.json["code"] == "ORDER_NOT_EXIST"
    bad = env.client.post(
        f"/_sim/payments/{order['paymentRequestId']}/cancel",
        data="{not json",
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json["code"] == "PARAM_ILLEGAL"


# -- late success ------------------------------------------------------------------------------------


def test_a_success_after_expiry_is_acknowledged_then_reversed(env):
    env.stub.set_default("inquiryPayment", env.stub.in_process())
    order = env.create_order()
    decoded = env.decode(order)
    payment_request_id = order["paymentRequestId"]
    env.advance(700)  # expired, closed, cancelled (S)
    assert len(env.stub.calls_to("cancelPayment")) == 1

    env.stub.script("cancelPayment", env.stub.u(), env.stub.s())
    ack = env.notify(decoded)
    assert ack["result"]["resultStatus"] == "S"  # acknowledged first
    view = env.payment(payment_request_id)
    assert view["status"] == "CLOSED"
    assert view["reversal"]["required"] is True
    assert "closed" in view["reversal"]["reason"]
    env.advance(60)

    cancels = env.stub.calls_to("cancelPayment")
    assert len(cancels) == 3
    assert len({call.raw_body for call in cancels}) == 1
    view = env.payment(payment_request_id)
    assert view["status"] == "CLOSED"  # never SUCCESS
    assert view["reversal"]["status"] == "done"
    entries = env.outbound("cancelPayment", payment_request_id)
    assert [e["note"].split(":")[:2] for e in entries[1:]] == [
        ["late_success", " attempt 1"],
        ["late_success", " attempt 2"],
    ]


def test_a_success_after_merchant_close_is_reversed(env):
    order = env.create_order()
    decoded = env.decode(order)
    env.client.post(f"/_sim/payments/{order['paymentRequestId']}/cancel")
    env.advance(0)
    env.notify(decoded)
    env.advance(0)
    assert len(env.stub.calls_to("cancelPayment")) == 2
    view = env.payment(order["paymentRequestId"])
    assert view["reversal"] == {
        "required": True,
        "reason": view["reversal"]["reason"],
        "status": "done",
    }
    assert "merchant" in view["reversal"]["reason"]


# -- the merchant's notifyUrl ------------------------------------------------------------------------


def test_the_merchant_is_notified_until_it_acknowledges(env):
    env.stub.script_merchant(500, 503, 200)
    order, _ = env.pay(notifyUrl=env.stub.url + "/merchant/notify")
    env.advance(0)
    assert [n["status"] for n in env.stub.merchant_notifications] == [500]
    env.advance(3600)
    notes = env.stub.merchant_notifications
    assert [n["status"] for n in notes] == [500, 503, 200]
    assert notes[-1]["body"]["paymentRequestId"] == order["paymentRequestId"]
    assert notes[-1]["body"]["status"] == "SUCCESS"


# -- the clock's control plane -----------------------------------------------------------------------


def test_clock_routes(env):
    state = env.client.get("/_sim/clock").json
    assert state["mode"] == "virtual"
    assert state["now"].startswith("2026-01-05T03:00:00")
    assert state["nowUtc8"] == "2026-01-05T11:00:00+08:00"
    env.create_order()
    assert env.client.get("/_sim/clock").json["pendingJobs"] == 1  # the expiry
    moved = env.client.post("/_sim/clock/advance", json={"to": "2026-01-05T11:30:00+08:00"})
    assert moved.status_code == 200
    assert moved.json["now"].startswith("2026-01-05T03:30:00")
    assert moved.json["jobsRun"] >= 2  # the expiry and the cancel
    for body, fragment in (
        ({}, "exactly one"),
        ({"seconds": -1}, ">= 0"),
        ({"seconds": "ten"}, ">= 0"),
        ({"to": "yesterday"}, "to:"),
        ({"to": "2026-01-05T11:00:00+08:00"}, "never goes back"),
        ({"seconds": 1, "to": "2026-01-06T00:00:00Z"}, "exactly one"),
    ):
        response = env.client.post("/_sim/clock/advance", json=body)
        assert response.status_code == 400, body
        assert response.json["code"] == "PARAM_ILLEGAL"
        assert fragment in response.json["error"]


def test_a_real_clock_cannot_be_advanced(tmp_path):
    app = create_app({"data_dir": tmp_path, "run_scheduler": False, "testing": True})
    client = app.test_client()
    assert client.get("/_sim/clock").json["mode"] == "real"
    response = client.post("/_sim/clock/advance", json={"seconds": 5})
    assert response.status_code == 409
    assert "--clock virtual" in response.json["error"]


# -- how answers are judged ---------------------------------------------------------------------------


def test_an_answer_that_breaks_the_contract_is_journaled_with_its_violations(env):
    env.stub.script("inquiryPayment", env.stub.s())  # S without the required paymentResult
    payment_request_id, _ = decoded_order(env)
    env.advance(5)
    entry = env.outbound("inquiryPayment", payment_request_id)[0]
    assert entry["signature"] == "valid"
    assert [v["pointer"] for v in entry["response_violations"]] == ["/paymentResult"]
    assert "without a paymentResult" in entry["note"]
    assert env.payment(payment_request_id)["status"] == "DECODED"


def test_signature_mode_off_trusts_unsigned_answers(env):
    response = env.client.put(
        f"/_sim/participants/{env.stub.client_id}", json={"signatureMode": "off"}
    )
    assert response.status_code == 200
    env.stub.set_default("cancelPayment", env.stub.unsigned(env.stub.s()))
    order = env.create_order()
    env.client.post(f"/_sim/payments/{order['paymentRequestId']}/cancel")
    env.advance(3600)
    entries = env.outbound("cancelPayment", order["paymentRequestId"])
    assert len(entries) == 1
    assert entries[0]["signature"] == "not-checked"
    assert entries[0]["note"].endswith("cancelled")


def test_with_a_real_clock_the_background_thread_sends_the_cancel(tmp_path, key_files):
    with environment(
        tmp_path, key_files=key_files, clock="real", clock_start="", run_scheduler=True
    ) as env:
        try:
            order = env.create_order()
            response = env.client.post(f"/_sim/payments/{order['paymentRequestId']}/cancel")
            assert response.status_code == 202
            calls = env.stub.wait_for("cancelPayment", 1, timeout=20)
            assert len(calls) == 1 and calls[0].signature_ok
            assert calls[0].body["paymentRequestId"] == order["paymentRequestId"]
        finally:
            env.sim.scheduler.stop()


def test_a_success_after_a_failure_is_reversed(env):
    order = env.create_order()
    decoded = env.decode(order)
    failed = env.notify(decoded, "F", "USER_BALANCE_NOT_ENOUGH")
    assert failed["result"]["resultStatus"] == "S"
    env.notify(decoded, "S")  # trigger 4: F first, then S for the same payment
    env.advance(0)
    cancels = env.stub.calls_to("cancelPayment")
    assert len(cancels) == 1
    view = env.payment(order["paymentRequestId"])
    assert view["status"] == "FAILED"
    assert view["reversal"]["required"] is True
    assert view["reversal"]["status"] == "done"
    assert "after a failure" in view["reversal"]["reason"]
    assert env.outbound("cancelPayment")[0]["note"].startswith("late_success")
    unknown = env.client.get("/_sim/payments/NOPE/refunds")
    assert unknown.status_code == 404 and unknown.json["code"] == "ORDER_NOT_EXIST"


def test_an_unreachable_wallet_is_tried_again(env):
    import socket

    with socket.socket() as probe:  # a loopback port that was free a moment ago: refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/aps/api/v1/payments/cancelPayment"
    env.client.put(f"/_sim/participants/{env.stub.client_id}", json={"cancelPaymentUrl": url})
    order = env.create_order()
    env.client.post(f"/_sim/payments/{order['paymentRequestId']}/cancel")
    env.advance(45)
    entries = env.outbound("cancelPayment", order["paymentRequestId"])
    assert [e["error"] for e in entries] == ["connection refused"] * 3  # at 0, 10 and 40 s
    assert all(e["response_status"] is None and e["url"] == url for e in entries)
    assert env.client.get(f"/_sim/payments/{order['paymentRequestId']}").json["status"] == "CLOSED"


def test_a_success_reported_while_the_expiry_cancel_is_in_flight_is_still_reversed(env):
    from tests.support.wallet_stub import Reply

    env.stub.set_default("inquiryPayment", env.stub.in_process())
    order = env.create_order()
    decoded = env.decode(order)
    acks = []
    # The wallet's user pays just as the expiry's cancelPayment arrives: the wallet notifies S
    # while Alipay+ still waits for the cancel's answer.
    racing = Reply(env.stub.s().body, before=lambda: acks.append(env.notify(decoded)))
    env.stub.script("cancelPayment", racing)
    env.advance(700)
    assert acks[0]["result"]["resultStatus"] == "S"
    cancels = env.stub.calls_to("cancelPayment")
    assert len(cancels) == 2  # the expiry's, then the reversal of the late success
    view = env.payment(order["paymentRequestId"])
    assert view["status"] == "CLOSED"
    assert view["reversal"]["required"] is True
    assert view["reversal"]["status"] == "done"
