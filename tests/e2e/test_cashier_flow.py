"""End to end over real HTTP: the simulator (Alipay+) and the reference wallet, virtual clock."""

from __future__ import annotations

import json

import requests

RICH = "u_10001"


def _poor(pair) -> str:
    return min(pair.wallet.ledger.users(), key=lambda u: u.balance).customer_id


def _same_truth(pair, prid: str) -> tuple[dict, dict]:
    """The simulator's and the wallet's view of one payment must agree."""
    sim, wallet = pair.sim_payment(prid), pair.wallet_payment(prid)
    # Every exchange about it, both directions, was signed correctly and met the contract.
    for exchange in sim["exchanges"]:
        what = f"{exchange['direction']} {exchange['api']}"
        assert exchange["signature"] == "valid", what
        assert exchange["request_violations"] == [], what
        assert exchange["response_violations"] == [], what
    assert wallet["paymentAmount"] == sim["paymentAmount"]
    assert wallet["payToAmount"] == sim["payToAmount"]
    if sim["status"] == "SUCCESS":
        assert wallet["status"] == "SUCCESS"
        assert wallet["paymentId"] == sim["paymentId"]
        assert wallet["customerId"] == sim["customerId"]
    return sim, wallet


def test_success_with_fx_and_promotion(pair):
    order = pair.order(
        amount={"currency": "JPY", "value": "2000"}, merchantId="M001", promoId="PROMO-JPY-100"
    )
    prid = order["paymentRequestId"]
    assert order["paymentQuote"]["quoteCurrencyPair"] == "JPY/KRW"
    savings = int(order["paymentPromoInfo"]["paymentPromoDetails"][0]["savingsAmount"]["value"])
    assert savings > 0
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    assert state["notification"]["status"] == "DONE"
    pay_to = int(order["payToAmount"]["value"])
    assert pair.balance(RICH) == before - pay_to
    sim, wallet = _same_truth(pair, prid)
    assert sim["status"] == "SUCCESS"
    assert sim["paymentPromoInfo"] == wallet["paymentPromoInfo"] == order["paymentPromoInfo"]
    assert [e["amount"] for e in wallet["ledger"]] == [-pay_to]
    # Alipay+ asks later anyway: the wallet reports the same success.
    pair.advance(10)
    assert pair.sim_payment(prid)["status"] == "SUCCESS"
    assert pair.balance(RICH) == before - pay_to


