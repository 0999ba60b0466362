"""Control-plane routes waiting for their home in simulator/control/ (issue 9, house-b).

GET /_sim/clock, POST /_sim/clock/advance, POST /_sim/payments/<id>/cancel and
POST|GET /_sim/payments/<id>/refunds, unchanged in behaviour; and the /_sim/faults and
/_sim/seed blueprint of simulator/faults/routes.py. The logic they call lives with its API:
`simulator.apis.cancel_payment.close_by_merchant`, `simulator.apis.refund.request_refund` and
`refunds_for`; the clock's jobs are `sim.scheduler.count(...)`. This module goes when the
control plane moves.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, jsonify

from contracts.wire import parse_time, wire_time
from simulator.apis.cancel_payment import close_by_merchant
from simulator.apis.refund import refunds_for, request_refund
from simulator.control_io import control_error, request_json
from simulator.errors import Refused
from simulator.faults import routes as fault_routes
from simulator.state import Sim, current

bp = Blueprint("callbacks", __name__, url_prefix="/_sim")


def _body() -> Any:
    return request_json(lambda message: Refused("PARAM_ILLEGAL", message, 400))


def clock_state(sim: Sim) -> dict[str, Any]:
    """The clock's mode and time, and the jobs waiting for it (GET /_sim/clock)."""
    upcoming = sim.scheduler.next_due()
    now = sim.clock.now()
    return {
        "mode": sim.clock.mode,
        "now": now.isoformat(timespec="microseconds"),
        "nowUtc8": wire_time(now),
        "pendingJobs": sim.scheduler.count("pending"),
        "nextJobAt": None if upcoming is None else upcoming.isoformat(timespec="microseconds"),
    }


@bp.get("/clock")
def get_clock():
    """The clock's mode and time, and the jobs waiting for it."""
    return jsonify(clock_state(current()))


def _advance_target(sim: Sim, body: Any):
    """Where {"seconds": N} or {"to": ISO 8601} moves the virtual clock (Refused if nowhere)."""
    if not isinstance(body, dict):
        raise Refused("PARAM_ILLEGAL", "the body must be a JSON object", 400)
    if not sim.clock.virtual:
        raise Refused(
            "PROCESS_FAIL",
            "the clock is real; start the simulator with --clock virtual to move it",
            409,
        )
    now = sim.clock.now()
    if ("seconds" in body) == ("to" in body):
        raise Refused(
            "PARAM_ILLEGAL", 'give exactly one of {"seconds": N} or {"to": "<ISO 8601>"}', 400
        )
    if "seconds" in body:
        seconds = body["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise Refused("PARAM_ILLEGAL", "seconds must be a number >= 0", 400)
        return now + timedelta(seconds=seconds)
    try:
        target = parse_time(str(body["to"]))
    except ValueError as exc:
        raise Refused("PARAM_ILLEGAL", f"to: {exc}", 400) from None
    if target < now:
        raise Refused(
            "PARAM_ILLEGAL",
            f"to {body['to']!r} is before the clock's time {now.isoformat()}; "
            "a virtual clock never goes back",
            400,
        )
    return target


@bp.post("/clock/advance")
def advance_clock():
    """Move a virtual clock by {"seconds": N} or to {"to": ISO 8601}, running due jobs."""
    sim = current()
    try:
        target = _advance_target(sim, _body())
    except Refused as exc:
        return control_error(exc.message, exc.http_status, exc.code)
    before = sim.scheduler.count("done", "failed")
    sim.clock.set(target)
    state = clock_state(sim)
    state["jobsRun"] = sim.scheduler.count("done", "failed") - before
    return jsonify(state)


@bp.post("/payments/<payment_request_id>/cancel")
def cancel_payment(payment_request_id: str):
    """The merchant closes the order; Alipay+ then calls cancelPayment on the wallet."""
    sim = current()
    try:
        body = _body()
        reason = body.get("reason") if isinstance(body, dict) else None
        if reason is not None and not isinstance(reason, str):
            raise Refused("PARAM_ILLEGAL", "reason must be a string", 400)
        return jsonify(close_by_merchant(sim, payment_request_id, reason)), 202
    except Refused as exc:
        return control_error(exc.message, exc.http_status, exc.code)


@bp.post("/payments/<payment_request_id>/refunds")
def create_refund(payment_request_id: str):
    """The merchant refunds (part of) a successful payment; the refund call follows."""
    sim = current()
    try:
        return jsonify(request_refund(sim, payment_request_id, _body())), 202
    except Refused as exc:
        return control_error(exc.message, exc.http_status, exc.code)


@bp.get("/payments/<payment_request_id>/refunds")
def list_refunds(payment_request_id: str):
    """The refunds of one payment."""
    sim = current()
    if sim.payments.get_record(payment_request_id) is None:
        return control_error(f"no payment {payment_request_id!r}", 404, "ORDER_NOT_EXIST")
    return jsonify({"refunds": refunds_for(sim, payment_request_id)})


def init_app(app: Flask) -> None:
    """Register these routes and /_sim/faults, /_sim/seed."""
    app.register_blueprint(bp)
    app.register_blueprint(fault_routes.bp)
