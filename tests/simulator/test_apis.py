"""The API modules (simulator/apis/) and the pipeline step that injects faults."""

from __future__ import annotations

import json

import pytest
import requests

from contracts import apis, catalogue
from simulator.apis import INBOUND
from tests.simulator.conftest import PATHS

FAULT_HEADER = "X-Aplus-Sim-Fault"


def _unsigned_decode(server, sim, code_value: str, fault: dict) -> requests.Response:
    raw = json.dumps({"codeValue": code_value, "customerId": "u_10001"}).encode()
    headers = {
        "Content-Type": "application/json",
        "Client-Id": sim.config.default_client_id,
        "Request-Time": "2025-01-01T12:00:00+08:00",
        FAULT_HEADER: json.dumps(fault),
    }
    # Were the fault applied, the connection would be held for 15 s (or 600 s): a timeout.
    return requests.post(
        server.url + PATHS["userInitiatedPay"], data=raw, headers=headers, timeout=5
    )


@pytest.mark.parametrize(
    "fault", [{"kind": "drop", "seconds": 15}, {"kind": "delay", "seconds": 600}]
)
def test_an_unsigned_request_gets_invalid_signature_at_once_whatever_it_asks_for(
    server, sim, make_order, fault
):
    response = _unsigned_decode(server, sim, make_order()["codeValue"], fault)
    assert response.status_code == 200
    assert response.json()["result"]["resultCode"] == "INVALID_SIGNATURE"
    entry = sim.journal.query(api="userInitiatedPay", limit=1)[0]
    assert entry["signature"] == "missing"
    assert "injected" not in (entry["note"] or "")


def test_a_rule_does_not_fire_for_a_request_the_contract_refuses(wallet, sim, client, make_order):
    rule = client.post(
        "/_sim/faults",
        json={
            "api": "userInitiatedPay",
            "effect": {"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"},
        },
    ).get_json()
    refused = wallet.call("userInitiatedPay", {"codeValue": make_order()["codeValue"]})
    assert refused.code == "PARAM_ILLEGAL"  # customerId is missing
    assert client.get(f"/_sim/faults/{rule['id']}").get_json()["matched"] == 0
    injected = wallet.decode(make_order()["codeValue"])
    assert injected.code == "UNKNOWN_EXCEPTION"
    assert client.get(f"/_sim/faults/{rule['id']}").get_json()["fired"] == 1


def test_a_bad_injection_header_is_param_illegal_only_once_authenticated(wallet, make_order):
    order = make_order()
    raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u_10001"}).encode()
    path = PATHS["userInitiatedPay"]
    signed = wallet.headers(path, raw)
    answer = wallet.send(path, raw, {**signed, FAULT_HEADER: "{not json"})
    assert (
        answer.code == "PARAM_ILLEGAL" and "bad injection request" in answer.result["resultMessage"]
    )
    unsigned = {k: v for k, v in signed.items() if k != "Signature"}
    answer = wallet.send(path, raw, {**unsigned, FAULT_HEADER: "{not json"})
    assert answer.code == "INVALID_SIGNATURE"


@pytest.mark.parametrize("name", sorted(INBOUND))
def test_each_inbound_module_answers_only_codes_of_its_api(name):
    module = INBOUND[name]
    assert module.API is apis.get(name)
    documented = {code.code for code in catalogue.codes(module.API.catalogue_key)}
    assert set(module.CODES) <= documented
    assert "SUCCESS" in module.CODES


def test_every_inbound_api_of_the_table_is_served(client):
    for api in apis.APIS.values():
        response = client.post(api.path, data=b"{}", headers={"Content-Type": "application/json"})
        code = response.get_json()["result"]["resultCode"]
        if api.direction == apis.INBOUND:
            assert code == "PARAM_ILLEGAL", api.name  # served: no Client-Id
        else:
            assert code == "INVALID_API", api.name  # the wallet serves these, not Alipay+
