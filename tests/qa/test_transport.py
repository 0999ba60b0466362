"""Each transport effect is seen by a real HTTP client (requests, loopback) as what it imitates."""

from __future__ import annotations

import json
import re

import pytest
import requests

from contracts import signing
from tests.simulator.conftest import PATHS

API = "userInitiatedPay"


@pytest.fixture
def post(server, wallet, make_order):
    """POST a signed decode of a fresh order over HTTP; returns (response, order)."""

    def send(timeout: float = 5.0, headers: dict | None = None):
        order = make_order()
        raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u_10001"}).encode()
        signed = wallet.headers(PATHS[API], raw)
        response = requests.post(
            server.url + PATHS[API],
            data=raw,
            headers={**signed, **(headers or {})},
            timeout=timeout,
        )
        return response, order

    return send


def _status(client, order):
    return client.get(f"/_sim/payments/{order['paymentRequestId']}").get_json()["status"]


def test_delay_beyond_the_client_timeout_is_a_timeout(post, add_rule, client):
    add_rule(api=API, effect={"kind": "delay", "seconds": 1.0})
    with pytest.raises(requests.exceptions.ReadTimeout):
        post(timeout=0.2)


def test_delay_within_the_timeout_answers_normally(post, add_rule):
    add_rule(api=API, effect={"kind": "delay", "seconds": 0.05})
    response, _ = post()
    assert response.json()["result"]["resultCode"] == "SUCCESS"


def test_drop_is_a_timeout_and_nothing_is_committed(post, add_rule, client, sim):
    add_rule(api=API, effect={"kind": "drop", "seconds": 5})
    with pytest.raises(requests.exceptions.ReadTimeout):
        _, _order = post(timeout=0.3)
    entry = sim.journal.latest("inbound")
    assert "drop" in entry["note"] and entry["response_status"] is None


def test_commit_then_drop_commits(post, add_rule, client, make_order, wallet, sim):
    add_rule(api=API, effect={"kind": "commit_then_drop", "seconds": 5}, times=1)
    order = make_order()
    raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u_10001"}).encode()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            sim.config.base_url + PATHS[API],
            data=raw,
            headers=wallet.headers(PATHS[API], raw),
            timeout=0.3,
        )
    assert _status(client, order) == "DECODED"


def test_drop_ends_when_the_hold_is_over(post, add_rule):
    add_rule(api=API, effect={"kind": "drop", "seconds": 0.1})
    with pytest.raises(requests.exceptions.ConnectionError):
        post(timeout=5)


def test_reset_is_a_broken_connection(post, add_rule, sim):
    add_rule(api=API, effect={"kind": "reset"})
    with pytest.raises(
        (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        post()
    assert "reset" in sim.journal.latest("inbound")["note"]


@pytest.mark.parametrize("style", ["truncated", "not_json"])
def test_malformed_is_bad_json(post, add_rule, style, sim):
    add_rule(api=API, effect={"kind": "malformed", "style": style})
    response, _ = post()
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    entry = sim.journal.latest("inbound")
    assert entry["response_body"] == response.text and entry["problem"]


@pytest.mark.parametrize("status", [500, 502])
def test_http_error_is_a_5xx_html_page(post, add_rule, status, sim):
    add_rule(api=API, effect={"kind": "http_error", "status": status})
    response, _ = post()
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text and "signature" not in response.headers
    assert sim.journal.latest("inbound")["response_status"] == status


def _verify(sim, response):
    signing.verify_headers(
        sim.keys.public_key,
        PATHS[API],
        dict(response.headers.items()),
        response.content,
        time_header="Response-Time",
    )


def test_bad_signature_does_not_verify(post, add_rule, sim):
    response, _ = post()
    _verify(sim, response)  # the normal answer verifies
    add_rule(api=API, effect={"kind": "bad_signature"})
    response, _ = post()
    assert response.json()["result"]["resultCode"] == "SUCCESS"
    with pytest.raises(signing.SignatureError):
        _verify(sim, response)


def test_no_signature(post, add_rule):
    add_rule(api=API, effect={"kind": "no_signature"})
    response, _ = post()
    assert "signature" not in response.headers
    assert response.json()["result"]["resultStatus"] == "S"


def test_stale_time_is_signed_but_old(post, add_rule, sim):
    add_rule(api=API, effect={"kind": "stale_time", "seconds": 7200})
    response, _ = post()
    _verify(sim, response)
    sent = signing.parse_time(response.headers["response-time"])
    assert (sim.clock.now() - sent).total_seconds() == pytest.approx(7200, abs=2)


def test_fault_header_for_one_call(post):
    response, _ = post(headers={"X-Aplus-Sim-Fault": '{"kind": "http_error", "status": 500}'})
    assert response.status_code == 500
    response, _ = post()
    assert response.status_code == 200


def test_times_holds_under_concurrent_calls(server, wallet, make_order, add_rule, client):
    """20 decodes at once over HTTP (threaded server): a rule with times=5 fires exactly 5."""
    from concurrent.futures import ThreadPoolExecutor

    rule = add_rule(api=API, effect={"kind": "result", "resultCode": "UNKNOWN_EXCEPTION"}, times=5)
    bodies = []
    for _ in range(20):
        order = make_order()
        raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u_10001"}).encode()
        bodies.append((raw, wallet.headers(PATHS[API], raw)))

    def send(item):
        raw, headers = item
        response = requests.post(server.url + PATHS[API], data=raw, headers=headers, timeout=30)
        return response.json()["result"]["resultCode"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(send, bodies))
    assert codes.count("UNKNOWN_EXCEPTION") == 5 and codes.count("SUCCESS") == 15
    view = client.get(f"/_sim/faults/{rule}").get_json()
    assert (view["fired"], view["matched"]) == (5, 5)


def test_what_each_effect_commits_by_default(post, add_rule, client):
    """reset spoils an answer that exists (the decode is committed); a 502 page does not."""
    add_rule(api=API, effect={"kind": "reset"}, times=1)
    with pytest.raises(
        (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        post()
    (reset_entry,) = [
        e for e in client.get("/_sim/journal").get_json()["entries"] if "reset" in (e["note"] or "")
    ]
    assert _status(client, {"paymentRequestId": reset_entry["payment_request_id"]}) == "DECODED"
    add_rule(api=API, effect={"kind": "http_error"}, times=1)
    response, order = post()
    assert response.status_code == 502
    assert _status(client, order) == "CREATED"
    add_rule(api=API, effect={"kind": "http_error", "commit": True}, times=1)
    response, order = post()
    assert response.status_code == 502
    assert _status(client, order) == "DECODED"


def test_a_drop_ends_when_the_client_gives_up(post, add_rule, sim):
    """The held connection is released once the client hangs up, not after 30 s; the journal
    says how long the client waited (its timeout)."""
    import time

    add_rule(api=API, effect={"kind": "drop", "seconds": 30})
    with pytest.raises(requests.exceptions.ReadTimeout):
        post(timeout=0.3)
    deadline = time.monotonic() + 10
    note = ""
    while "hung up" not in note and time.monotonic() < deadline:  # a readiness check
        note = sim.journal.latest("inbound")["note"]
        sim.faults.shutdown.wait(0.02)
    waited = float(re.search(r"hung up after ([0-9.]+) s", note).group(1))
    assert 0.25 <= waited < 5
