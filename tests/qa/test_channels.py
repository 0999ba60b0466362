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


def _reach(api, code, status, channel, wallet, make_order, client):
    """Force (api, code) through one channel; the answer."""
    if channel == "rule":
        client.delete("/_sim/faults")
        effect = {"kind": "result", "resultStatus": status, "resultCode": code}
        assert client.post("/_sim/faults", json={"api": api, "effect": effect}).status_code == 201
        return _call(api, wallet, make_order)
    if channel == "header":
        return _call(api, wallet, make_order, headers={"X-Aplus-Sim-Result": f"{status}/{code}"})
    if api == "inquiryCodeRules":
        return _call(api, wallet, make_order, jar_version=magic.jar_version(code))
    if api == "userInitiatedPay" and status != "S":
        # both magic fields: the customerId, and (below) the order amount
        answer = _call(api, wallet, make_order, customer_id=magic.customer_id(status, code))
        assert answer.result["resultCode"] == code, answer.body
    return _call(api, wallet, make_order, amount=magic.amount(api, code))


@pytest.mark.parametrize("channel", ["rule", "magic", "header"])
@pytest.mark.parametrize("api", INBOUND)
def test_every_code_is_reachable(api, channel, wallet, make_order, client, sim):
    """Every catalogued code of `api`, forced through `channel`, is what the wallet gets."""
    missed = []
    for entry in catalogue.codes(api):
        answer = _reach(api, entry.code, entry.status, channel, wallet, make_order, client)
        got = (answer.result["resultStatus"], answer.result["resultCode"])
        if got != (entry.status, entry.code):
            missed.append(f"{entry.code}: got {got}")
            continue
        note = sim.journal.latest("inbound")["note"] or ""
        if entry.status != "S" and not note.startswith("injected: "):
            missed.append(f"{entry.code}: journal note {note!r}")
    assert missed == []


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
