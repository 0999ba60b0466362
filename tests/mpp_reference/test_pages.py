"""The cashier pages as a user meets them: sign-in, cashier, result, redirects, error pages."""

from __future__ import annotations

from urllib.parse import quote

import pytest


def _open(env, code_value: str, user: str | None = None, scanned: bool = False):
    user = user or env.rich_user()
    env.client.get(f"/signin?customerId={user}")
    url = f"/cashier?codeValue={quote(code_value, safe='')}"
    return env.client.get(url + ("&scanned=1" if scanned else ""))


def test_cashier_without_a_user_asks_who_pays_then_continues(env):
    order = env.alipay.add_order()
    url = f"/cashier?codeValue={quote(order['codeValue'], safe='')}"
    page = env.client.get(url)
    text = page.get_data(as_text=True)
    assert "Who is paying?" in text
    assert env.alipay.received["userInitiatedPay"] == []  # nothing decoded before a user
    user = env.rich_user()
    signin = env.client.get(f"/signin?customerId={user}&next={quote(url, safe='')}")
    assert signin.status_code == 302
    assert signin.headers["Location"].endswith(url)
    cashier = env.client.get(url).get_data(as_text=True)
    assert "Demo Shop Tokyo" in cashier


def test_cashier_shows_merchant_amounts_fx_savings_and_countdown(env):
    order = env.alipay.add_order(amount=("JPY", 1000), pay_to=("KRW", 9050), promo=500)
    page = _open(env, order["codeValue"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="merchant-name">Demo Shop Tokyo<' in text
    assert "Two T-shirts" in text
    assert 'id="order-amount">1,000 JPY<' in text
    assert 'id="fx-rate">1 JPY = 9.05 KRW<' in text  # no padding zeros
    assert "Welcome voucher" in text and "500 KRW" in text
    assert 'id="wallet-debits" class="big">8,550 KRW<' in text
    assert 'data-seconds="600"' in text
    assert 'id="pay"' in text and 'id="cancel"' in text


def test_pay_debits_once_and_the_result_page_returns_to_the_merchant(env):
    order = env.alipay.add_order(promo=500)
    user = env.rich_user()
    before = env.balance(user)
    _open(env, order["codeValue"], user)
    form = {"paymentRequestId": order["paymentRequestId"]}
    done = env.client.post("/cashier/pay", data=form)
    assert done.status_code == 303
    again = env.client.post("/cashier/pay", data=form)  # a double click
    assert again.status_code == 303
    assert env.balance(user) == before - 8550
    result = env.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Payment successful" in result
    assert 'href="https://merchant.example/return?order=1"' in result
    assert "Welcome voucher" in result
    sent = env.alipay.received["notifyPayment"]
    assert len(sent) == 1
    assert sent[0]["body"]["paymentResult"]["resultStatus"] == "S"
    assert sent[0]["body"]["payToAmount"] == {"currency": "KRW", "value": "8550"}
    assert sent[0]["body"]["paymentPromoInfo"] == order["paymentPromoInfo"]


@pytest.mark.parametrize(
    "redirect_url",
    [
        "https://m.merchant.example/pay/done?id=7&x=%20y",
        "merchantapp://payment/result?order=7",
        "https://applink.merchant.example/open/order/7",
        "intent://order/7#Intent;scheme=merchant;package=com.merchant;end",
    ],
)
def test_every_form_of_redirect_url_is_followed_as_given(env, redirect_url):
    order = env.alipay.add_order(redirect_url=redirect_url)
    _open(env, order["codeValue"])
    done = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    result = env.client.get(done.headers["Location"])
    answer = env.client.get(f"/_mpp/payments/{order['paymentRequestId']}").get_json()
    assert answer["redirectUrl"] == redirect_url
    html_escaped = redirect_url.replace("&", "&amp;").replace(";", ";")
    assert f'href="{html_escaped}"' in result.get_data(as_text=True)


def test_cancel_notifies_order_closed_and_sends_the_user_back_to_the_merchant(env):
    order = env.alipay.add_order()
    user = env.rich_user()
    before = env.balance(user)
    _open(env, order["codeValue"], user)
    done = env.client.post("/cashier/cancel", data={"paymentRequestId": order["paymentRequestId"]})
    result = env.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Payment cancelled" in result
    assert 'href="https://merchant.example/return?order=1"' in result
    assert "window.location.assign" in result  # automatic return
    assert env.balance(user) == before
    sent = env.alipay.received["notifyPayment"][0]["body"]
    assert sent["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    assert sent["paymentResult"]["resultStatus"] == "F"


def test_scanned_code_returns_to_the_wallet_home(env):
    order = env.alipay.add_order()
    env.client.get(f"/signin?customerId={env.rich_user()}")
    posted = env.client.post("/scan", data={"codeValue": order["codeValue"]})
    assert posted.status_code == 302
    page = env.client.get(posted.headers["Location"])
    assert "Demo Shop Tokyo" in page.get_data(as_text=True)
    done = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    result = env.client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="return" href="/"' in result
    assert "Back to wallet" in result


def test_insufficient_balance_shows_why_and_charges_nothing(env):
    order = env.alipay.add_order(pay_to=("KRW", 50_000_000))
    user = env.poor_user()
    before = env.balance(user)
    _open(env, order["codeValue"], user)
    done = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    result = env.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Payment failed" in result
    assert "USER_BALANCE_NOT_ENOUGH" in result
    assert env.balance(user) == before
    sent = env.alipay.received["notifyPayment"][0]["body"]
    assert sent["paymentResult"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert "paymentId" not in sent


@pytest.mark.parametrize(
    ("scripted", "title"),
    [
        ("EXPIRED_CODE", "This order has expired"),
        ("ORDER_IS_CLOSED", "This order is closed"),
        ("INVALID_CODE", "The payment could not go ahead"),
    ],
)
def test_decode_failures_get_clear_pages(env, scripted, title):
    order = env.alipay.add_order()
    env.alipay.script["userInitiatedPay"].append(scripted)
    page = _open(env, order["codeValue"])
    text = page.get_data(as_text=True)
    assert title in text
    assert scripted in text
    assert len(env.alipay.received["userInitiatedPay"]) == 1  # F: never retried


def test_unsupported_and_entry_codes_are_refused_without_calling_alipay(env):
    for code in ("hello", "https://entry.example/store/42"):
        text = _open(env, code).get_data(as_text=True)
        assert "This code is not supported" in text
    assert env.alipay.received["userInitiatedPay"] == []


def test_paying_after_expiry_shows_expired_and_charges_nothing(env):
    order = env.alipay.add_order(expiry_seconds=60)
    user = env.rich_user()
    before = env.balance(user)
    _open(env, order["codeValue"], user)
    env.clock.advance(61)
    page = env.client.post("/cashier/pay", data={"paymentRequestId": order["paymentRequestId"]})
    assert "This order has expired" in page.get_data(as_text=True)
    assert env.balance(user) == before


def test_another_customer_cannot_pay_a_decoded_order(env):
    order = env.alipay.add_order()
    users = env.wallet.ledger.users()
    _open(env, order["codeValue"], users[0].customer_id)
    text = _open(env, order["codeValue"], users[1].customer_id).get_data(as_text=True)
    assert "REPEAT_REQ_INCONSISTENT" in text


def test_home_lists_users_and_payments(env):
    order = env.alipay.add_order()
    env.driver(order["codeValue"], env.rich_user())
    text = env.client.get("/").get_data(as_text=True)
    assert order["paymentRequestId"] in text
    assert "SUCCESS" in text
    for user in env.wallet.ledger.users():
        assert user.customer_id in text


def test_health_shows_what_registration_needs(env):
    health = env.client.get("/_mpp/health").get_json()
    assert health["status"] == "ok"
    assert health["walletCurrency"] == "KRW"
    assert health["clientId"] == env.wallet.config.client_id
    assert len(health["publicKey"]) > 300


def test_remote_clock_follows_the_other_servers_time(env):
    from mpp_reference.clock import RemoteClock

    env.clock.advance(12_345)
    assert RemoteClock(f"{env.alipay.base_url}/_sim/clock").now() == env.clock.now()
    # Unreachable: real time rather than a crash.
    assert RemoteClock("http://127.0.0.1:9/_sim/clock", timeout=0.5).now().year >= 2025
