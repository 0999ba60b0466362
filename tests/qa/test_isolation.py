"""Two wallets (clientIds) on one simulator: rules and reset in one do not affect the other."""

from __future__ import annotations

import pytest

from contracts import signing
from tests.simulator.conftest import Wallet

OTHER = "QA_OTHER_WALLET"


@pytest.fixture
def other(app, client) -> Wallet:
    key = signing.generate_private_key()
    put = client.put(
        f"/_sim/participants/{OTHER}", json={"publicKey": signing.public_key_base64(key)}
    )
    assert put.status_code == 200, put.get_json()
    return Wallet(app, client_id=OTHER, private_key=key)


def _order(client, client_id):
    response = client.post(
        "/_sim/orders", json={"clientId": client_id, "amount": {"currency": "JPY", "value": "1000"}}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_rule_for_one_client_leaves_the_other_alone(client, wallet, other, add_rule):
    add_rule(
        api="userInitiatedPay",
        clientId=OTHER,
        effect={"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"},
    )
    mine, theirs = _order(client, wallet.client_id), _order(client, OTHER)
    assert wallet.decode(mine["codeValue"]).code == "SUCCESS"
    assert other.decode(theirs["codeValue"]).code == "UNKNOWN_EXCEPTION"
    rules = client.get(f"/_sim/faults?clientId={OTHER}").get_json()["rules"]
    assert [r["fired"] for r in rules] == [1]
    assert client.get(f"/_sim/faults?clientId={wallet.client_id}").get_json()["rules"] == []


def test_reset_of_one_client_keeps_the_other(client, wallet, other, add_rule, sim):
    mine, theirs = _order(client, wallet.client_id), _order(client, OTHER)
    wallet.decode(mine["codeValue"])
    other.decode(theirs["codeValue"])
    add_rule(
        api="notifyPayment",
        clientId=wallet.client_id,
        effect={"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"},
    )
    add_rule(
        api="notifyPayment",
        clientId=OTHER,
        effect={"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"},
    )
    reset = client.post(f"/_sim/reset?clientId={OTHER}")
    assert reset.status_code == 200, reset.get_json()
    assert reset.get_json()["deleted"]["payments"] == 1
    assert client.get(f"/_sim/payments/{theirs['paymentRequestId']}").status_code == 404
    assert client.get(f"/_sim/payments/{mine['paymentRequestId']}").get_json()["status"] == (
        "DECODED"
    )
    assert sim.journal.query(client_id=OTHER) == []
    assert len(sim.journal.query(client_id=wallet.client_id)) == 1
    assert [r["clientId"] for r in client.get("/_sim/faults").get_json()["rules"]] == [
        wallet.client_id
    ]
    # the other wallet is still registered and starts afresh
    again = _order(client, OTHER)
    assert other.decode(again["codeValue"]).code == "SUCCESS"
    # its polling jobs went with its payment, the first wallet's stay
    pending = [job["payload"] for job in sim.scheduler.pending()]
    assert theirs["paymentRequestId"] not in str(pending)
    assert mine["paymentRequestId"] in str(pending)


def test_reset_of_an_unknown_client_is_404(client):
    assert client.post("/_sim/reset?clientId=NOBODY").status_code == 404
