"""Concurrent duplicates: many Pay presses and many cancels at once still move money once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

CANCEL = "/aps/api/v1/payments/cancelPayment"


def test_concurrent_pay_presses_debit_once_and_notify_once(env):
    order = env.alipay.add_order()
    user = env.rich_user()
    before = env.balance(user)
    env.driver(order["codeValue"], user, "abandon")
    prid = order["paymentRequestId"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: env.wallet.confirm(prid, user), range(8)))
    assert all(r.status == "SUCCESS" for r in results)
    assert len({r.payment_id for r in results}) == 1
    assert env.balance(user) == before - 9050
    assert len(env.wallet.ledger.entries(prid)) == 1
    assert len(env.alipay.received["notifyPayment"]) == 1


def test_concurrent_cancels_reverse_once(env):
    order = env.alipay.add_order()
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    body = {
        "acquirerId": "1022188000000000001",
        "pspId": "1022172000000000001",
        "paymentRequestId": state["paymentRequestId"],
    }

    def cancel(_):
        return env.wallet.cancel_payment(body)["result"]["resultStatus"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(cancel, range(8))) == {"S"}
    assert env.balance(user) == before
    kinds = [e["kind"] for e in env.wallet.ledger.entries(state["paymentRequestId"])]
    assert kinds == ["PAYMENT", "REVERSAL"]
