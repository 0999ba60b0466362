"""The dashboard: what a wallet developer sees on /_sim/ui, its order pages and its journal page."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import clock, control, journal, ui
from simulator.config import SimConfig
from simulator.db import make_engine, metadata
from simulator.state import Sim
from tests.simulator.conftest import Wallet, notify_body
from tests.simulator.conftest import make_app as make_real_app
from tests.support.wallet_stub import WalletStub

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
UIP = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY = "/aps/api/v1/payments/notifyPayment"
INQUIRY = "/aps/api/v1/payments/inquiryPayment"
PR = "20260301111213141516171819A2021"


class FakePayments:
    """The part of D's payment engine the dashboard reads, over a dict of views."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.views: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, Any]] = {}

    def add(self, view: dict[str, Any], record: dict[str, Any] | None = None) -> None:
        self.views[view["paymentRequestId"]] = view
        self.records[view["paymentRequestId"]] = record or {}

    def list(self, limit: int = 50, client_id: str | None = None) -> list[dict[str, Any]]:
        views = [v for v in self.views.values() if client_id in (None, v["clientId"])]
        return [{k: v for k, v in view.items() if k != "exchanges"} for view in views][:limit]

    def get_view(self, payment_request_id: str) -> dict[str, Any] | None:
        view = self.views.get(payment_request_id)
        if view is None:
            return None
        exchanges = self.sim.journal.query(payment_request_id=payment_request_id, limit=1000)
        return {**view, "exchanges": list(reversed(exchanges))}

    def get_record(self, payment_request_id: str) -> dict[str, Any] | None:
        return self.records.get(payment_request_id)


@pytest.fixture
def app(tmp_path):
    """An app with the clock, the journal, a fake payment engine, the dashboard and /_sim."""
    cfg = SimConfig.from_any(
        {
            "data_dir": tmp_path / "sim",
            "clock": "virtual",
            "clock_start": START.isoformat(),
            "run_scheduler": False,
            "testing": True,
        }
    )
    cfg.data_dir.mkdir(parents=True)
    app = Flask("simulator")
    sim = Sim(config=cfg, engine=make_engine(cfg.database_url))
    app.extensions["aplus_sim"] = sim
    metadata.create_all(sim.engine)
    clock.init_app(app)
    journal.init_app(app)
    sim.payments = FakePayments(sim)
    ui.init_app(app)
    control.init_app(app)  # the entry page links to the JSON of /_sim/journal/<id>
    return app


@pytest.fixture
def sim(app):
    return app.extensions["aplus_sim"]


@pytest.fixture
def client(app):
    return app.test_client()


def exchange(**overrides):
    fields = {
        "direction": "inbound",
        "api": "userInitiatedPay",
        "client_id": "MPP_A",
        "payment_request_id": PR,
        "path": UIP,
        "request_headers": {"Client-Id": "MPP_A", "Signature": "algorithm=RSA256,signature=abc"},
        "request_body": '{"codeValue":"281666040000"}',
        "response_status": 200,
        "response_headers": {"content-type": "application/json"},
        "response_body": '{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}',
        "latency_ms": 2.0,
        "signature": "valid",
        "request_violations": [],
        "response_violations": [],
        "result_status": "S",
        "result_code": "SUCCESS",
    }
    fields.update(overrides)
    return fields


def invalid_signature(**overrides):
    body = (
        '{"result":{"resultCode":"INVALID_SIGNATURE","resultStatus":"F",'
        '"resultMessage":"signature verification failed"}}'
    )
    fields = {
        "signature": "invalid",
        "result_status": "F",
        "result_code": "INVALID_SIGNATURE",
        "response_body": body,
    }
    return exchange(**{**fields, **overrides})


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def assert_in_order(text: str, steps: list[str]) -> None:
    """Each step appears in `text` after the previous one."""
    at = 0
    for step in steps:
        found = text.find(step, at)
        assert found >= 0, f"{step!r} missing after position {at}: {text[at : at + 400]}"
        at = found + len(step)


