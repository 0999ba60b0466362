""" "Commit then lose the answer" against the real reference wallet over loopback (virtual clock):
the wallet retries, and both sides end with exactly one debit and the same state."""

from __future__ import annotations

import json

import requests

from contracts import magic

RICH = "u_10001"


def _rule(pair, **rule) -> int:
    response = requests.post(f"{pair.sim_url}/_sim/faults", json=rule, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _journal(pair, api: str, prid: str) -> list[dict]:
    entries = pair.sim.journal.query(api=api, payment_request_id=prid, limit=100)
    return sorted(entries, key=lambda e: e["id"])


def _consistent(pair, prid: str, before: int, order: dict) -> None:
    sim, wallet = pair.sim_payment(prid), pair.wallet_payment(prid)
    assert sim["status"] == wallet["status"] == "SUCCESS"
    assert wallet["paymentId"] == sim["paymentId"]
    assert len(wallet["ledger"]) == 1
    assert pair.balance(RICH) == before - int(order["payToAmount"]["value"])


def test_decode_committed_then_answered_u(pair):
    rule = _rule(pair, api="userInitiatedPay", effect={"kind": "commit_then_result"}, times=1)
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    decodes = _journal(pair, "userInitiatedPay", order["paymentRequestId"])
    assert [e["result_code"] for e in decodes] == ["UNKNOWN_EXCEPTION", "SUCCESS"]
    assert decodes[0]["note"].startswith(f"injected: rule {rule} commit_then_result")
    assert decodes[0]["request_body"] == decodes[1]["request_body"]  # the identical retry
    assert "replay" in decodes[1]["note"]  # answered from the first, committed decode
    _consistent(pair, order["paymentRequestId"], before, order)


def test_decode_committed_then_dropped(pair):
    pair.wallet.config.decode_timeout = 0.3  # tiny, so the held connection is given up fast
    _rule(pair, api="userInitiatedPay", effect={"kind": "commit_then_drop", "seconds": 5}, times=1)
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    decodes = _journal(pair, "userInitiatedPay", order["paymentRequestId"])
    assert decodes[0]["response_status"] is None and "commit_then_drop" in decodes[0]["note"]
    assert decodes[-1]["result_code"] == "SUCCESS"
    _consistent(pair, order["paymentRequestId"], before, order)


def test_notify_committed_then_answered_u(pair):
    _rule(pair, api="notifyPayment", effect={"kind": "commit_then_result"}, times=1)
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    prid = order["paymentRequestId"]
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["status"] == "SUCCESS"
    assert state["notification"]["status"] == "PENDING"  # the wallet does not know yet
    assert pair.sim_payment(prid)["status"] == "SUCCESS"  # but Alipay+ recorded it
    pair.advance(5)  # the outbox's back-off
    assert pair.wallet.outbox.run_due() == 1
    assert pair.wallet.outbox.get(prid)["status"] == "DONE"
    notes = _journal(pair, "notifyPayment", prid)
    assert [e["result_code"] for e in notes] == ["UNKNOWN_EXCEPTION", "SUCCESS"]
    assert json.loads(notes[0]["request_body"]) == json.loads(notes[1]["request_body"])
    _consistent(pair, prid, before, order)


def test_notify_committed_then_dropped(pair):
    pair.wallet.outbox.timeout = 0.3
    _rule(pair, api="notifyPayment", effect={"kind": "commit_then_drop", "seconds": 5}, times=2)
    order = pair.order(amount={"currency": "JPY", "value": "1000"})
    prid = order["paymentRequestId"]
    before = pair.balance(RICH)
    state = pair.drive(order["codeValue"], RICH)
    assert state["notification"]["status"] == "PENDING"
    pair.advance(5)
    pair.wallet.outbox.run_due()  # dropped again
    pair.advance(30)
    pair.wallet.outbox.run_due()
    assert pair.wallet.outbox.get(prid)["status"] == "DONE"
    notes = _journal(pair, "notifyPayment", prid)
    assert len(notes) == 3 and len({e["request_body"] for e in notes}) == 1
    _consistent(pair, prid, before, order)
    report = requests.get(f"{pair.sim_url}/_sim/report", timeout=10).json()
    shown = report["apis"]["notifyPayment"]["exposures"]["fault commit_then_drop"]
    assert shown == [{"then": "retried identically", "verdict": "good", "count": 2}]
    assert report["summary"]["bad"] == 0


def test_magic_amounts_lose_only_the_committing_answer(pair):
    """Orders of the reserved amounts 4040901 / 4040911: no rule needed. (Far beyond the demo
    users' balances, so the payment fails: consistently on both sides, nothing debited.)"""
    before = pair.balance(RICH)
    decode_order = pair.order(
        amount={"currency": "JPY", "value": magic.amount("userInitiatedPay", "commit_then_result")}
    )
    state = pair.drive(decode_order["codeValue"], RICH)
    prid = decode_order["paymentRequestId"]
    decodes = _journal(pair, "userInitiatedPay", prid)
    assert [e["result_code"] for e in decodes] == ["UNKNOWN_EXCEPTION", "SUCCESS"]
    assert "injected: magic amount 4040901 commit_then_result" in decodes[0]["note"]
    assert state["status"] == "FAILED"

    notify_order = pair.order(
        amount={"currency": "JPY", "value": magic.amount("notifyPayment", "commit_then_result")}
    )
    nprid = notify_order["paymentRequestId"]
    state = pair.drive(notify_order["codeValue"], RICH)
    assert state["notification"]["status"] == "PENDING"
    pair.advance(5)
    pair.wallet.outbox.run_due()
    assert pair.wallet.outbox.get(nprid)["status"] == "DONE"
    notes = _journal(pair, "notifyPayment", nprid)
    assert [e["result_code"] for e in notes] == ["UNKNOWN_EXCEPTION", "SUCCESS"]
    for payment_request_id in (prid, nprid):
        sim, wallet = pair.sim_payment(payment_request_id), pair.wallet_payment(payment_request_id)
        assert sim["status"] == wallet["status"] == "FAILED"
        assert wallet["ledger"] == []
    assert pair.balance(RICH) == before
