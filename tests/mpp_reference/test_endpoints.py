"""The endpoints Alipay+ calls on the wallet: every answer, every idempotency rule, signatures."""

from __future__ import annotations

import json

from contracts import signing

INQUIRY = "/aps/api/v1/payments/inquiryPayment"
CANCEL = "/aps/api/v1/payments/cancelPayment"
REFUND = "/aps/api/v1/payments/refund"


def _ids(prid: str) -> dict[str, str]:
    return {
        "acquirerId": "1022188000000000001",
        "pspId": "1022172000000000001",
        "paymentRequestId": prid,
    }


def _call(env, path: str, body: dict, **headers) -> dict:
    answer = env.alipay.signed_call(env.client, path, body, **headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert env.alipay.verify_answer(path, answer), "the wallet's answer must verify"
    return answer.get_json()


def _paid(env, amount=("JPY", 1000), pay_to=("KRW", 9050)) -> dict:
    order = env.alipay.add_order(amount=amount, pay_to=pay_to)
    state = env.driver(order["codeValue"], env.rich_user())
    assert state["status"] == "SUCCESS"
    return state


def _refund(env, state: dict, rrid: str, value: int, from_value: int) -> dict:
    body = {
        **_ids(state["paymentRequestId"]),
        "paymentId": state["paymentId"],
        "refundRequestId": rrid,
        "refundAmount": {"currency": state["paymentAmount"]["currency"], "value": str(value)},
        "refundFromAmount": {
            "currency": state["payToAmount"]["currency"],
            "value": str(from_value),
        },
    }
    return _call(env, REFUND, body)


# -- inquiryPayment ---------------------------------------------------------------------------


def test_inquiry_unknown_payment_is_order_not_exist(env):
    answer = _call(env, INQUIRY, _ids("20260101000000000000000099999X"))
    assert answer["result"]["resultStatus"] == "F"
    assert answer["result"]["resultCode"] == "ORDER_NOT_EXIST"
    assert "paymentResult" not in answer


def test_inquiry_while_user_is_on_the_cashier_is_in_process(env):
    order = env.alipay.add_order()
    env.driver(order["codeValue"], env.rich_user(), "abandon")
    answer = _call(env, INQUIRY, _ids(order["paymentRequestId"]))
    assert answer["result"]["resultStatus"] == "S"
    assert answer["paymentResult"] == {
        "resultCode": "PAYMENT_IN_PROCESS",
        "resultStatus": "U",
        "resultMessage": answer["paymentResult"]["resultMessage"],
    }


def test_inquiry_after_payment_reports_success_with_the_payment_fields(env):
    state = _paid(env)
    answer = _call(env, INQUIRY, _ids(state["paymentRequestId"]))
    assert answer["result"]["resultStatus"] == "S"
    assert answer["paymentResult"]["resultStatus"] == "S"
    assert answer["paymentResult"]["resultCode"] == "SUCCESS"
    assert answer["paymentId"] == state["paymentId"]
    assert answer["paymentTime"] == state["paymentTime"]
    assert answer["payToAmount"] == {"currency": "KRW", "value": "9050"}
    assert answer["customerId"] == state["customerId"]


def test_inquiry_after_insufficient_balance_reports_the_reason(env):
    order = env.alipay.add_order(pay_to=("KRW", 50_000_000))
    state = env.driver(order["codeValue"], env.poor_user())
    assert state["status"] == "FAILED"
    answer = _call(env, INQUIRY, _ids(order["paymentRequestId"]))
    assert answer["paymentResult"]["resultStatus"] == "F"
    assert answer["paymentResult"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"


def test_inquiry_after_user_cancel_is_order_closed(env):
    order = env.alipay.add_order()
    env.driver(order["codeValue"], env.rich_user(), "cancel")
    answer = _call(env, INQUIRY, _ids(order["paymentRequestId"]))
    assert answer["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    assert answer["paymentResult"]["resultStatus"] == "F"


# -- cancelPayment ----------------------------------------------------------------------------


def test_cancel_of_a_paid_payment_gives_the_money_back_once(env):
    user = env.rich_user()
    before = env.balance(user)
    state = _paid(env)
    assert env.balance(user) == before - 9050
    for _ in range(3):  # idempotent: the same answer, one reversal
        answer = _call(env, CANCEL, _ids(state["paymentRequestId"]))
        assert answer["result"]["resultStatus"] == "S"
        assert answer["result"]["resultCode"] == "SUCCESS"
    assert env.balance(user) == before
    kinds = [e["kind"] for e in env.wallet.ledger.entries(state["paymentRequestId"])]
    assert kinds == ["PAYMENT", "REVERSAL"]
    inquiry = _call(env, INQUIRY, _ids(state["paymentRequestId"]))
    assert inquiry["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"


def test_cancel_of_an_unknown_order_succeeds_and_the_order_can_never_be_paid(env):
    order = env.alipay.add_order()
    answer = _call(env, CANCEL, _ids(order["paymentRequestId"]))
    assert answer["result"]["resultStatus"] == "S"
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["problem"]["kind"] == "closed"
    assert state["status"] == "CLOSED"
    assert env.balance(user) == before
    assert env.alipay.received["notifyPayment"] == []


def test_cancel_while_on_the_cashier_closes_it_without_charging(env):
    order = env.alipay.add_order()
    user = env.rich_user()
    before = env.balance(user)
    env.driver(order["codeValue"], user, "abandon")
    _call(env, CANCEL, _ids(order["paymentRequestId"]))
    page = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    assert page.status_code in (200, 303)
    assert env.balance(user) == before
    assert env.wallet.payment(order["paymentRequestId"]).status == "CLOSED"


def test_cancel_after_a_partial_refund_gives_back_only_the_rest(env):
    user = env.rich_user()
    before = env.balance(user)
    state = _paid(env)
    assert _refund(env, state, "R-1", 300, 2715)["result"]["resultStatus"] == "S"
    _call(env, CANCEL, _ids(state["paymentRequestId"]))
    assert env.balance(user) == before


# -- refund -----------------------------------------------------------------------------------


def test_two_partial_refunds_then_one_too_many(env):
    user = env.rich_user()
    before = env.balance(user)
    state = _paid(env)
    first = _refund(env, state, "R-1", 400, 3620)
    second = _refund(env, state, "R-2", 500, 4525)
    for answer in (first, second):
        assert answer["result"]["resultStatus"] == "S"
        assert answer["refundId"] and answer["refundTime"]
    assert first["refundId"] != second["refundId"]
    assert env.balance(user) == before - 9050 + 3620 + 4525
    third = _refund(env, state, "R-3", 200, 1810)
    assert third["result"]["resultStatus"] == "F"
    assert third["result"]["resultCode"] == "REFUND_AMOUNT_EXCEED"
    assert env.balance(user) == before - 9050 + 3620 + 4525
    # The rest exactly is fine.
    assert _refund(env, state, "R-4", 100, 905)["result"]["resultStatus"] == "S"
    assert env.balance(user) == before


def test_refund_replay_answers_the_same_and_a_changed_replay_is_inconsistent(env):
    user = env.rich_user()
    state = _paid(env)
    first = _refund(env, state, "R-1", 400, 3620)
    after_first = env.balance(user)
    again = _refund(env, state, "R-1", 400, 3620)
    assert again == first
    assert env.balance(user) == after_first
    changed = _refund(env, state, "R-1", 500, 4525)
    assert changed["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    assert changed["result"]["resultStatus"] == "F"
    assert env.balance(user) == after_first


def test_refund_of_an_unpaid_or_unknown_payment_is_refused(env):
    order = env.alipay.add_order()
    env.driver(order["codeValue"], env.rich_user(), "abandon")
    state = {
        "paymentRequestId": order["paymentRequestId"],
        "paymentId": "MPP-NONE",
        "paymentAmount": order["paymentAmount"],
        "payToAmount": order["payToAmount"],
    }
    answer = _refund(env, state, "R-1", 100, 905)
    assert answer["result"]["resultStatus"] == "F"
    assert answer["result"]["resultCode"] == "ORDER_STATUS_INVALID"
    unknown = dict(state, paymentRequestId="20260101000000000000000077777X")
    assert _refund(env, unknown, "R-2", 100, 905)["result"]["resultCode"] == "ORDER_NOT_EXIST"


def test_refund_in_the_wrong_currency_names_the_field(env):
    state = _paid(env)
    body = {
        **_ids(state["paymentRequestId"]),
        "paymentId": state["paymentId"],
        "refundRequestId": "R-9",
        "refundAmount": {"currency": "JPY", "value": "100"},
        "refundFromAmount": {"currency": "USD", "value": "100"},
    }
    answer = _call(env, REFUND, body)
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "refundFromAmount" in answer["result"]["resultMessage"]


# -- the message itself -----------------------------------------------------------------------


def test_tampered_body_is_invalid_signature(env):
    raw = json.dumps(_ids("X1")).encode()
    headers = signing.signed_request_headers(
        env.alipay.private_key, env.alipay.client_id, INQUIRY, raw, env.clock.now()
    )
    answer = env.client.post(INQUIRY, data=raw.replace(b"X1", b"X2"), headers=headers)
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["result"]["resultCode"] == "INVALID_SIGNATURE"
    assert body["result"]["resultStatus"] == "F"
    assert env.alipay.verify_answer(INQUIRY, answer)


def test_request_signed_with_another_key_is_invalid_signature(env):
    raw = json.dumps(_ids("X1")).encode()
    headers = signing.signed_request_headers(
        signing.generate_private_key(), env.alipay.client_id, CANCEL, raw, env.clock.now()
    )
    body = env.client.post(CANCEL, data=raw, headers=headers).get_json()
    assert body["result"]["resultCode"] == "INVALID_SIGNATURE"


def test_other_client_id_is_invalid_client(env):
    answer = env.alipay.signed_call(env.client, INQUIRY, _ids("X1"), **{"Client-Id": "SOMEONE"})
    assert answer.get_json()["result"]["resultCode"] == "INVALID_CLIENT"


def test_missing_field_is_param_illegal_naming_it(env):
    body = _ids("X1")
    del body["paymentRequestId"]
    answer = _call(env, INQUIRY, body)
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "paymentRequestId" in answer["result"]["resultMessage"]


def test_non_json_body_is_param_illegal(env):
    answer = env.alipay.signed_call(env.client, CANCEL, b"not json")
    assert answer.status_code == 200
    assert answer.get_json()["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_get_is_method_not_supported_and_unknown_api_is_invalid_api(env):
    got = env.client.get(INQUIRY)
    assert got.status_code == 200
    assert got.get_json()["result"]["resultCode"] == "METHOD_NOT_SUPPORTED"
    other = env.client.post("/aps/api/v1/payments/pay", data=b"{}")
    assert other.status_code == 200
    assert other.get_json()["result"]["resultCode"] == "INVALID_API"