def view(status="CREATED", **overrides):
    base = {
        "paymentRequestId": PR,
        "clientId": "MPP_A",
        "status": status,
        "merchantName": "Demo Ramen",
        "orderDescription": "Ramen",
        "orderAmount": {"currency": "JPY", "value": "1200"},
        "paymentAmount": {"currency": "JPY", "value": "1200"},
        "payToAmount": {"currency": "USD", "value": "812"},
        "customerId": None,
        "createdTime": "2026-03-01T18:00:00+08:00",
        "paymentExpiryTime": "2026-03-01T18:10:00+08:00",
        "reversalRequired": False,
        "codeValue": "281666040000123",
        "paymentId": None,
        "paymentTime": None,
        "paymentResult": None,
        "closeReason": None,
        "reversal": {"required": False, "reason": None, "status": None},
        "refunds": [],
    }
    base.update(overrides)
    return base


def test_overview_says_why_the_last_request_failed(sim, client):
    sim.journal.record(**exchange(note="fine"))
    sim.clock.advance(1)
    sim.journal.record(**invalid_signature())
    page = client.get("/_sim/ui")
    assert page.status_code == 200
    text = text_of(page)
    assert (
        "Your last request (userInitiatedPay) failed because: The signature does not verify" in text
    )
    assert "does not verify with the public key registered for clientId MPP_A" in text
    # the result code is explained with the catalogue's meaning and action
    assert "Alipay+ (the simulator) answered INVALID_SIGNATURE (F)" in text
    assert "resultMessage: signature verification failed" in text
    assert "What to do:" in text
    # highlighted: the card and the verdict badge carry the problem styles
    markup = page.get_data(as_text=True)
    assert 'class="card bad"' in markup and "v-invalid" in markup


def test_overview_reports_a_clean_last_request_and_the_wallets_last_answer(sim, client):
    sim.journal.record(**invalid_signature())
    sim.journal.record(**exchange())
    sim.journal.record(
        **exchange(
            direction="outbound",
            api="inquiryPayment",
            path=INQUIRY,
            url="http://127.0.0.1:9/aps/api/v1/payments/inquiryPayment",
            response_status=None,
            response_headers={},
            response_body=None,
            result_status=None,
            result_code=None,
            signature="not-checked",
            error="timeout",
            note="poll 2 of 8",
        )
    )
    text = text_of(client.get("/_sim/ui/"))
    assert "Your last request (userInitiatedPay) went through: SUCCESS" in text
    assert (
        "The last call to your wallet (inquiryPayment) failed because: Calling your wallet failed: timeout"
        in text
    )
    assert "did not answer within the timeout" in text
    # the older failure stays listed under recent problems
    assert "userInitiatedPay: The signature does not verify" in text


def test_overview_lists_orders_with_state_badges_and_problem_counts(sim, client):
    sim.payments.add(view("DECODED"))
    sim.payments.add(view("CLOSED", paymentRequestId="OTHER-1", closeReason="expired"))
    sim.journal.record(**invalid_signature())
    page = client.get("/_sim/ui")
    markup = page.get_data(as_text=True)
    rows = re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", markup, flags=re.S)
    decoded = next(r for r in rows if PR in r)
    closed = next(r for r in rows if "OTHER-1" in r)
    assert 'badge s-DECODED">DECODED' in decoded and 'class="problem"' in decoded
    assert 'badge s-CLOSED">CLOSED' in closed and 'class="problem"' not in closed
    assert f'href="/_sim/ui/payments/{PR}"' in decoded
    text = text_of(page)
    assert "1200 JPY" in text and "8.12 USD" in text


def test_last_request_is_found_behind_a_long_run_of_calls_to_the_wallet(sim, client):
    sim.journal.record(**invalid_signature(note="the one"))
    for i in range(250):
        sim.journal.record(
            **exchange(direction="outbound", api="inquiryPayment", path=INQUIRY, note=f"poll {i}")
        )
    text = text_of(client.get("/_sim/ui"))
    assert (
        "Your last request (userInitiatedPay) failed because: The signature does not verify" in text
    )
    assert "The last call to your wallet (inquiryPayment) was answered: SUCCESS" in text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(min_size=1, max_size=200), header=st.text(max_size=60))
