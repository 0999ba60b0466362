"""The wallet test hook POST /_mpp/driver/pay: the binding contract `aplus-sim verify` drives."""

from __future__ import annotations

import pytest

HOOK = "/_mpp/driver/pay"


def _hook(env, body=None, **kwargs):
    return env.client.post(HOOK, json=body, **kwargs)


def test_confirm_pays_notifies_and_answers_the_contract_fields(env):
    order = env.alipay.add_order()
    user = env.rich_user()
    before = env.balance(user)
    answer = _hook(env, {"codeValue": order["codeValue"], "action": "confirm", "customerId": user})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["paymentRequestId"] == order["paymentRequestId"]
    assert body["status"] == "SUCCESS"
    assert env.balance(user) == before - 9050
    assert len(env.alipay.received["notifyPayment"]) == 1


def test_customer_is_optional_the_wallet_picks_a_funded_user(env):
    order = env.alipay.add_order()
    richest = env.rich_user()
    before = env.balance(richest)
    body = _hook(env, {"codeValue": order["codeValue"], "action": "confirm"}).get_json()
    assert body["status"] == "SUCCESS"
    assert body["customerId"] == richest
    assert env.balance(richest) == before - 9050
    decoded_for = env.alipay.received["userInitiatedPay"][0]["body"]["customerId"]
    assert decoded_for == richest


def test_a_replay_without_customer_stays_with_the_user_who_opened_the_code(env):
    order = env.alipay.add_order(pay_to=("KRW", 10_000))
    first = _hook(env, {"codeValue": order["codeValue"], "action": "abandon"}).get_json()
    # Another user becomes the richest: the replay must still be the same user's.
    other, top_up = env.poor_user(), 10 * env.balance(first["customerId"])
    with env.wallet.engine.begin() as conn:
        env.wallet.ledger.post(
            conn,
            reference="test:top-up",
            customer_id=other,
            amount=top_up,
            currency="KRW",
            kind="REFUND",
            payment_request_id=None,
            when=env.clock.now(),
        )
    assert env.rich_user() == other
    again = _hook(env, {"codeValue": order["codeValue"], "action": "confirm"}).get_json()
    assert again["customerId"] == first["customerId"]
    assert again["status"] == "SUCCESS"
    decodes = env.alipay.received["userInitiatedPay"]
    assert {d["body"]["customerId"] for d in decodes} == {first["customerId"]}


def test_cancel_closes_and_abandon_leaves_the_user_on_the_cashier(env):
    cancelled = env.alipay.add_order()
    body = _hook(env, {"codeValue": cancelled["codeValue"], "action": "cancel"}).get_json()
    assert (body["paymentRequestId"], body["status"]) == (cancelled["paymentRequestId"], "CLOSED")
    notified = env.alipay.received["notifyPayment"][0]["body"]["paymentResult"]
    assert notified["resultCode"] == "ORDER_IS_CLOSED"
    abandoned = env.alipay.add_order()
    body = _hook(env, {"codeValue": abandoned["codeValue"], "action": "abandon"}).get_json()
    assert (body["paymentRequestId"], body["status"]) == (abandoned["paymentRequestId"], "DECODED")
    assert len(env.alipay.received["notifyPayment"]) == 1  # nothing told for the abandoned one


def test_a_failed_decode_answers_200_with_null_id_and_the_problem(env):
    env.alipay.script["userInitiatedPay"] = ["EXPIRED_CODE"]
    body = _hook(
        env, {"codeValue": "https://qr.alipayplus.com/28166613GONE", "action": "confirm"}
    ).get_json()
    assert body["paymentRequestId"] is None
    assert body["status"] == "DECODE_FAILED"
    assert body["problem"]["code"] == "EXPIRED_CODE"
    assert env.alipay.received["notifyPayment"] == []


def test_insufficient_balance_is_a_failed_payment_not_a_hook_error(env):
    order = env.alipay.add_order(pay_to=("KRW", 50_000_000))
    body = _hook(
        env, {"codeValue": order["codeValue"], "action": "confirm", "customerId": env.poor_user()}
    ).get_json()
    assert body["status"] == "FAILED"
    assert body["resultCode"] == "USER_BALANCE_NOT_ENOUGH"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"action": "confirm"}, "codeValue"),
        ({"codeValue": "", "action": "confirm"}, "codeValue"),
        ({"codeValue": 42, "action": "confirm"}, "codeValue"),
        ({"codeValue": "x"}, "action"),
        ({"codeValue": "x", "action": "dance"}, "action"),
        ({"codeValue": "x", "action": ["confirm"]}, "action"),
        ({"codeValue": "x", "action": "confirm", "customerId": 7}, "customerId"),
        ({"codeValue": "x", "action": "confirm", "customerId": "nobody"}, "customerId"),
        ({"codeValue": "x", "action": "confirm", "scanned": "yes"}, "scanned"),
        (["codeValue", "x"], "JSON object"),
    ],
)
def test_bad_hook_input_is_400_naming_the_field(env, body, names):
    answer = _hook(env, body)
    assert answer.status_code == 400
    assert names in answer.get_json()["error"]
    assert env.alipay.received["userInitiatedPay"] == []  # nothing was attempted


def test_a_body_that_is_not_json_is_400(env):
    answer = env.client.post(HOOK, data="codeValue=x", content_type="text/plain")
    assert answer.status_code == 400
    assert "JSON object" in answer.get_json()["error"]
    broken = env.client.post(HOOK, data="{bad", content_type="application/json")
    assert broken.status_code == 400
    assert "error" in broken.get_json()
