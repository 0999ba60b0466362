"""GET /_sim/clock and POST /_sim/clock/advance: the clock and the jobs waiting for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify

from contracts import signing, wire
from simulator.control.errors import ControlError, request_object
from simulator.state import current

bp = Blueprint("clock", __name__)


def _clock_state(sim: Any) -> dict[str, Any]:
    upcoming = sim.scheduler.next_due()
    now = sim.clock.now()
    return {
        "mode": sim.clock.mode,
        "now": now.isoformat(timespec="microseconds"),
        "nowUtc8": wire.wire_time(now),
        "pendingJobs": sim.scheduler.count("pending"),
        "nextJobAt": None if upcoming is None else upcoming.isoformat(timespec="microseconds"),
    }


def _target(now: datetime, body: dict[str, Any]) -> datetime:
    """Where {"seconds": N} or {"to": ISO 8601} moves a clock that reads `now`."""
    if ("seconds" in body) == ("to" in body):
        raise ControlError.bad('give exactly one of {"seconds": N} or {"to": "<ISO 8601>"}')
    if "seconds" in body:
        seconds = body["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError.bad("seconds must be a number >= 0", "seconds")
        return now + timedelta(seconds=seconds)
    try:
        target = signing.parse_time(str(body["to"])).astimezone(UTC)
    except ValueError as exc:
        raise ControlError.bad(f"to: {exc}", "to") from None
    if target < now:
        raise ControlError.bad(
            f"to {body['to']!r} is before the clock's time {now.isoformat()}; "
            "a virtual clock never goes back",
            "to",
        )
    return target


@bp.get("/clock")
def get_clock():
    """The clock's mode and time, and the jobs waiting for it."""
    return jsonify(_clock_state(current()))


@bp.post("/clock/advance")
def advance_clock():
    """Move a virtual clock by {"seconds": N} or to {"to": ISO 8601}, running due jobs."""
    sim = current()
    body = request_object()
    if not sim.clock.virtual:
        raise ControlError(
            "the clock is real; start the simulator with --clock virtual to move it",
            409,
            "PROCESS_FAIL",
        )
    target = _target(sim.clock.now(), body)
    before = sim.scheduler.count("done", "failed")
    sim.clock.set(target)
    state = _clock_state(sim)
    state["jobsRun"] = sim.scheduler.count("done", "failed") - before
    return jsonify(state)