def test_any_body_is_shown_exactly_as_received_and_never_as_markup(sim, client, body, header):
    header = " ".join(header.split())  # header values are single-line
    entry_id = sim.journal.record(
        **exchange(request_body=body, request_headers={"X-Anything": header})
    )
    markup = client.get(f"/_sim/ui/journal/{entry_id}").get_data(as_text=True)
    raw_blocks = re.findall(r"<pre>(.*?)</pre>", markup, flags=re.S)
    # nothing from the exchange can open a tag: every "<" inside the blocks is escaped
    assert all("<" not in block for block in raw_blocks)
    blocks = [html.unescape(block) for block in raw_blocks]
    try:
        expected = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        expected = body
    # blocks: request headers, request body (readable), [request body exactly], answer ...
    assert blocks[1] == expected
    if expected != body:
        assert blocks[2] == body
    assert f"X-Anything: {header}" in blocks[0]


def test_overview_narrows_to_one_wallet(sim, client):
    sim.payments.add(view("DECODED"))
    sim.payments.add(view("CREATED", paymentRequestId="B-ORDER", clientId="MPP_B"))
    sim.journal.record(**exchange(client_id="MPP_A", note="a is fine"))
    sim.journal.record(**invalid_signature(client_id="MPP_B", payment_request_id="B-ORDER"))
    text = text_of(client.get("/_sim/ui?clientId=MPP_A"))
    assert "Overview for MPP_A" in text
    assert "Your last request (userInitiatedPay) went through: SUCCESS" in text
    assert PR in text and "B-ORDER" not in text
    assert "None: every exchange so far" in text
    text = text_of(client.get("/_sim/ui?clientId=MPP_B"))
    assert "failed because: The signature does not verify" in text
    assert "B-ORDER" in text and PR not in text


def test_pages_can_refresh_themselves_while_a_test_runs(client):
    plain = client.get("/_sim/ui/journal?problems=1").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in plain
    link = html.unescape(re.search(r'id="refresh" href="([^"]+)"', plain).group(1))
    assert "problems=1" in link and "refresh=5" in link
    page = client.get(link)
    assert page.status_code == 200
    markup = page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in markup
    stop = html.unescape(re.search(r'id="refresh" href="([^"]+)"', markup).group(1))
    assert "refresh" not in stop.split("?", 1)[-1] and "problems=1" in stop
    assert 'content="2"' in client.get("/_sim/ui?refresh=0").get_data(as_text=True)


def test_empty_dashboard_tells_how_to_start(client):
    text = text_of(client.get("/_sim/ui"))
    assert "No request from a wallet yet" in text
    assert "No orders yet" in text
    assert "None: every exchange so far" in text


