"""Every (API, code) of the catalogue is reachable through rules, magic values and the header."""

from __future__ import annotations

import pytest

from contracts import catalogue, magic
from tests.simulator.conftest import notify_body

INBOUND = ("inquiryCodeRules", "userInitiatedPay", "notifyPayment")
PAIRS = [(api, entry.code, entry.status) for api in INBOUND for entry in catalogue.codes(api)]


def _call(
    api, wallet, make_order, *, amount="1000", customer_id="u_10001", headers=None, jar_version=None
):
    """Make the call of `api` a wallet would make (decoding first for notifyPayment)."""
    if api == "inquiryCodeRules":
        body = {"jarVersion": jar_version} if jar_version else {}
        return _send(wallet, api, body, headers)
    order = make_order(amount={"currency": "JPY", "value": amount})
    if api == "userInitiatedPay":
        body = {"codeValue": order["codeValue"], "customerId": customer_id}
        return _send(wallet, api, body, headers)
    decoded = wallet.decode(order["codeValue"])
    assert decoded.code == "SUCCESS", decoded.body
    return _send(wallet, api, notify_body(decoded.body), headers)


def _send(wallet, api, body, headers):
    import json

    from tests.simulator.conftest import PATHS

    path = PATHS[api]
    raw = json.dumps(body).encode()
    return wallet.send(path, raw, {**wallet.headers(path, raw), **(headers or {})})


def _expect(answer, api, code, status):
    assert answer.result["resultCode"] == code, answer.body
    assert answer.result["resultStatus"] == status


@pytest.mark.parametrize(("api", "code", "status"), PAIRS)
def test_rule_channel(api, code, status, wallet, make_order, add_rule, sim):
    rule = add_rule(api=api, effect={"kind": "result", "resultStatus": status, "resultCode": code})
    answer = _call(api, wallet, make_order)
    _expect(answer, api, code, status)
    entry = sim.journal.latest("inbound")
    assert entry["result_code"] == code
    if status != "S":
        assert entry["note"].startswith(f"injected: rule {rule} result {status}/{code}")


@pytest.mark.parametrize(("api", "code", "status"), PAIRS)
def test_header_channel(api, code, status, wallet, make_order, sim):
    answer = _call(api, wallet, make_order, headers={"X-Aplus-Sim-Result": f"{status}/{code}"})
    _expect(answer, api, code, status)
    assert "header X-Aplus-Sim-Result" in sim.journal.latest("inbound")["note"]


@pytest.mark.parametrize(("api", "code", "status"), PAIRS)
def test_magic_channel(api, code, status, wallet, make_order, sim):
    if api == "inquiryCodeRules":
        answer = _call(api, wallet, make_order, jar_version=magic.jar_version(code))
    elif api == "userInitiatedPay" and status != "S":
        # both ways: the customerId, and the order amount
        answer = _call(api, wallet, make_order, customer_id=magic.customer_id(status, code))
        _expect(answer, api, code, status)
        answer = _call(api, wallet, make_order, amount=magic.amount(api, code))
    else:
        answer = _call(api, wallet, make_order, amount=magic.amount(api, code))
    _expect(answer, api, code, status)
    if status != "S":
        assert "injected: magic" in sim.journal.latest("inbound")["note"]


def test_every_pair_has_a_magic_value():
    for api, code, _status in PAIRS:
        if api == "inquiryCodeRules":
            assert magic.jar_version(code)
        else:
            assert magic.is_reserved_amount(magic.amount(api, code))


def test_result_injection_does_not_touch_state(wallet, make_order, add_rule, client):
    order = make_order()
    add_rule(
        api="userInitiatedPay",
        effect={"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"},
        times=1,
    )
    first = wallet.decode(order["codeValue"])
    _expect(first, "userInitiatedPay", "UNKNOWN_EXCEPTION", "U")
    assert client.get(f"/_sim/payments/{order['paymentRequestId']}").get_json()["status"] == (
        "CREATED"
    )
    second = wallet.decode(order["codeValue"])  # times=1: the retry goes through
    assert second.code == "SUCCESS"
    assert second.body["paymentRequestId"] == order["paymentRequestId"]
