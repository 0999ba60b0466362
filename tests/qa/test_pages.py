"""The dashboard's Faults page (add and remove rules from a form) and Report page."""

from __future__ import annotations

import re


def test_add_a_rule_from_the_form_and_remove_it(client, wallet, make_order):
    page = client.post(
        "/_sim/ui/faults",
        data={
            "action": "add",
            "api": "userInitiatedPay",
            "kind": "result",
            "result": "U/UNKNOWN_EXCEPTION",
            "times": "1",
            "match": "currency=JPY",
        },
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "rule 1 added: result U/UNKNOWN_EXCEPTION" in html
    assert 'data-rule="1"' in html
    assert wallet.decode(make_order()["codeValue"]).code == "UNKNOWN_EXCEPTION"
    html = client.get("/_sim/ui/faults").get_data(as_text=True)
    fired = re.search(r'data-rule="1".*?class="fired">(\d+) / (\d+)<', html, re.S)
    assert fired and fired.groups() == ("1", "1")
    removed = client.post("/_sim/ui/faults", data={"action": "delete", "id": "1"})
    assert "rule 1 removed" in removed.get_data(as_text=True)
    assert client.get("/_sim/faults").get_json()["rules"] == []


def test_a_bad_form_says_why(client):
    page = client.post(
        "/_sim/ui/faults",
        data={"action": "add", "api": "notifyPayment", "kind": "result", "result": "F/NOPE"},
    )
    assert page.status_code == 400
    assert "NOPE" in page.get_data(as_text=True)
    assert client.get("/_sim/faults").get_json()["rules"] == []


def test_outbound_rule_and_parameters_from_the_form(client):
    page = client.post(
        "/_sim/ui/faults",
        data={"action": "add", "api": "refund", "kind": "delay", "params": '{"seconds": 9}'},
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    (rule,) = client.get("/_sim/faults").get_json()["rules"]
    assert (rule["direction"], rule["effect"]) == ("outbound", {"kind": "delay", "seconds": 9.0})


def test_the_page_lists_effects_and_magic_values(client):
    html = client.get("/_sim/ui/faults").get_data(as_text=True)
    assert "commit_then_drop" in html and "early_cancel" in html
    assert "sim-result:U:UNKNOWN_EXCEPTION" in html and "4040201" in html
    assert "X-Aplus-Sim-Result" in html


def test_report_page(client, wallet, make_order, add_rule):
    add_rule(api="userInitiatedPay", effect={"kind": "result", "resultCode": "PROCESS_FAIL"})
    order = make_order()
    wallet.decode(order["codeValue"])
    wallet.decode(order["codeValue"])
    html = client.get(f"/_sim/ui/report?clientId={wallet.client_id}").get_data(as_text=True)
    assert "F PROCESS_FAIL" in html and "kept retrying an F" in html
    assert 'id="bad"' in html
    empty = client.get("/_sim/ui/report?clientId=NOBODY").get_data(as_text=True)
    assert 'id="empty"' in empty