def test_payment_page_shows_the_timeline_in_order(sim, client):
    created = sim.clock.now()
    sim.payments.add(
        view("SUCCESS", paymentTime="2026-03-01T18:00:09+08:00", customerId="C-1"),
        {
            "created": created,
            "decoded_at": (created + timedelta(seconds=3)).isoformat(),
            "final_at": (created + timedelta(seconds=9)).isoformat(),
            "final_source": "notifyPayment",
        },
    )
    sim.clock.advance(3)
    sim.journal.record(**exchange(note="decode"))
    sim.clock.advance(4)
    sim.journal.record(
        **exchange(
            direction="outbound",
            api="inquiryPayment",
            path=INQUIRY,
            note="poll 1 of 8",
            response_body='{"result":{"resultStatus":"S"},"paymentResult":{"resultStatus":"U"}}',
        )
    )
    sim.clock.advance(2)
    sim.journal.record(
        **exchange(
            api="notifyPayment",
            path=NOTIFY,
            note="notify",
            request_violations=[
                {
                    "pointer": "/paymentAmount/value",
                    "rule": "amount.minor-units",
                    "message": "12.00 is not an integer number of minor units",
                }
            ],
        )
    )
    sim.journal.record(**exchange(payment_request_id="SOMEONE-ELSE", note="unrelated"))
    page = client.get(f"/_sim/ui/payments/{PR}")
    assert page.status_code == 200
    text = text_of(page)
    order = [
        "Order created",
        "+3.0 s",
        "decode",
        "Order code decoded",
        "+7.0 s",
        "poll 1 of 8",
        "+9.0 s",
        "notify",
        "Payment succeeded (learned from notifyPayment)",
    ]
    assert_in_order(text, order)
    assert "unrelated" not in text
    assert "1 contract violation(s) in your notifyPayment request" in text
    assert "/paymentAmount/value: 12.00 is not an integer number of minor units" in text
    assert "1 problem(s)" in text
    markup = page.get_data(as_text=True)
    # every exchange carries its raw messages behind a <details> toggle
    assert markup.count("<summary>Raw request and answer</summary>") == 3
    assert "Client-Id: MPP_A" in text
    assert '"codeValue": "281666040000"' in html.unescape(markup)


def test_payment_page_lists_refunds_and_puts_them_on_the_timeline(sim, client):
    refund = {
        "refundRequestId": "R-1",
        "paymentRequestId": PR,
        "refundAmount": {"currency": "USD", "value": "500"},
        "refundFromAmount": {"currency": "USD", "value": "500"},
        "status": "FAILED",
        "resultCode": "PROCESS_FAIL",
        "resultMessage": "refund window closed",
        "attempts": 1,
        "createdTime": "2026-03-01T18:00:20+08:00",
    }
    sim.payments.add(view("SUCCESS", refunds=[refund]), {"created": START})
    sim.clock.advance(21)
    sim.journal.record(
        **exchange(
            direction="outbound",
            api="refund",
            path="/aps/api/v1/payments/refund",
            refund_request_id="R-1",
            result_status="F",
            result_code="PROCESS_FAIL",
        )
    )
    page = client.get(f"/_sim/ui/payments/{PR}")
    text = text_of(page)
    assert_in_order(
        text,
        [
            "Order created",
            "+20.0 s",
            "Merchant asked for refund R-1 of 5.00 USD",
            "+21.0 s",
            "Alipay+ → wallet refund",
            "Your wallet answered PROCESS_FAIL (F)",
        ],
    )
    table = re.search(r'<table id="refunds">.*?</table>', page.get_data(as_text=True), re.S)
    assert 'class="problem"' in table.group(0)
    assert "refund window closed" in table.group(0) and "5.00 USD" in table.group(0)


def test_unknown_payment_is_a_404_page(client):
    page = client.get("/_sim/ui/payments/NOPE")
    assert page.status_code == 404
    assert "No payment NOPE" in text_of(page)


def test_journal_page_filters_and_highlights_problems(sim, client):
    ok = sim.journal.record(**exchange(client_id="MPP_A"))
    bad = sim.journal.record(**invalid_signature(client_id="MPP_B", payment_request_id="PR-B"))
    page = client.get("/_sim/ui/journal")
    markup = page.get_data(as_text=True)
    assert re.search(rf'<tr class="problem" data-entry="{bad}">', markup)
    assert re.search(rf'<tr class="" data-entry="{ok}">', markup)
    only = client.get("/_sim/ui/journal?problems=1").get_data(as_text=True)
    assert f'data-entry="{bad}"' in only and f'data-entry="{ok}"' not in only
    by_client = client.get("/_sim/ui/journal?clientId=MPP_A&api=&paymentRequestId=")
    assert by_client.status_code == 200
    markup = by_client.get_data(as_text=True)
    assert f'data-entry="{ok}"' in markup and f'data-entry="{bad}"' not in markup


