"""The journal: record/query, filters, problem classification, bounding, clearing, /_sim/journal."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from flask import Flask
from werkzeug.datastructures import Headers

from simulator import clock, control, journal
from simulator.config import SimConfig
from simulator.db import make_engine, metadata
from simulator.journal import Journal, is_problem
from simulator.state import Sim

START = "2026-03-01T10:00:00+00:00"
UIP = "/aps/api/v1/payments/userInitiatedPay"


@pytest.fixture
def make_app(tmp_path):
    """An app with only the clock, the journal and the control plane that serves /_sim/journal."""

    def build(**overrides):
        config = {
            "data_dir": tmp_path / "sim",
            "clock": "virtual",
            "clock_start": START,
            "run_scheduler": False,
            "testing": True,
        }
        config.update(overrides)
        cfg = SimConfig.from_any(config)
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        app = Flask("simulator")
        app.extensions["aplus_sim"] = Sim(config=cfg, engine=make_engine(cfg.database_url))
        metadata.create_all(app.extensions["aplus_sim"].engine)
        clock.init_app(app)
        journal.init_app(app)
        control.init_app(app)
        return app

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def sim(app):
    return app.extensions["aplus_sim"]


@pytest.fixture
def client(app):
    return app.test_client()


def exchange(**overrides):
    """A clean, successful inbound userInitiatedPay exchange (override fields to spoil it)."""
    fields = {
        "direction": "inbound",
        "api": "userInitiatedPay",
        "client_id": "MPP_A",
        "payment_request_id": "PR-1",
        "path": UIP,
        "request_headers": {"Client-Id": "MPP_A", "Request-Time": "2026-03-01T18:00:00+08:00"},
        "request_body": '{"codeValue":"281666040000"}',
        "response_status": 200,
        "response_headers": {"content-type": "application/json", "signature": "x"},
        "response_body": '{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}',
        "latency_ms": 1.5,
        "signature": "valid",
        "request_violations": [],
        "response_violations": [],
        "result_status": "S",
        "result_code": "SUCCESS",
    }
    fields.update(overrides)
    return fields


def test_record_then_query_gives_back_every_field_newest_first(sim):
    first = sim.journal.record(**exchange(note="first"))
    sim.clock.advance(2)
    second = sim.journal.record(
        **exchange(
            note="second",
            request_violations=[
                {"pointer": "/codeValue", "rule": "required", "message": "codeValue is missing"}
            ],
        )
    )
    assert second > first
    entries = sim.journal.query()
    assert [e["id"] for e in entries] == [second, first]
    newest, oldest = entries
    assert oldest["time"].startswith("2026-03-01T10:00:00")
    assert newest["time"].startswith("2026-03-01T10:00:02")
    assert newest["request_headers"] == {
        "Client-Id": "MPP_A",
        "Request-Time": "2026-03-01T18:00:00+08:00",
    }
    assert newest["response_headers"]["signature"] == "x"
    assert newest["request_violations"] == [
        {"pointer": "/codeValue", "rule": "required", "message": "codeValue is missing"}
    ]
    assert newest["response_violations"] == []
    assert newest["request_body"] == '{"codeValue":"281666040000"}'
    assert newest["method"] == "POST" and newest["path"] == UIP
    assert newest["latency_ms"] == 1.5 and newest["signature"] == "valid"
    assert newest["note"] == "second" and newest["problem"] is True
    assert oldest["problem"] is False
    assert sim.journal.get(first)["note"] == "first"
    assert sim.journal.get(10_000) is None


def test_latest_finds_the_newest_entry_of_each_direction(sim):
    assert sim.journal.latest("inbound") is None
    inbound = sim.journal.record(**exchange(note="in"))
    for i in range(3):
        outbound = sim.journal.record(
            **exchange(direction="outbound", api="inquiryPayment", note=f"out {i}")
        )
    assert sim.journal.latest("inbound")["id"] == inbound
    assert sim.journal.latest("outbound")["id"] == outbound


def test_violation_objects_headers_objects_and_bytes_are_stored_as_plain_data(sim):
    class Violation:  # the shape of contracts.Violation
        pointer, rule, message = "/paymentAmount/value", "amount.minor-units", "not an integer"

    headers = Headers([("Client-Id", "MPP_A"), ("X-Dup", "a"), ("X-Dup", "b")])
    entry_id = sim.journal.record(
        **exchange(
            request_headers=headers,
            request_body=b'{"x":"\xe4\xb8\xad"}',
            response_violations=[Violation()],
        )
    )
    entry = sim.journal.get(entry_id)
    assert entry["request_headers"] == {"Client-Id": "MPP_A", "X-Dup": "a, b"}
    assert entry["request_body"] == '{"x":"中"}'
    assert entry["response_violations"] == [
        {
            "pointer": "/paymentAmount/value",
            "rule": "amount.minor-units",
            "message": "not an integer",
        }
    ]


def test_huge_bodies_are_cut_with_a_marker(make_app):
    sim = make_app().extensions["aplus_sim"]
    sim.journal.body_limit = 100
    entry = sim.journal.get(sim.journal.record(**exchange(request_body="x" * 250)))
    assert entry["request_body"].startswith("x" * 100)
    assert "150 more characters not kept" in entry["request_body"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({}, False),
        ({"signature": "placeholder"}, False),
        ({"signature": "not-checked"}, False),
        ({"signature": "invalid"}, True),
        ({"signature": "missing"}, True),
        ({"request_violations": [{"pointer": "", "rule": "r", "message": "m"}]}, True),
        ({"response_violations": [{"pointer": "", "rule": "r", "message": "m"}]}, True),
        ({"result_status": "F", "result_code": "PARAM_ILLEGAL"}, True),
        ({"result_status": "U", "result_code": "UNKNOWN_EXCEPTION"}, True),
        ({"response_status": 500}, True),
        ({"response_status": None, "response_body": None, "error": "timeout"}, True),
        ({"error": "connection refused"}, True),
    ],
)
def test_problem_classification(sim, overrides, problem):
    fields = exchange(**overrides)
    assert is_problem(fields) is problem
    entry = sim.journal.get(sim.journal.record(**fields))
    assert entry["problem"] is problem
    assert [e["id"] for e in sim.journal.query(problems_only=True)] == (
        [entry["id"]] if problem else []
    )


def test_filters_combine_and_before_pages_backwards(sim):
    ids = {
        "a": sim.journal.record(**exchange(client_id="MPP_A", payment_request_id="PR-1")),
        "b": sim.journal.record(**exchange(client_id="MPP_B", payment_request_id="PR-2")),
        "c": sim.journal.record(
            **exchange(
                direction="outbound",
                api="inquiryPayment",
                path="/aps/api/v1/payments/inquiryPayment",
                url="http://127.0.0.1:1/aps/api/v1/payments/inquiryPayment",
                client_id="MPP_A",
                payment_request_id="PR-1",
                error="timeout",
                response_status=None,
            )
        ),
        "d": sim.journal.record(**exchange(api="inquiryCodeRules", payment_request_id=None)),
    }

    def ids_of(**kw):
        return [e["id"] for e in sim.journal.query(**kw)]

    assert ids_of() == [ids["d"], ids["c"], ids["b"], ids["a"]]
    assert ids_of(api="userInitiatedPay") == [ids["b"], ids["a"]]
    assert ids_of(client_id="MPP_A") == [ids["d"], ids["c"], ids["a"]]
    assert ids_of(payment_request_id="PR-1") == [ids["c"], ids["a"]]
    assert ids_of(payment_request_id="PR-1", problems_only=True) == [ids["c"]]
    assert ids_of(client_id="MPP_A", api="userInitiatedPay") == [ids["a"]]
    assert ids_of(limit=2) == [ids["d"], ids["c"]]
    assert ids_of(limit=2, before_id=ids["c"]) == [ids["b"], ids["a"]]
    assert ids_of(api="refund") == []


@pytest.mark.parametrize("limit", [1, 5, 50])
def test_journal_keeps_only_the_newest_entries(make_app, limit):
    sim = make_app(journal_limit=limit).extensions["aplus_sim"]
    ids = [sim.journal.record(**exchange(note=f"n{i}")) for i in range(limit * 2 + 3)]
    assert sim.journal.count() == limit
    kept = sim.journal.query(limit=1000)
    assert [e["id"] for e in kept] == ids[::-1][:limit]
    assert sim.journal.get(ids[0]) is None
    # the rows really are deleted (in batches), not only hidden
    with sim.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM journal_entries").scalar()
    assert limit <= stored < limit + max(1, limit // 10)


def test_concurrent_writers_from_separate_pools_lose_nothing(sim):
    # Two Journal objects stand for two worker processes writing into one database.
    workers = [Journal(sim.engine, sim.clock, limit=10_000) for _ in range(2)]
    got: list[int] = []
    lock = threading.Lock()

    def write(journal):
        for i in range(40):
            entry_id = journal.record(**exchange(note=str(i)))
            with lock:
                got.append(entry_id)

    threads = [threading.Thread(target=write, args=(w,)) for w in workers for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 160
    assert sim.journal.count() == 160


def _write_in_child(journal, count, queue):
    queue.put([journal.record(**exchange(note="child")) for _ in range(count)])


def test_forked_worker_processes_write_into_one_journal(sim):
    # The parent's pool holds an open connection; each forked worker must open its own.
    first = sim.journal.record(**exchange(note="parent"))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_write_in_child, args=(sim.journal, 25, queue)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    ids = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    written = {first, *ids[0], *ids[1]}
    assert len(written) == 51
    assert sim.journal.count() == 51
    assert sim.journal.record(**exchange(note="parent again")) > max(written)


def test_record_refuses_malformed_entries(sim):
    with pytest.raises(TypeError, match="unknown journal fields"):
        sim.journal.record(**exchange(payment_id="x"))
    with pytest.raises(ValueError, match="direction"):
        sim.journal.record(**exchange(direction="sideways"))
    with pytest.raises(ValueError, match="signature"):
        sim.journal.record(**exchange(signature="ok"))
    with pytest.raises(TypeError, match="needs"):
        sim.journal.record(**exchange(api=""))


def test_clear_forgets_everything(sim, client):
    for _ in range(3):
        sim.journal.record(**exchange())
    response = client.delete("/_sim/journal")
    assert response.status_code == 200
    assert response.get_json() == {"deleted": 3}
    assert client.get("/_sim/journal").get_json() == {"entries": [], "next": None}


def test_http_journal_filters_and_pages(sim, client):
    a = sim.journal.record(**exchange(client_id="MPP_A", payment_request_id="PR-1"))
    b = sim.journal.record(
        **exchange(client_id="MPP_B", payment_request_id="PR-2", signature="invalid")
    )
    c = sim.journal.record(**exchange(api="notifyPayment", payment_request_id="PR-1"))

    def ids(query):
        response = client.get(f"/_sim/journal{query}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        return [e["id"] for e in body["entries"]], body["next"]

    assert ids("") == ([c, b, a], None)
    assert ids("?api=notifyPayment") == ([c], None)
    assert ids("?clientId=MPP_B") == ([b], None)
    assert ids("?paymentRequestId=PR-1") == ([c, a], None)
    assert ids("?problems=1") == ([b], None)
    assert ids("?problems=0") == ([c, b, a], None)
    assert ids("?limit=2") == ([c, b], b)
    assert ids(f"?limit=2&before={b}") == ([a], None)
    entry = client.get("/_sim/journal").get_json()["entries"][1]
    assert entry["signature"] == "invalid" and entry["problem"] is True
    assert entry["request_headers"]["Client-Id"] == "MPP_A"
    assert client.get(f"/_sim/journal/{a}").get_json()["id"] == a
    missing = client.get("/_sim/journal/999")
    assert missing.status_code == 404 and "no journal entry 999" in missing.get_json()["error"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?limit=abc", "limit must be a positive integer"),
        ("?limit=0", "limit must be between 1 and 1000"),
        ("?limit=5000", "limit must be between 1 and 1000"),
        ("?before=-3", "before must be a positive integer"),
        ("?problems=maybe", "problems must be 1 or 0"),
        ("?client_id=MPP_A", "unknown parameter(s) ['client_id']"),
    ],
)
def test_http_journal_rejects_bad_parameters(client, query, message):
    response = client.get(f"/_sim/journal{query}")
    assert response.status_code == 400
    assert response.is_json
    assert message in response.get_json()["error"]
