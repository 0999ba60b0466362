"""The merchant front door: POST /_sim/orders, amounts (FX, promotions), QR, listing, reset."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from contracts import money, validate
from contracts.codes import identify_code
from simulator import pricing


def expected_pay_to(value: int, from_ccy: str, to_ccy: str) -> tuple[int, dict]:
    for pair in (f"{from_ccy}/{to_ccy}", f"{to_ccy}/{from_ccy}"):
        if pair in pricing.fx_rates():
            price = pricing.fx_rates()[pair]
            return money.convert(value, from_ccy, to_ccy, price, pair), {"pair": pair}
    raise AssertionError(f"no rate {from_ccy}/{to_ccy} in the demo FX table")


def test_order_defaults(make_order, sim):
    order = make_order(amount={"currency": "JPY", "value": "1000"})
    assert len(order["paymentRequestId"]) == 31
    assert order["paymentRequestId"].startswith("20250101120000")
    assert sum(c.isalpha() for c in order["paymentRequestId"]) == 1
    assert order["codeValue"].startswith("https://qr.alipayplus.com/28166613")
    assert order["paymentExpiryTime"] == "2025-01-01T12:10:00+08:00"  # 10 minutes
    assert order["status"] == "CREATED"
    participant = sim.keys.participant(sim.config.default_client_id)
    assert len(participant["pspId"]) == 16 and participant["pspId"].isdigit()
    assert len(participant["acquirerId"]) == 16 and participant["acquirerId"].isdigit()


def test_cashier_url_appends_the_url_encoded_code(make_order, client, sim):
    client.put(
        f"/_sim/participants/{sim.config.default_client_id}",
        json={"cashierUrl": "https://wallet.example/pay?source=alipay-connect"},
    )
    order = make_order()
    url = urlsplit(order["cashierUrl"])
    assert order["cashierUrl"].startswith("https://wallet.example/pay?source=alipay-connect&")
    assert "codeValue=https%3A%2F%2Fqr.alipayplus.com%2F28166613" in order["cashierUrl"]
    assert parse_qs(url.query)["codeValue"] == [order["codeValue"]]


@pytest.mark.parametrize("style", ["production", "sandbox"])
def test_minted_codes_decode_under_the_served_rules(make_order, client, style):
    rules = client.get("/_sim/code-rules").get_json()["codeRules"]
    order = make_order(codeStyle=style)
    identified = identify_code(order["codeValue"], rules).to_dict()
    assert identified["isSupported"] is True
    assert identified["postCodeMatchActionType"] == "DECODE"


def test_expiry_is_capped_at_ten_minutes(make_order):
    assert make_order(expirySeconds=3600)["paymentExpiryTime"] == "2025-01-01T12:10:00+08:00"
    assert make_order(expirySeconds=90)["paymentExpiryTime"] == "2025-01-01T12:01:30+08:00"


def test_cross_currency_uses_the_fx_table(make_order):
    order = make_order(amount={"currency": "JPY", "value": "12345"})
    value, info = expected_pay_to(12345, "JPY", "KRW")
    assert order["payToAmount"] == {"currency": "KRW", "value": str(value)}
    quote = order["paymentQuote"]
    assert quote["quoteCurrencyPair"] == info["pair"]
    assert Decimal(quote["quotePrice"]) == pricing.fx_rates()[info["pair"]]
    assert quote["quoteId"].startswith("20250101C")


def test_same_currency_has_no_quote(make_order):
    order = make_order(amount={"currency": "KRW", "value": "5000"})
    assert order["payToAmount"] == {"currency": "KRW", "value": "5000"}
    assert order["paymentQuote"] is None


def test_rounding_to_the_wallet_minor_unit(make_order):
    """USD (2 decimals) into a KRW wallet (0 decimals): half-up to whole won."""
    order = make_order(amount={"currency": "USD", "value": "1999"})
    value, _ = expected_pay_to(1999, "USD", "KRW")
    exact = Decimal("19.99") * pricing.fx_rates()["USD/KRW"]
    assert value == int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert order["payToAmount"] == {"currency": "KRW", "value": str(value)}


def test_promotion_savings_are_in_the_wallet_currency(make_order, wallet):
    order = make_order(
        amount={"currency": "JPY", "value": "1100"},
        promotion={"promoId": "TEN_PERCENT", "promoName": "10% off", "percent": "10"},
    )
    # Alipay+'s "Understand different amounts": paymentAmount excludes the promotion,
    # payToAmount = paymentAmount x quotePrice, savings in the payToAmount currency.
    gross, _ = expected_pay_to(1100, "JPY", "KRW")
    pay_to, _ = expected_pay_to(990, "JPY", "KRW")
    detail = order["paymentPromoInfo"]["paymentPromoDetails"][0]
    assert order["order"]["orderAmount"] == {"currency": "JPY", "value": "1100"}
    assert order["paymentAmount"] == {"currency": "JPY", "value": "990"}
    assert order["payToAmount"] == {"currency": "KRW", "value": str(pay_to)}
    assert detail["savingsAmount"] == {"currency": "KRW", "value": str(gross - pay_to)}
    decoded = wallet.decode(order["codeValue"]).body
    assert decoded["paymentPromoInfo"] == order["paymentPromoInfo"]
    assert validate("userInitiatedPay", "response", decoded) == []


def test_a_demo_promotion_by_id(make_order):
    promos = pricing.promotions()
    assert promos, "fixtures/demo/promotions.json has promotions"
    promo_id = next(iter(promos))
    order = make_order(amount={"currency": "JPY", "value": "500000"}, promoId=promo_id)
    assert order["paymentPromoInfo"]["paymentPromoDetails"][0]["promoId"] == promo_id


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"amount": {"currency": "JPY", "value": "10.5"}}, "PARAM_ILLEGAL", "minor"),
        ({"amount": {"currency": "USD", "value": "-5"}}, "PARAM_ILLEGAL", "minor"),
        ({"amount": {"currency": "XYZ", "value": "100"}}, "PARAM_ILLEGAL", "ISO 4217"),
        ({}, "PARAM_ILLEGAL", "amount is required"),
        ({"amount": {"currency": "JPY", "value": "1"}, "clientId": "NOBODY"}, "INVALID_CLIENT", ""),
        ({"amount": {"currency": "JPY", "value": "1"}, "expirySeconds": 0}, "PARAM_ILLEGAL", ""),
        ({"amount": {"currency": "JPY", "value": "1"}, "merchantId": "nope"}, "PARAM_ILLEGAL", ""),
        ({"amount": {"currency": "JPY", "value": "1"}, "promoId": "nope"}, "PARAM_ILLEGAL", ""),
        ({"amount": {"currency": "JPY", "value": "1"}, "redirectUrl": ""}, "PARAM_ILLEGAL", ""),
    ],
)
def test_bad_orders_are_refused_clearly(client, params, code, words):
    response = client.post("/_sim/orders", json=params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == code and words in body["error"]


def test_currency_without_rate_is_currency_not_support(client, sim):
    client.put(f"/_sim/participants/{sim.config.default_client_id}", json={"walletCurrency": "ISK"})
    response = client.post("/_sim/orders", json={"amount": {"currency": "JPY", "value": "100"}})
    assert response.status_code == 400
    assert response.get_json()["code"] == "CURRENCY_NOT_SUPPORT"


def test_qr_svg(make_order, client):
    order = make_order()
    response = client.get(f"/_sim/orders/{order['paymentRequestId']}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    assert client.get("/_sim/orders/nope/qr.svg").status_code == 404


def test_payment_view_and_list(make_order, client, wallet):
    first = make_order(description="first")
    second = make_order(description="second")
    wallet.decode(second["codeValue"])
    view = client.get(f"/_sim/payments/{second['paymentRequestId']}").get_json()
    assert view["status"] == "DECODED" and view["customerId"] == "u_10001"
    assert view["codeValue"] == second["codeValue"]
    assert [e["api"] for e in view["exchanges"]] == ["userInitiatedPay"]
    assert view["reversal"] == {"required": False, "reason": None, "status": None}
    listed = client.get("/_sim/payments").get_json()["payments"]
    assert {p["paymentRequestId"] for p in listed} == {
        first["paymentRequestId"],
        second["paymentRequestId"],
    }
    assert client.get("/_sim/payments/unknown").status_code == 404
    assert client.get("/_sim/payments?limit=0").status_code == 400


def test_reset_keeps_keys_and_participants(make_order, client, sim):
    order = make_order()
    client.put("/_sim/participants/EXTRA", json={"walletCurrency": "JPY"})
    key_before = sim.keys.public_key_base64
    assert client.post("/_sim/reset").status_code == 200
    assert client.get(f"/_sim/payments/{order['paymentRequestId']}").status_code == 404
    assert sim.journal.query() == []
    assert client.get("/_sim/participants/EXTRA").status_code == 200
    assert client.get("/_sim/keys").get_json()["publicKey"] == key_before
    client.post("/_sim/reset", json={"participants": True})
    assert client.get("/_sim/participants/EXTRA").status_code == 404
    assert client.get(f"/_sim/participants/{sim.config.default_client_id}").status_code == 200