def test_journal_page_pages_backwards(sim, client):
    ids = [sim.journal.record(**exchange(note=f"n{i}")) for i in range(5)]
    markup = client.get("/_sim/ui/journal?limit=2").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-entry="(\d+)"', markup)] == [ids[4], ids[3]]
    older = re.search(r'id="older" href="([^"]+)"', markup).group(1)
    markup = client.get(html.unescape(older)).get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-entry="(\d+)"', markup)] == [ids[2], ids[1]]


def test_journal_page_explains_bad_filters(client):
    page = client.get("/_sim/ui/journal?limit=lots")
    assert page.status_code == 400
    assert "limit must be a positive integer" in text_of(page)


def test_entry_page_shows_one_exchange_in_full(sim, client):
    entry_id = sim.journal.record(
        **exchange(
            direction="outbound",
            api="cancelPayment",
            path="/aps/api/v1/payments/cancelPayment",
            response_status=500,
            response_body="<html>Internal Server Error</html>",
            result_status=None,
            result_code=None,
        )
    )
    page = client.get(f"/_sim/ui/journal/{entry_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert f"Exchange #{entry_id}: cancelPayment" in text
    assert "HTTP 500" in text and "Answer HTTP 200 with a result object" in text
    assert client.get("/_sim/ui/journal/999").status_code == 404


def test_untrusted_bodies_headers_and_notes_are_escaped(sim, client):
    script = "<script>alert('x')</script>"
    sim.payments.add(view())
    sim.journal.record(
        **invalid_signature(
            request_body=f'{{"codeValue":"{script}"}}',
            request_headers={"X-Evil": script},
            response_body=script,
            note=script,
            client_id=script,
            request_violations=[{"pointer": "/codeValue", "rule": script, "message": script}],
        )
    )
    for path in ("/_sim/ui", f"/_sim/ui/payments/{PR}", "/_sim/ui/journal", "/_sim/ui/journal/1"):
        markup = client.get(path).get_data(as_text=True)
        assert "<script>" not in markup, path
        assert "&lt;script&gt;" in markup, path


def test_explain_covers_every_kind_of_problem():
    def entry(**kw):
        return {**exchange(**kw), "id": 1, "time": START.isoformat(), "problem": True}

    assert ui.explain({**exchange(), "id": 1, "time": "", "problem": False}) == []
    kinds = {
        "missing": [r.kind for r in ui.explain(entry(signature="missing"))],
        "wallet answer violations": [
            r.title
            for r in ui.explain(
                entry(
                    direction="outbound",
                    api="inquiryPayment",
                    response_violations=[
                        {"pointer": "/result", "rule": "required", "message": "m"}
                    ],
                )
            )
        ],
        "simulator bug": [
            r.title
            for r in ui.explain(
                entry(response_violations=[{"pointer": "", "rule": "r", "message": "m"}])
            )
        ],
        "undocumented code": [
            r.detail
            for r in ui.explain(
                entry(direction="outbound", api="refund", result_status="F", result_code="NOPE")
            )
        ],
        "refused": [
            r.detail
            for r in ui.explain(
                entry(
                    direction="outbound",
                    url="http://127.0.0.1:9/x",
                    error="connection refused",
                    response_status=None,
                    response_body=None,
                )
            )
        ],
    }
    assert kinds["missing"] == ["signature"]
    assert kinds["wallet answer violations"] == [
        "1 contract violation(s) in your wallet's answer to inquiryPayment"
    ]
    assert kinds["simulator bug"] == ["The simulator's own answer broke the contract"]
    assert kinds["undocumented code"] == ["NOPE is not a documented result code of refund."]
    assert kinds["refused"] == ["Nothing is listening at http://127.0.0.1:9/x."]


def test_timeline_puts_creation_first_and_other_states_after_their_exchange_at_equal_times():
    at = START.isoformat()
    entry = {**exchange(), "id": 7, "time": at, "problem": False}
    view_ = view("DECODED", exchanges=[entry])
    record = {"created": START, "decoded_at": at}
    kinds = [e.get("status") or e["entry"]["api"] for e in ui.timeline(view_, record)]
    assert kinds == ["CREATED", "userInitiatedPay", "DECODED"]


# --- through the real engine (D's payments and protocol, F's callbacks) ----------------------


@pytest.fixture
def real_app(tmp_path):
    application = make_real_app(tmp_path / "real")
    yield application
    application.extensions["aplus_sim"].engine.dispose()


def create_order(client, **params):
    params.setdefault("amount", {"currency": "JPY", "value": "1000"})
    response = client.post("/_sim/orders", json=params)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_real_flow_a_tampered_notify_is_explained_and_the_timeline_follows_the_order(real_app):
    client = real_app.test_client()
    wallet = Wallet(real_app)
    sim = real_app.extensions["aplus_sim"]
    order = create_order(client)
    prid = order["paymentRequestId"]
    sim.clock.advance(2)
    decoded = wallet.decode(order["codeValue"])
    assert decoded.code == "SUCCESS"
    sim.clock.advance(3)
    raw = json.dumps(notify_body(decoded.body)).encode()
    headers = wallet.headers(NOTIFY, raw)
    # the body changes after signing, as a proxy rewriting JSON would do
    tampered = wallet.send(NOTIFY, raw.replace(b"u_10001", b"u_10002"), headers)
    assert tampered.code == "INVALID_SIGNATURE"

    text = text_of(client.get("/_sim/ui"))
    assert "Your last request (notifyPayment) failed because: The signature does not verify" in text
    assert f"registered for clientId {wallet.client_id}" in text
    markup = client.get("/_sim/ui").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr class=.*?</tr>", markup, flags=re.S) if prid in r)
    assert 'badge s-DECODED">DECODED' in row

    sim.clock.advance(1)
    assert wallet.notify(decoded.body).code == "SUCCESS"
    page = client.get(f"/_sim/ui/payments/{prid}")
    assert page.status_code == 200
    text = text_of(page)
    assert_in_order(
        text,
        [
            "Order created",
            "+2.0 s",
            "wallet → Alipay+ userInitiatedPay",
            "Order code decoded",
            "+6.0 s",
            "wallet → Alipay+ notifyPayment",
            "Payment succeeded",
        ],
    )
    assert "Your last request (notifyPayment) went through: SUCCESS" in text_of(
        client.get("/_sim/ui")
    )
    # the journal page and the JSON journal agree
    journal_json = client.get(f"/_sim/journal?paymentRequestId={prid}").get_json()["entries"]
    journal_page = client.get(f"/_sim/ui/journal?paymentRequestId={prid}").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-entry="(\d+)"', journal_page)] == [
        e["id"] for e in journal_json
    ]


