"""userInitiatedPay: every outcome through the Flask test client."""

from __future__ import annotations

from contracts import signing, validate
from tests.simulator.conftest import Wallet


def test_decode_answers_every_field_the_spec_lists(wallet, make_order, sim):
    order = make_order(
        amount={"currency": "JPY", "value": "1000"}, redirectUrl="https://m.example/r"
    )
    answer = wallet.decode(order["codeValue"])
    body = answer.body
    assert answer.result["resultStatus"] == "S" and answer.code == "SUCCESS"
    participant = sim.keys.participant(sim.config.default_client_id)
    assert body["pspId"] == participant["pspId"]
    assert body["acquirerId"] == participant["acquirerId"]
    assert body["codeType"] == "ORDER_CODE"
    assert body["paymentRequestId"] == order["paymentRequestId"]
    assert body["order"]["orderAmount"] == {"currency": "JPY", "value": "1000"}
    assert body["order"]["merchant"]["merchantName"]
    assert body["paymentAmount"] == {"currency": "JPY", "value": "1000"}
    assert body["payToAmount"]["currency"] == participant["walletCurrency"]
    assert body["paymentQuote"]["quoteCurrencyPair"] in ("JPY/KRW", "KRW/JPY")
    assert body["paymentFactor"] == {"isCashierPayment": "true"}
    assert body["paymentExpiryTime"] == order["paymentExpiryTime"] == "2025-01-01T12:10:00+08:00"
    assert body["paymentNotifyUrl"] == "http://sim.test/aps/api/v1/payments/notifyPayment"
    assert body["paymentRedirectUrl"] == "https://m.example/r"
    assert validate("userInitiatedPay", "response", body) == []
    assert sim.payments.get_record(order["paymentRequestId"])["status"] == "DECODED"


def test_same_customer_replay_gets_the_same_body(wallet, make_order, sim):
    order = make_order()
    first = wallet.decode(order["codeValue"], "u_1")
    sim.clock.advance(30)
    again = wallet.decode(order["codeValue"], "u_1")
    assert again.text == first.text
    assert again.headers["response-time"] != first.headers["response-time"]  # fresh signature


def test_another_customer_gets_repeat_req_inconsistent(wallet, make_order, sim):
    order = make_order()
    wallet.decode(order["codeValue"], "u_1")
    other = wallet.decode(order["codeValue"], "u_2")
    assert other.code == "REPEAT_REQ_INCONSISTENT" and other.result["resultStatus"] == "F"
    assert sim.payments.get_record(order["paymentRequestId"])["customer_id"] == "u_1"


def test_unknown_code_is_invalid_code(wallet):
    answer = wallet.decode("https://qr.alipayplus.com/28166613NotIssuedByUs")
    assert answer.code == "INVALID_CODE"
    assert "NotIssuedByUs" in answer.result["resultMessage"]


def test_expired_code(wallet, make_order, sim):
    order = make_order(expirySeconds=60)
    sim.clock.advance(60)
    answer = wallet.decode(order["codeValue"])
    assert answer.code == "EXPIRED_CODE"
    assert sim.payments.get_record(order["paymentRequestId"])["customer_id"] is None


def test_replay_after_expiry_is_expired_code(wallet, make_order, sim):
    order = make_order(expirySeconds=60)
    wallet.decode(order["codeValue"])
    sim.clock.advance(61)
    assert wallet.decode(order["codeValue"]).code == "EXPIRED_CODE"


def test_closed_order(wallet, make_order, sim):
    order = make_order()
    assert sim.payments.close(order["paymentRequestId"], "merchant closed the order")
    answer = wallet.decode(order["codeValue"])
    assert answer.code == "ORDER_IS_CLOSED"
    assert "merchant closed" in answer.result["resultMessage"]


def test_closed_by_expiry_reads_expired(wallet, make_order, sim):
    order = make_order(expirySeconds=30)
    sim.clock.advance(30)
    sim.payments.close(order["paymentRequestId"], "expired")
    assert wallet.decode(order["codeValue"]).code == "EXPIRED_CODE"


def test_already_paid_order(wallet, make_order):
    order = make_order()
    decoded = wallet.decode(order["codeValue"]).body
    assert wallet.notify(decoded).code == "SUCCESS"
    answer = wallet.decode(order["codeValue"])
    assert answer.code == "ORDER_IS_CLOSED"
    assert "already been paid" in answer.result["resultMessage"]


def test_code_of_another_wallet_is_access_denied(app, wallet, make_order, sim, client):
    key = signing.generate_private_key()
    response = client.put(
        "/_sim/participants/OTHER_MPP", json={"publicKey": signing.public_key_base64(key)}
    )
    assert response.status_code == 200
    order = make_order(clientId="OTHER_MPP")
    answer = wallet.decode(order["codeValue"])
    assert answer.code == "ACCESS_DENIED"
    assert Wallet(app, "OTHER_MPP", key).decode(order["codeValue"]).code == "SUCCESS"


def test_missing_customer_id_is_param_illegal_naming_it(wallet, make_order):
    order = make_order()
    answer = wallet.call("userInitiatedPay", {"codeValue": order["codeValue"]})
    assert answer.code == "PARAM_ILLEGAL"
    assert "customerId" in answer.result["resultMessage"]


def test_empty_string_is_param_illegal(wallet, make_order):
    order = make_order()
    answer = wallet.call(
        "userInitiatedPay",
        {"codeValue": order["codeValue"], "customerId": "u1", "passThroughInfo": ""},
    )
    assert answer.code == "PARAM_ILLEGAL"
    assert "passThroughInfo" in answer.result["resultMessage"]


def test_sandbox_style_code_decodes(wallet, make_order):
    order = make_order(codeStyle="sandbox")
    assert order["codeValue"].startswith("28166604")
    assert wallet.decode(order["codeValue"]).code == "SUCCESS"


def test_the_journal_records_the_decode_with_verdicts(wallet, make_order, sim):
    order = make_order()
    wallet.decode(order["codeValue"])
    entries = sim.journal.query(payment_request_id=order["paymentRequestId"])
    assert len(entries) == 1
    entry = entries[0]
    assert entry["api"] == "userInitiatedPay" and entry["direction"] == "inbound"
    assert entry["signature"] == "valid"
    assert entry["request_violations"] == [] and entry["response_violations"] == []
    assert entry["result_code"] == "SUCCESS"
