"""The merchant page draws its order references from the simulator's seeded generator."""

from __future__ import annotations

from tests.simulator.conftest import make_app


def _checkout_reference(client, sim) -> str:
    response = client.post(
        "/merchant/checkout", data={"amount": "1000", "currency": "JPY", "merchantId": ""}
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    (payment,) = sim.payments.list()
    view = sim.payments.get_view(payment["paymentRequestId"])
    return view["order"]["referenceOrderId"]


def test_a_seeded_run_repeats_the_merchant_reference(tmp_path):
    app = make_app(tmp_path)
    sim = app.extensions["aplus_sim"]
    client = app.test_client()
    assert client.post("/_sim/seed", json={"seed": 42}).status_code == 200
    first = _checkout_reference(client, sim)
    assert client.post("/_sim/reset", json={}).status_code == 200  # keeps the seed, replays
    assert _checkout_reference(client, sim) == first
    assert first.startswith("SHOP-") and len(first) == len("SHOP-") + 12
