"""/_sim/faults: strict validation, times, probability, expiry, fire counts, get/delete/clear."""

from __future__ import annotations

import pytest

U = {"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"}


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"api": "payAnything", "effect": U}, "payAnything"),
        ({"api": "refund", "effect": U}, "not an inbound API"),
        ({"api": "userInitiatedPay", "effect": {"kind": "explode"}}, "explode"),
        (
            {"api": "userInitiatedPay", "effect": {"kind": "result", "resultCode": "NOPE"}},
            "NOPE",
        ),
        (
            {"api": "notifyPayment", "effect": {"kind": "result", "resultCode": "EXPIRED_CODE"}},
            "EXPIRED_CODE",
        ),
        (
            {
                "api": "userInitiatedPay",
                "effect": {
                    "kind": "result",
                    "resultStatus": "F",
                    "resultCode": "UNKNOWN_EXCEPTION",
                },
            },
            "contradicts the catalogue",
        ),
        ({"api": "userInitiatedPay", "effect": U, "times": 0}, "times"),
        ({"api": "userInitiatedPay", "effect": U, "probability": 1.5}, "probability"),
        ({"api": "userInitiatedPay", "effect": U, "expiresAt": "soon"}, "expiresAt"),
        ({"api": "userInitiatedPay", "effect": U, "match": {"color": "red"}}, "color"),
        ({"api": "userInitiatedPay", "effect": U, "bogus": 1}, "bogus"),
        ({"api": "userInitiatedPay"}, "effect is required"),
        ({"api": "userInitiatedPay", "effect": {"kind": "delay"}}, "seconds"),
        ({"api": "userInitiatedPay", "effect": {"kind": "delay", "seconds": [3, 1]}}, "min"),
        ({"api": "userInitiatedPay", "effect": {"kind": "http_error", "status": 404}}, "500"),
        ({"api": "userInitiatedPay", "effect": {"kind": "duplicate"}}, "outbound"),
        (
            {"api": "refund", "direction": "outbound", "effect": {"kind": "skip_polling"}},
            "inquiryPayment",
        ),
        ({"api": "userInitiatedPay", "effect": {"kind": "reset", "extra": 1}}, "extra"),
    ],
)
def test_bad_rules_are_400_naming_the_problem(client, rule, named):
    response = client.post("/_sim/faults", json=rule)
    assert response.status_code == 400
    assert named in response.get_json()["error"]


def test_not_json_is_400(client):
    response = client.post("/_sim/faults", data="{", content_type="application/json")
    assert response.status_code == 400


def test_times_and_fire_counts(client, wallet, make_order, add_rule):
    rule = add_rule(api="userInitiatedPay", effect=U, times=2)
    codes = [wallet.decode(make_order()["codeValue"]).code for _ in range(3)]
    assert codes == ["UNKNOWN_EXCEPTION", "UNKNOWN_EXCEPTION", "SUCCESS"]
    view = client.get(f"/_sim/faults/{rule}").get_json()
    assert (view["fired"], view["matched"], view["active"]) == (2, 2, False)
    listed = client.get("/_sim/faults").get_json()["rules"]
    assert [r["fired"] for r in listed] == [2]


def test_match_on_message_fields(wallet, make_order, add_rule):
    target = make_order(amount={"currency": "JPY", "value": "1234"})
    add_rule(api="userInitiatedPay", match={"amount": "1234", "currency": "JPY"}, effect=U)
    assert wallet.decode(make_order()["codeValue"]).code == "SUCCESS"
    assert wallet.decode(target["codeValue"]).code == "UNKNOWN_EXCEPTION"


def test_match_on_customer_and_payment_request_id(wallet, make_order, add_rule):
    order = make_order()
    add_rule(api="userInitiatedPay", match={"customerId": ["u_10002", "u_10003"]}, effect=U)
    assert wallet.decode(order["codeValue"], "u_10002").code == "UNKNOWN_EXCEPTION"
    decoded = wallet.decode(order["codeValue"], "u_10001")
    assert decoded.code == "SUCCESS"
    add_rule(api="notifyPayment", match={"paymentRequestId": order["paymentRequestId"]}, effect=U)

    assert wallet.notify(decoded.body).code == "UNKNOWN_EXCEPTION"


def test_expired_rules_do_not_fire(client, wallet, make_order, add_rule, sim):
    add_rule(api="userInitiatedPay", effect=U, expiresAt="2025-01-01T12:00:30+08:00")
    assert wallet.decode(make_order()["codeValue"]).code == "UNKNOWN_EXCEPTION"
    client.post("/_sim/clock/advance", json={"seconds": 60})
    assert wallet.decode(make_order()["codeValue"]).code == "SUCCESS"


def test_get_delete_clear(client, add_rule):
    first = add_rule(api="userInitiatedPay", effect=U)
    add_rule(api="notifyPayment", effect=U, clientId="A")
    add_rule(api="notifyPayment", effect=U, clientId="B")
    assert client.get(f"/_sim/faults/{first}").get_json()["api"] == "userInitiatedPay"
    assert client.delete(f"/_sim/faults/{first}").status_code == 200
    assert client.get(f"/_sim/faults/{first}").status_code == 404
    assert client.delete(f"/_sim/faults/{first}").status_code == 404
    assert client.delete("/_sim/faults?clientId=A").get_json() == {"deleted": 1}
    assert [r["clientId"] for r in client.get("/_sim/faults").get_json()["rules"]] == ["B"]
    assert client.delete("/_sim/faults").get_json() == {"deleted": 1}


def test_a_plain_reset_clears_rules(client, add_rule):
    add_rule(api="userInitiatedPay", effect=U)
    client.post("/_sim/reset")
    assert client.get("/_sim/faults").get_json()["rules"] == []


def test_a_bad_header_is_param_illegal(wallet, make_order):
    import json

    from tests.simulator.conftest import PATHS

    order = make_order()
    raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u_10001"}).encode()
    path = PATHS["userInitiatedPay"]
    answer = wallet.send(path, raw, {**wallet.headers(path, raw), "X-Aplus-Sim-Result": "F/NOPE"})
    assert answer.code == "PARAM_ILLEGAL"
    assert "NOPE" in answer.result["resultMessage"]


def test_effects_and_magic_are_listed(client):
    kinds = {e["kind"] for e in client.get("/_sim/faults/effects").get_json()["effects"]}
    assert {"result", "commit_then_result", "drop", "duplicate", "early_cancel"} <= kinds
    assert client.get("/_sim/faults/magic").get_json()["reservedAmounts"]["from"] == "4040000"


def test_rule_validation_follows_the_catalogue():
    """Any catalogued (API, code) is accepted with its own status and refused with another."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from contracts import catalogue
    from simulator import faults

    pairs = [(api, entry) for api in faults.INBOUND_APIS for entry in catalogue.codes(api)]

    @settings(max_examples=100, deadline=None)
    @given(
        st.sampled_from(pairs),
        st.sampled_from(["S", "F", "U"]),
        st.sampled_from(["result", "commit_then_result"]),
    )
    def check(pair, status, kind):
        api, entry = pair
        rule = {
            "api": api,
            "effect": {"kind": kind, "resultStatus": status, "resultCode": entry.code},
        }
        if status == entry.status:
            assert faults.check_rule(rule)["effect"]["resultCode"] == entry.code
        else:
            with pytest.raises(faults.RuleError, match="contradicts the catalogue"):
                faults.check_rule(rule)

    check()
