"""POST /_sim/seed: the same seed and scenario give byte-identical journal bodies, ids included."""

from __future__ import annotations

import shutil

import pytest

from tests.simulator.conftest import Wallet, make_app, notify_body


def _scenario(app) -> list[tuple[str, str | None]]:
    client = app.test_client()
    assert client.post("/_sim/seed", json={"seed": 42}).status_code == 200
    wallet = Wallet(app)
    for value in ("1000", "2500"):
        order = client.post("/_sim/orders", json={"amount": {"currency": "JPY", "value": value}})
        decoded = wallet.decode(order.get_json()["codeValue"])
        wallet.call("notifyPayment", notify_body(decoded.body))
    sim = app.extensions["aplus_sim"]
    entries = sorted(sim.journal.query(limit=1000), key=lambda e: e["id"])
    return [(e["request_body"], e["response_body"]) for e in entries]


@pytest.fixture
def fresh_app(tmp_path, key_files):
    apps = []

    def make(name: str):
        shutil.copytree(key_files, tmp_path / name / "keys")
        application = make_app(tmp_path / name)
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions["aplus_sim"].engine.dispose()


def test_same_seed_same_bodies(fresh_app):
    first, second = _scenario(fresh_app("a")), _scenario(fresh_app("b"))
    assert len(first) == 4
    assert first == second


def test_reset_replays_the_sequence(fresh_app):
    app = fresh_app("a")
    first = _scenario(app)
    assert app.test_client().post("/_sim/reset").status_code == 200
    assert _scenario(app) == first


def test_another_seed_other_ids(app, client, make_order):
    client.post("/_sim/seed", json={"seed": 1})
    one = make_order()["paymentRequestId"]
    client.post("/_sim/reset")  # the same id again would collide with the first order
    client.post("/_sim/seed", json={"seed": 2})
    two = make_order()["paymentRequestId"]
    client.post("/_sim/reset")
    client.post("/_sim/seed", json={"seed": 1})
    assert make_order()["paymentRequestId"] == one != two


def test_unseeded_ids_differ(client, make_order):
    assert client.get("/_sim/seed").get_json() == {"seed": None, "draws": 0}
    assert make_order()["codeValue"] != make_order()["codeValue"]


@pytest.mark.parametrize("body", [{}, {"seed": "42"}, {"seed": True}, [42]])
def test_bad_seed_is_400(client, body):
    response = client.post("/_sim/seed", json=body)
    assert response.status_code == 400
    assert "seed" in response.get_json()["error"]


def test_probability_is_repeatable(client, wallet, make_order, add_rule):
    def run() -> list[str]:
        client.delete("/_sim/faults")
        add_rule(
            api="userInitiatedPay",
            effect={"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"},
            probability=0.5,
            seed=7,
        )
        return [wallet.decode(make_order()["codeValue"]).code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {"SUCCESS", "UNKNOWN_EXCEPTION"}


def _story_with_callbacks(tmp_path, key_files, name):
    from tests.simulator.part2.helpers import environment

    (tmp_path / name).mkdir()
    with environment(tmp_path / name, key_files=key_files) as env:
        assert env.client.post("/_sim/seed", json={"seed": 42}).status_code == 200
        order, _ = env.pay()
        assert env.refund(order["paymentRequestId"], "400").status_code == 202
        env.stub.set_default("inquiryPayment", env.stub.in_process())
        env.decode(env.create_order())  # polled, then expires: inquiries and a cancel
        env.advance(3600)
        entries = sorted(env.sim.journal.query(limit=1000), key=lambda e: e["id"])
        return [
            (e["direction"], e["api"], e["request_body"], e["response_body"])
            if e["direction"] == "inbound"
            else (e["direction"], e["api"], e["request_body"])  # the stub's answers are its own
            for e in entries
        ]


def test_same_seed_same_outbound_bodies(tmp_path, key_files):
    first = _story_with_callbacks(tmp_path, key_files, "a")
    second = _story_with_callbacks(tmp_path, key_files, "b")
    apis = {entry[1] for entry in first}
    assert {"refund", "inquiryPayment", "cancelPayment", "notifyPayment"} <= apis
    assert first == second
