"""Every legitimate variation Alipay+ may send (issue 11) is handled: optional fields absent,
unknown fields, surcharge, HANDLE_BY_SDK, rich orders, other Response-Time formats, and the
cancel that ends a two-wallet race."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

import pytest

from contracts import validate
from tests.mpp_reference.fake_alipay import LONG_MERCHANT, RESPONSE_TIME_FORMATS

INQUIRY = "/aps/api/v1/payments/inquiryPayment"
CANCEL = "/aps/api/v1/payments/cancelPayment"
REFUND = "/aps/api/v1/payments/refund"
NOTIFY = "/aps/api/v1/payments/notifyPayment"


def _cashier(env, code_value: str, user: str | None = None) -> str:
    env.client.get(f"/signin?customerId={user or env.rich_user()}")
    page = env.client.get(f"/cashier?codeValue={quote(code_value, safe='')}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _ids(prid: str) -> dict[str, str]:
    return {"acquirerId": "A1", "pspId": "P1", "paymentRequestId": prid}


def test_no_payment_notify_url_uses_the_alipay_notify_path(env):
    order = env.alipay.add_order(notify_url=None)
    state = env.driver(order["codeValue"], env.rich_user())
    assert state["status"] == "SUCCESS"
    sent = env.alipay.received["notifyPayment"]
    assert len(sent) == 1 and sent[0]["verified"]
    assert state["notification"]["status"] == "DONE"


def test_no_payment_notify_url_uses_the_configured_default(make_env, alipay_server):
    server, _ = alipay_server
    env = make_env(notify_url=f"{server.url}{NOTIFY}?from=default")
    order = env.alipay.add_order(notify_url=None)
    assert env.driver(order["codeValue"], env.rich_user())["status"] == "SUCCESS"
    sent = env.alipay.received["notifyPayment"]
    assert sent[0]["query"] == b"from=default" and sent[0]["verified"]
    # A paymentNotifyUrl in the decode takes precedence over the default.
    other = env.alipay.add_order()
    env.driver(other["codeValue"], env.rich_user())
    assert env.alipay.received["notifyPayment"][1]["query"] == b""


def test_no_redirect_url_result_page_says_there_is_no_merchant_page(env):
    order = env.alipay.add_order(redirect_url="")
    _cashier(env, order["codeValue"])
    done = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    page = env.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Payment successful" in page
    assert 'id="no-merchant-page"' in page and "gave no page to return to" in page
    assert "Return to merchant" not in page
    assert "window.location.assign" not in page  # nowhere to send the user automatically
    assert 'id="return" href="/"' in page


def test_no_expiry_time_means_no_local_deadline(env):
    order = env.alipay.add_order(expiry_seconds=None)
    page = _cashier(env, order["codeValue"])
    assert "no deadline given" in page
    env.clock.advance(86_400)  # a day later the wallet still lets the user pay
    done = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    assert done.status_code == 303
    assert env.wallet.payment(order["paymentRequestId"]).status == "SUCCESS"


def test_same_currency_order_without_quote(env):
    order = env.alipay.add_order(amount=("KRW", 25_000), pay_to=("KRW", 25_000))
    assert "paymentQuote" not in order
    page = _cashier(env, order["codeValue"])
    assert "Exchange rate" not in page
    assert 'id="order-amount">25,000 KRW<' in page
    assert 'id="wallet-debits" class="big">25,000 KRW<' in page
    user = env.rich_user()
    before = env.balance(user)
    assert env.driver(order["codeValue"], user)["status"] == "SUCCESS"
    assert env.balance(user) == before - 25_000


def test_unknown_fields_everywhere_are_ignored(env):
    order = env.alipay.add_order(extra=True, promo=500)
    assert "futureField" in order["paymentAmount"] and "brandNewTopLevel" in order
    page = _cashier(env, order["codeValue"])
    assert "futureField" not in page and "ignore me" not in page
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["status"] == "SUCCESS"
    assert env.balance(user) == before - 8550
    sent = env.alipay.received["notifyPayment"][0]["body"]
    assert validate("notifyPayment", "request", sent) == []


def test_surcharge_user_pays_the_surcharge_amount_wallet_settles_pay_to(env):
    order = env.alipay.add_order(surcharge=9200)  # payToAmount 9,050 KRW, with surcharge 9,200
    page = _cashier(env, order["codeValue"])
    assert 'id="surcharge">+ 150 KRW' in page
    assert 'id="wallet-debits" class="big">9,200 KRW<' in page
    assert "Pay 9,200 KRW" in page
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["status"] == "SUCCESS"
    assert env.balance(user) == before - 9200
    sent = env.alipay.received["notifyPayment"][0]["body"]
    assert sent["payToAmount"] == {"currency": "KRW", "value": "9050"}  # what is settled
    # Cancelled later: the user gets back what they paid, surcharge included.
    env.alipay.signed_call(env.client, CANCEL, _ids(state["paymentRequestId"]))
    assert env.balance(user) == before


def test_handle_by_sdk_is_handed_over_and_the_driver_still_completes(env):
    form = {"actionType": "HANDLE_BY_SDK", "sdkActionPayload": "eyJhY3Rpb24iOiJwYXkifQ=="}
    order = env.alipay.add_order(action_form=form)
    page = _cashier(env, order["codeValue"])
    assert 'id="sdk-handover"' in page and "client SDK" in page
    other = env.alipay.add_order(action_form={"actionType": "HANDLE_BY_PSP"})
    assert 'id="sdk-handover"' not in _cashier(env, other["codeValue"])
    state = env.driver(order["codeValue"], env.rich_user())
    assert state["status"] == "SUCCESS"
    assert env.alipay.received["notifyPayment"][0]["body"]["paymentResult"]["resultStatus"] == "S"


def test_rich_order_and_a_long_utf8_merchant_name_are_rendered(env):
    order = env.alipay.add_order(rich=True, merchant_name=LONG_MERCHANT)
    page = _cashier(env, order["codeValue"])
    assert escape(LONG_MERCHANT) in page
    assert "オーガニックコットンTシャツ" in page and "2 ×" in page and "500 JPY each" in page
    assert "Shibuya store" in page
    assert "김민지" in page and "Seoul" in page
    state = env.driver(order["codeValue"], env.rich_user())
    assert state["status"] == "SUCCESS"
    result = env.client.get(f"/result/{state['paymentRequestId']}").get_data(as_text=True)
    assert escape(LONG_MERCHANT) in result


@pytest.mark.parametrize("form", sorted(RESPONSE_TIME_FORMATS))
def test_answers_with_any_sdk_response_time_format_are_trusted(env, form):
    env.alipay.response_time_format = form
    order = env.alipay.add_order()
    state = env.driver(order["codeValue"], env.rich_user())
    assert len(env.alipay.received["userInitiatedPay"]) == 1  # the first answer was trusted
    assert state["status"] == "SUCCESS"
    assert state["notification"]["status"] == "DONE"
    assert state["notification"]["attempts"] == 1


def test_cancel_of_a_success_after_a_two_wallet_race_reverses_the_debit(env):
    """The same code decoded in two wallets; the other paid first, so Alipay+ cancels ours."""
    order = env.alipay.add_order()
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["status"] == "SUCCESS" and env.balance(user) == before - 9050
    answer = env.alipay.signed_call(env.client, CANCEL, _ids(state["paymentRequestId"]))
    assert answer.get_json()["result"]["resultStatus"] == "S"
    assert env.balance(user) == before
    inquiry = env.alipay.signed_call(env.client, INQUIRY, _ids(state["paymentRequestId"]))
    assert inquiry.get_json()["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    page = env.client.get(f"/result/{state['paymentRequestId']}").get_data(as_text=True)
    assert "Order closed" in page and "9,050 KRW debited were given back" in page
    refund = env.alipay.signed_call(
        env.client,
        REFUND,
        {
            **_ids(state["paymentRequestId"]),
            "paymentId": state["paymentId"],
            "refundRequestId": "R-after-cancel",
            "refundAmount": {"currency": "JPY", "value": "100"},
            "refundFromAmount": {"currency": "KRW", "value": "905"},
        },
    )
    assert refund.get_json()["result"]["resultCode"] == "ORDER_STATUS_INVALID"
    assert env.balance(user) == before
