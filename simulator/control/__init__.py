"""The control plane: every /_sim/... route (plain JSON, not the Alipay+ protocol).

One module per resource, each a Blueprint nested in `bp` (prefix /_sim):

    health.py        GET /health, POST /reset
    participants.py  GET /participants, GET|PUT /participants/<clientId>
    orders.py        POST /orders, GET /orders/<id>/qr.svg
    payments.py      GET /payments, GET /payments/<id>, POST /payments/<id>/cancel,
                     POST|GET /payments/<id>/refunds
    clock.py         GET /clock, POST /clock/advance
    journal.py       GET|DELETE /journal, GET /journal/<entryId>
    faults.py        GET|POST|DELETE /faults, GET|DELETE /faults/<ruleId>, GET /faults/effects,
                     GET /faults/magic, GET|POST /seed
    report.py        GET /report
    reference.py     GET /keys, GET /openapi.json, GET|PUT /code-rules

Routes are thin: read parameters, call the layer below, answer JSON. Bad input is raised, never
answered by the route: one handler on `bp` renders `ControlError` and the refusals of the layers
below (simulator.control.errors) as `{"error", "code"?, "field"?}`; an unknown /_sim URL or
method gets the same shape (404/405), not an HTML page. The dashboard (/_sim/ui) is HTML and
not part of this package. Nothing here is journaled (the journal records protocol exchanges).
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from simulator.control import (
    clock,
    faults,
    health,
    journal,
    orders,
    participants,
    payments,
    reference,
    report,
)
from simulator.control.errors import ControlError, render
from simulator.errors import Refused

__all__ = ["RESOURCES", "ControlError", "bp", "init_app"]

RESOURCES = (health, participants, orders, payments, clock, journal, faults, report, reference)

bp = Blueprint("control", __name__, url_prefix="/_sim")
for _module in RESOURCES:
    bp.register_blueprint(_module.bp)
# ValueError: the refusals of the layers below (OrderError, ParticipantError, RuleError,
# BadQuery, the code-rule book's) are ValueErrors; raised in a control route they are bad input.
bp.register_error_handler(ControlError, render)
bp.register_error_handler(ValueError, render)
bp.register_error_handler(Refused, render)

_DASHBOARD = "/_sim/ui"


def _unknown_route(exc: HTTPException):
    """An unknown /_sim URL or method: the control plane's JSON shape (the rest: as Flask does)."""
    path = request.path
    if not path.startswith("/_sim/") or path == _DASHBOARD or path.startswith(_DASHBOARD + "/"):
        return exc
    if isinstance(exc, MethodNotAllowed):
        allowed = ", ".join(sorted(exc.valid_methods or ()))
        error = ControlError(f"{request.method} is not allowed on {path} (use {allowed})", 405)
        response, status = render(error)
        response.headers["Allow"] = allowed
        return response, status
    return render(ControlError.not_found(f"no control-plane route {path}"))


def init_app(app: Flask) -> None:
    """Register the control plane and its error handlers."""
    app.register_blueprint(bp)
    app.register_error_handler(NotFound, _unknown_route)
    app.register_error_handler(MethodNotAllowed, _unknown_route)
