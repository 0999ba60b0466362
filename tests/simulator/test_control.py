"""The control plane (/_sim): one JSON error shape for every refusal, unknown URLs included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import simulator.control

ERROR_KEYS = {"error", "code", "field"}

# (method, URL, JSON body or raw bytes, HTTP status, code, field): one bad request per resource.
BAD_REQUESTS = [
    ("post", "/_sim/reset", b"{not json", 400, "PARAM_ILLEGAL", None),
    ("post", "/_sim/reset?clientId=NOBODY", None, 404, None, None),
    ("get", "/_sim/participants/NOBODY", None, 404, None, None),
    ("put", "/_sim/participants/MPP_X", {"colour": "red"}, 400, "PARAM_ILLEGAL", None),
    ("post", "/_sim/orders", {"amount": {"currency": "XXY", "value": "1"}}, 400, None, None),
    ("get", "/_sim/orders/NOPE/qr.svg", None, 404, None, None),
    ("get", "/_sim/payments?limit=many", None, 400, "PARAM_ILLEGAL", "limit"),
    ("get", "/_sim/payments?limit=0", None, 400, "PARAM_ILLEGAL", "limit"),
    ("get", "/_sim/payments/NOPE", None, 404, None, None),
    ("post", "/_sim/payments/NOPE/cancel", {"reason": 5}, 400, "PARAM_ILLEGAL", "reason"),
    ("post", "/_sim/payments/NOPE/cancel", {}, 404, "ORDER_NOT_EXIST", None),
    ("post", "/_sim/payments/NOPE/refunds", {}, 404, "ORDER_NOT_EXIST", None),
    ("get", "/_sim/payments/NOPE/refunds", None, 404, "ORDER_NOT_EXIST", None),
    ("post", "/_sim/clock/advance", [1, 2], 400, "PARAM_ILLEGAL", None),
    ("post", "/_sim/clock/advance", {"seconds": "ten"}, 400, "PARAM_ILLEGAL", "seconds"),
    ("post", "/_sim/clock/advance", {"to": "yesterday"}, 400, "PARAM_ILLEGAL", "to"),
    ("get", "/_sim/journal?problems=maybe", None, 400, "PARAM_ILLEGAL", None),
    ("get", "/_sim/journal/999999", None, 404, None, None),
    ("post", "/_sim/faults", {"api": "nothing"}, 400, "PARAM_ILLEGAL", None),
    ("get", "/_sim/faults/4242", None, 404, None, None),
    ("delete", "/_sim/faults/4242", None, 404, None, None),
    ("post", "/_sim/seed", {"seed": "42"}, 400, "PARAM_ILLEGAL", "seed"),
    ("put", "/_sim/code-rules", {"rules": []}, 400, "PARAM_ILLEGAL", "codeRules"),
    ("put", "/_sim/code-rules", {"codeRules": "none"}, 400, "PARAM_ILLEGAL", None),
    ("get", "/_sim/no-such-thing", None, 404, None, None),
    ("delete", "/_sim/health", None, 405, None, None),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "code", "field"),
    BAD_REQUESTS,
    ids=[f"{m.upper()} {u} {s}" for m, u, _, s, _, _ in BAD_REQUESTS],
)
def test_every_refusal_has_the_one_json_shape(client, method, url, body, status, code, field):
    send = getattr(client, method)
    response = send(url, data=body) if isinstance(body, bytes) else send(url, json=body)
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert set(answer) <= ERROR_KEYS and isinstance(answer["error"], str) and answer["error"]
    if code is not None:
        assert answer["code"] == code, answer
    if field is not None:
        assert answer["field"] == field, answer


def test_a_wrong_method_says_which_methods_the_url_takes(client):
    response = client.post("/_sim/journal/1")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert "POST is not allowed on /_sim/journal/1" in response.get_json()["error"]


def test_unknown_urls_outside_the_control_plane_are_not_answered_as_control_json(client):
    # the dashboard is HTML, and /aps belongs to the protocol: neither answers the /_sim shape
    for url in ("/_sim/ui/no-such-page", "/no-such-thing"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.mimetype != "application/json"


def test_clock_cancel_and_refund_urls_are_served_by_the_control_package(app):
    urls = app.url_map.bind("sim.test")
    for url, method in (
        ("/_sim/clock", "GET"),
        ("/_sim/clock/advance", "POST"),
        ("/_sim/payments/P1/cancel", "POST"),
        ("/_sim/payments/P1/refunds", "POST"),
        ("/_sim/payments/P1/refunds", "GET"),
    ):
        endpoint, _ = urls.match(url, method=method)
        assert endpoint.startswith("control."), (url, endpoint)


def test_no_control_route_builds_its_own_error_answer():
    # the one error shape is built in simulator/control/errors.py only: a route raises
    package = Path(simulator.control.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value == "error":
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