def test_insufficient_balance(pair):
    poor = _poor(pair)
    before = pair.balance(poor)
    order = pair.order(amount={"currency": "USD", "value": "50000"})
    state = pair.drive(order["codeValue"], poor)
    assert state["status"] == "FAILED"
    assert state["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert pair.balance(poor) == before
    sim, wallet = _same_truth(pair, order["paymentRequestId"])
    assert sim["status"] == "FAILED"
    assert sim["paymentResult"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert wallet["ledger"] == []


def test_user_cancels(pair):
    before = pair.balance(RICH)
    order = pair.order(amount={"currency": "JPY", "value": "1500"})
    state = pair.drive(order["codeValue"], RICH, "cancel")
    assert state["status"] == "CLOSED"
    assert state["notification"]["message"]["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    assert state["notification"]["status"] == "DONE"
    sim = pair.sim_payment(order["paymentRequestId"])
    assert sim["status"] in ("FAILED", "CLOSED")
    assert sim["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    assert pair.balance(RICH) == before
    assert state["redirectUrl"] == sim["order"].get("redirectUrl", state["redirectUrl"])


def test_abandon_then_expiry_then_cancel_payment_charges_nothing(pair):
    before = pair.balance(RICH)
    order = pair.order(amount={"currency": "JPY", "value": "1000"}, expirySeconds=120)
    prid = order["paymentRequestId"]
    state = pair.drive(order["codeValue"], RICH, "abandon")
    assert state["status"] == "DECODED"
    pair.advance(10)  # inquiries at 4 s and 8 s: still in process
    assert pair.sim_payment(prid)["status"] == "DECODED"
    pair.advance(200)  # past expiry: Alipay+ closes the order and calls cancelPayment
    sim, wallet = _same_truth(pair, prid)
    assert sim["status"] == "CLOSED"
    assert wallet["status"] == "CLOSED"
    assert wallet["ledger"] == []
    assert pair.balance(RICH) == before
    apis = [e["api"] for e in sim["exchanges"]]
    assert "cancelPayment" in apis
    assert apis.count("inquiryPayment") >= 2
    # The cashier will not take the payment any more.
    again = pair.drive(order["codeValue"], RICH)
    assert again["problem"]["kind"] in ("expired", "closed")
    assert again["problem"]["code"] in ("EXPIRED_CODE", "ORDER_IS_CLOSED")
    assert pair.balance(RICH) == before


def test_decode_answered_u_twice_then_s_debits_exactly_once(pair):
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    pair.faults.pending["userInitiatedPay"] = 2
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    sent = pair.faults.seen["userInitiatedPay"]
    assert len(sent) == 3
    assert sent[0] == sent[1] == sent[2]
    assert pair.wallet_clock.sleeps[:2] == [0.5, 1.0]
    assert pair.balance(RICH) == before - int(order["payToAmount"]["value"])
    assert len(state["ledger"]) == 1
    assert pair.sim_payment(order["paymentRequestId"])["status"] == "SUCCESS"


def test_notify_answered_u_is_resent_identically_with_one_ledger_entry(pair):
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    prid = order["paymentRequestId"]
    pair.faults.pending["notifyPayment"] = 1
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    assert state["notification"]["status"] == "PENDING"
    assert pair.sim_payment(prid)["status"] == "DECODED"
    pair.advance(3)  # before the first inquiry poll (4 s) and before the outbox's 5 s back-off
    pair.advance(2)
    assert pair.wallet.outbox.run_due() == 1
    note = pair.wallet.outbox.get(prid)
    assert note["status"] == "DONE"
    sent = pair.faults.seen["notifyPayment"]
    assert len(sent) == 2 and sent[0] == sent[1]
    assert json.loads(sent[0])["paymentId"] == state["paymentId"]
    assert pair.balance(RICH) == before - int(order["payToAmount"]["value"])
    assert len(pair.wallet_payment(prid)["ledger"]) == 1
    sim, _ = _same_truth(pair, prid)
    assert sim["status"] == "SUCCESS"


def test_two_partial_refunds(pair):
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    prid = order["paymentRequestId"]
    before = pair.balance(RICH)
    pair.drive(order["codeValue"], RICH)
    pay_to = int(order["payToAmount"]["value"])
    for value in ("300", "200"):
        answer = requests.post(
            f"{pair.sim_url}/_sim/payments/{prid}/refunds",
            json={"amount": {"currency": "JPY", "value": value}, "reason": "partial"},
            timeout=10,
        )
        assert answer.status_code in (200, 201, 202), answer.text
    pair.advance(1)
    refunds = pair.sim_payment(prid)["refunds"]
    assert [r["status"] for r in refunds] == ["SUCCESS", "SUCCESS"]
    returned = sum(int(r["refundFromAmount"]["value"]) for r in refunds)
    assert pair.balance(RICH) == before - pay_to + returned
    wallet = pair.wallet_payment(prid)
    assert wallet["refundedFromValue"] == returned
    assert [e["kind"] for e in wallet["ledger"]] == ["PAYMENT", "REFUND", "REFUND"]
    too_much = requests.post(
        f"{pair.sim_url}/_sim/payments/{prid}/refunds",
        json={"amount": {"currency": "JPY", "value": "600"}},
        timeout=10,
    )
    assert too_much.status_code >= 400
    assert "REFUND_AMOUNT_EXCEED" in too_much.text
    # The rest exactly: a full refund in the end, the user has every won back.
    rest = requests.post(
        f"{pair.sim_url}/_sim/payments/{prid}/refunds",
        json={"amount": {"currency": "JPY", "value": "500"}},
        timeout=10,
    )
    assert rest.status_code in (200, 201, 202), rest.text
    pair.advance(1)
    assert [r["status"] for r in pair.sim_payment(prid)["refunds"]] == ["SUCCESS"] * 3
    assert pair.balance(RICH) == before


def test_decode_replay_same_customer_same_order_other_customer_refused(pair):
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    other_before = pair.balance("u_10002")
    first = pair.drive(order["codeValue"], RICH, "abandon")
    again = pair.drive(order["codeValue"], RICH, "abandon")
    assert first["paymentRequestId"] == again["paymentRequestId"] == order["paymentRequestId"]
    other = pair.drive(order["codeValue"], "u_10002")
    assert other["problem"]["code"] == "REPEAT_REQ_INCONSISTENT"
    assert pair.balance("u_10002") == other_before
    assert pair.wallet_payment(order["paymentRequestId"])["customerId"] == RICH
    assert pair.wallet_payment(order["paymentRequestId"])["ledger"] == []


def test_late_success_is_reversed_exactly_once(pair):
    """Paid just before expiry but the notification is lost: Alipay+ closes the order and
    cancels; the wallet gives the money back; the late notification changes nothing."""
    order = pair.order(amount={"currency": "JPY", "value": "1000"}, expirySeconds=120)
    prid = order["paymentRequestId"]
    before = pair.balance(RICH)
    pair.drive(order["codeValue"], RICH, "abandon")
    pair.advance(100)  # the user hesitates; inquiries answer PAYMENT_IN_PROCESS
    pair.faults.pending["notifyPayment"] = 1
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    assert state["notification"]["status"] == "PENDING"
    assert pair.balance(RICH) == before - int(order["payToAmount"]["value"])
    pair.advance(30)  # expiry at 120 s: Alipay+ closes the order and calls cancelPayment
    wallet = pair.wallet_payment(prid)
    assert wallet["status"] == "CLOSED"
    assert pair.balance(RICH) == before
    # The outbox still delivers the success; Alipay+ acknowledges it and cancels again.
    assert pair.wallet.outbox.run_due() == 1
    assert pair.wallet.outbox.get(prid)["status"] == "DONE"
    pair.advance(60)
    assert pair.balance(RICH) == before
    assert [e["kind"] for e in pair.wallet_payment(prid)["ledger"]] == ["PAYMENT", "REVERSAL"]
    sim = pair.sim_payment(prid)
    assert sim["status"] == "CLOSED"
    assert sim["reversal"]["required"] is True
    assert sim["reversal"]["status"] == "done"


def test_refund_whose_answer_is_lost_is_repeated_and_credited_once(pair):
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    prid = order["paymentRequestId"]
    before = pair.balance(RICH)
    pair.drive(order["codeValue"], RICH)
    pair.lost.pending["refund"] = 1
    answer = requests.post(
        f"{pair.sim_url}/_sim/payments/{prid}/refunds",
        json={"amount": {"currency": "JPY", "value": "400"}},
        timeout=10,
    )
    assert answer.status_code in (200, 201, 202), answer.text
    pair.advance(1)
    assert pair.sim_payment(prid)["refunds"][0]["status"] != "SUCCESS"
    pair.advance(600)  # Alipay+ repeats the identical refund with back-off
    refund = pair.sim_payment(prid)["refunds"][0]
    assert refund["status"] == "SUCCESS"
    sent = pair.lost.seen["refund"]
    assert len(sent) >= 2
    assert len({json.loads(raw)["refundRequestId"] for raw in sent}) == 1
    assert set(sent) == {sent[0]}  # byte-identical
    credits = [e for e in pair.wallet_payment(prid)["ledger"] if e["kind"] == "REFUND"]
    assert len(credits) == 1
    assert pair.balance(RICH) == before - int(order["payToAmount"]["value"]) + int(
        refund["refundFromAmount"]["value"]
    )


def test_cancel_answered_too_late_is_repeated_and_reverses_once(pair):
    order = pair.order(amount={"currency": "JPY", "value": "1000"}, expirySeconds=60)
    prid = order["paymentRequestId"]
    before = pair.balance(RICH)
    pair.faults.pending["notifyPayment"] = 1  # Alipay+ does not know yet that it was paid
    pair.drive(order["codeValue"], RICH)
    pair.sim.config.cancel_timeout = 0.2  # the middleware holds the first cancel 0.6 s
    pair.lost.slow["cancelPayment"] = 1
    closed = requests.post(f"{pair.sim_url}/_sim/payments/{prid}/cancel", json={}, timeout=10)
    assert closed.status_code in (200, 202), closed.text  # the merchant closes the order
    pair.advance(1)
    pair.advance(600)
    sent = pair.lost.seen["cancelPayment"]
    assert len(sent) >= 2 and set(sent) == {sent[0]}
    assert pair.balance(RICH) == before
    kinds = [e["kind"] for e in pair.wallet_payment(prid)["ledger"]]
    assert kinds == ["PAYMENT", "REVERSAL"]
    exchanges = [e for e in pair.sim_payment(prid)["exchanges"] if e["api"] == "cancelPayment"]
    assert any("timeout" in (e["error"] or "") for e in exchanges)
    assert exchanges[-1]["result_status"] == "S"