def test_real_flow_a_badly_signed_wallet_answer_is_explained(real_app):
    client = real_app.test_client()
    sim = real_app.extensions["aplus_sim"]
    stub = WalletStub()
    with stub.serving():
        put = client.put(
            f"/_sim/participants/{stub.client_id}",
            json=stub.participant(sim.keys.public_key_base64),
        )
        assert put.status_code in (200, 201), put.get_json()
        stub.script("inquiryPayment", stub.badly_signed(stub.in_process()))
        order = create_order(client, clientId=stub.client_id)
        wallet = Wallet(real_app, client_id=stub.client_id, private_key=stub.private_key)
        assert wallet.decode(order["codeValue"]).code == "SUCCESS"
        advanced = client.post("/_sim/clock/advance", json={"seconds": 4})
        assert advanced.status_code == 200, advanced.get_json()
        assert len(stub.calls_to("inquiryPayment")) == 1
    text = text_of(client.get("/_sim/ui"))
    assert (
        "The last call to your wallet (inquiryPayment) failed because: The signature does not verify"
        in text
    )
    assert "your wallet's answer to inquiryPayment does not verify" in text
    timeline = text_of(client.get(f"/_sim/ui/payments/{order['paymentRequestId']}"))
    assert timeline.index("Order code decoded") < timeline.index("Alipay+ → wallet inquiryPayment")
    assert "+4.0 s" in timeline
