"""The merchant demo page (simulator/merchant.py) with the wallet behind it."""

from __future__ import annotations

import requests


def _checkout(pair, **form):
    data = {"amount": "1000", "currency": "JPY", "merchantId": "M001", "scenario": "redirect"}
    data.update(form)
    return requests.post(
        f"{pair.sim_url}/merchant/checkout", data=data, allow_redirects=False, timeout=10
    )


def test_checkout_sends_the_visitor_to_the_wallet_cashier(pair):
    page = requests.get(f"{pair.sim_url}/merchant/", timeout=10).text
    assert "Pay with Alipay+ wallet" in page
    assert "<option>KRW</option>" in page and "<option selected>JPY</option>" in page
    answer = _checkout(pair, amount="12.50", currency="USD")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"{pair.wallet_url}/cashier?codeValue=")
    payments = requests.get(f"{pair.sim_url}/_sim/payments", timeout=10).json()["payments"]
    assert payments[0]["paymentAmount"] == {"currency": "USD", "value": "1250"}


def test_bad_amounts_are_explained(pair):
    for amount, words in (("12.5", "no decimals"), ("abc", "not an amount"), ("-3", "positive")):
        answer = _checkout(pair, amount=amount)
        assert answer.status_code == 400
        assert words in answer.text


def test_scan_scenario_shows_the_code_and_the_result_after_paying(pair):
    answer = _checkout(pair, scenario="scan")
    assert answer.status_code == 303
    order_url = f"{pair.sim_url}{answer.headers['Location']}"
    page = requests.get(order_url, timeout=10).text
    assert "Scan to pay" in page and "/qr.svg" in page
    assert 'http-equiv="refresh"' in page  # keeps itself current while waiting
    code_value = page.split('id="code-value">', 1)[1].split("<", 1)[0].replace("&amp;", "&")
    state = pair.drive(code_value, "u_10003")
    assert state["status"] == "SUCCESS"
    done = requests.get(order_url, timeout=10).text
    assert "Payment successful" in done
    assert 'http-equiv="refresh"' not in done
    as_json = requests.get(order_url + ".json", timeout=10).json()
    assert as_json["status"] == "SUCCESS"
    assert as_json["paymentId"] == state["paymentId"]
