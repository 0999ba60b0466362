"""GET /_sim/report: what the wallet did after each result or fault it was shown."""

from __future__ import annotations

import json

from contracts import magic
from tests.simulator.conftest import notify_body

U = {"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"}


def _report(client, client_id=None):
    url = "/_sim/report" + (f"?clientId={client_id}" if client_id else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.get_json()


def _outcomes(report, api, shown):
    return {o["then"]: o["count"] for o in report["apis"][api]["exposures"][shown]}


def test_u_then_identical_retry_is_good(client, wallet, make_order, add_rule):
    add_rule(api="userInitiatedPay", effect=U, times=1)
    order = make_order()
    wallet.decode(order["codeValue"])
    wallet.decode(order["codeValue"])
    report = _report(client, wallet.client_id)
    assert _outcomes(report, "userInitiatedPay", "U UNKNOWN_EXCEPTION") == {
        "retried identically": 1
    }
    assert report["summary"] == {"good": 1, "bad": 0, "warning": 0}
    (finding,) = report["findings"]
    assert finding["injected"] == "rule 1" and finding["key"] == order["codeValue"]


def test_u_then_changed_body_is_bad(client, wallet, make_order, add_rule):
    add_rule(api="userInitiatedPay", effect=U, times=1)
    order = make_order()
    wallet.decode(order["codeValue"], "u_10001")
    wallet.decode(order["codeValue"], "u_10002")
    report = _report(client)
    assert _outcomes(report, "userInitiatedPay", "U UNKNOWN_EXCEPTION") == {
        "retried with a changed body": 1
    }
    assert report["summary"]["bad"] == 1


def test_f_then_stop_is_good_and_f_then_retry_is_bad(client, wallet, make_order):
    stopped, kept = make_order(), make_order()
    wallet.decode(stopped["codeValue"], magic.customer_id("F", "USER_AMOUNT_EXCEED_LIMIT"))
    for _ in range(3):
        wallet.decode(kept["codeValue"], magic.customer_id("F", "INVALID_CONTRACT"))
    report = _report(client)
    exposures = report["apis"]["userInitiatedPay"]["exposures"]
    assert {o["then"] for o in exposures["F USER_AMOUNT_EXCEED_LIMIT"]} == {"stopped"}
    assert _outcomes(report, "userInitiatedPay", "F INVALID_CONTRACT") == {
        "kept retrying an F": 2,
        "stopped": 1,
    }
    assert report["summary"]["bad"] == 2


def test_notify_never_reported_is_bad(client, wallet, make_order, add_rule):
    add_rule(api="notifyPayment", effect={"kind": "http_error"})
    decoded = wallet.decode(make_order()["codeValue"])
    path = "/aps/api/v1/payments/notifyPayment"
    raw = json.dumps(notify_body(decoded.body)).encode()
    # one notification, answered with a 502 page, never sent again
    assert wallet.client.post(path, data=raw, headers=wallet.headers(path, raw)).status_code == 502
    report = _report(client)
    assert _outcomes(report, "notifyPayment", "fault http_error") == {
        "never reported a final result": 1
    }
    assert report["summary"]["bad"] == 1


def test_report_is_scoped_to_one_client(client, wallet, make_order, add_rule):
    add_rule(api="userInitiatedPay", effect=U, times=1)
    wallet.decode(make_order()["codeValue"])
    assert _report(client, "SOMEBODY_ELSE")["apis"] == {}
    assert _report(client, wallet.client_id)["entries"] == 1


def test_a_payment_closed_without_a_result_was_never_reported(client, wallet, make_order):
    silent, told = make_order(), make_order()
    wallet.decode(silent["codeValue"])
    wallet.notify(wallet.decode(told["codeValue"]).body)
    assert _report(client)["payments"] == {"reported by notifyPayment": 1, "still open": 1}
    client.post("/_sim/clock/advance", json={"seconds": 3600})  # expiry closes the silent one
    report = _report(client)
    assert report["payments"] == {
        "never reported (closed without a result)": 1,
        "reported by notifyPayment": 1,
    }
    (finding,) = [f for f in report["findings"] if f["verdict"] == "bad"]
    assert finding["key"] == silent["paymentRequestId"]


def test_a_decode_whose_answers_were_all_lost_is_not_blamed_on_the_wallet(
    client, wallet, make_order, add_rule
):
    add_rule(api="userInitiatedPay", effect={"kind": "commit_then_result"})
    order = make_order()
    wallet.decode(order["codeValue"])
    wallet.decode(order["codeValue"])
    client.post("/_sim/clock/advance", json={"seconds": 3600})
    report = _report(client)
    assert report["payments"] == {"closed, the wallet never got the decode answer": 1}
    assert _outcomes(report, "userInitiatedPay", "U UNKNOWN_EXCEPTION (committed)") == {
        "retried identically": 1,
        "gave up after an unknown outcome": 1,
    }
    assert report["summary"] == {"good": 1, "bad": 0, "warning": 1}
