"""`aplus-sim clock`: read or move a running simulator's clock (GET/POST /_sim/clock...)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import Any

from simulator.cli import client

EXAMPLES = """examples:
  aplus-sim clock                          # the simulator's time and the jobs waiting on it
  aplus-sim clock advance --seconds 600    # jump past a 10-minute expiry; due jobs run first
  aplus-sim clock advance --to 2026-01-05T11:10:00+08:00
  aplus-sim clock --sim http://127.0.0.1:8360 --json

Only a simulator started with --clock virtual can be moved. Advancing runs every job that falls
due (inquiry polls, cancellations, refunds), in time order, before the command returns.
"""


def register(subparsers: Any) -> None:
    """Add `clock` (show) and `clock advance`."""
    clock = subparsers.add_parser(
        "clock",
        help="show or move the simulator's clock",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client.add_sim_option(clock)
    clock.add_argument("--json", action="store_true", help="print the answer as JSON")
    actions = clock.add_subparsers(dest="clock_command", metavar="ACTION")
    advance = actions.add_parser("advance", help="move a virtual clock forward")
    step = advance.add_mutually_exclusive_group(required=True)
    step.add_argument("--seconds", type=float, help="how far to move")
    step.add_argument("--to", help="ISO 8601 time with an offset to move to")
    advance.add_argument("--sim", "--url", dest="sim", default=argparse.SUPPRESS, metavar="URL")
    advance.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    advance.set_defaults(func=run_advance)
    clock.set_defaults(func=run_show)


def _print(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    for key, value in answer.items():
        shown = value if isinstance(value, str | int | float) else json.dumps(value)
        print(f"{key}: {shown}")


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    response = client.request(method, url, json=body, timeout=600)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"error": response.text[:500]}


def run_show(args: argparse.Namespace) -> int:
    """GET /_sim/clock."""
    status, answer = _request("GET", f"{client.resolve_url(args.sim)}/_sim/clock")
    _print(answer, args.json)
    return 0 if status == 200 else 1


PROGRESS_EVERY = 50  # jobs between two progress lines on stderr


def run_advance(args: argparse.Namespace) -> int:
    """POST /_sim/clock/advance with seconds or a target time. With many jobs waiting, moves
    from one due job to the next (the same jobs in the same order) and prints a progress line
    on stderr every PROGRESS_EVERY jobs."""
    base = client.resolve_url(args.sim)
    body: dict[str, Any] = {"seconds": args.seconds} if args.to is None else {"to": args.to}
    status, state = _request("GET", f"{base}/_sim/clock")
    if (
        status != 200
        or state.get("mode") != "virtual"
        or state.get("pendingJobs", 0) <= PROGRESS_EVERY
    ):
        status, answer = _request("POST", f"{base}/_sim/clock/advance", body)
        _print(answer, args.json)
        return 0 if status == 200 else 1
    target = (
        datetime.fromisoformat(state["now"]) + timedelta(seconds=args.seconds)
        if args.to is None
        else args.to
    )
    target_text = target if isinstance(target, str) else target.isoformat()
    return _advance_in_steps(base, state, target_text, args.json)


def _advance_in_steps(base: str, state: dict[str, Any], target: str, as_json: bool) -> int:
    ran, shown, previous = 0, 0, None
    end = datetime.fromisoformat(target.replace("Z", "+00:00"))
    while state.get("nextJobAt") and datetime.fromisoformat(state["nextJobAt"]) <= end:
        status, state = _request("POST", f"{base}/_sim/clock/advance", {"to": state["nextJobAt"]})
        if status != 200:
            _print(state, as_json)
            return 1
        if not state.get("jobsRun") and state.get("nextJobAt") == previous:
            break  # a job that does not run: leave it to the final move
        previous = state.get("nextJobAt")
        ran += state.get("jobsRun", 0)
        if ran - shown >= PROGRESS_EVERY:
            shown = ran
            print(f"clock advance: {ran} jobs run, clock at {state['now']}", file=sys.stderr)
    status, answer = _request("POST", f"{base}/_sim/clock/advance", {"to": target})
    if status == 200:
        answer["jobsRun"] = ran + answer.get("jobsRun", 0)
    _print(answer, as_json)
    return 0 if status == 200 else 1
