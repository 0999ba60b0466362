"""`aplus-sim payment show|cancel|refund`: act as the merchant on a payment (over /_sim)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simulator.cli import client

EXAMPLES = """examples:
  aplus-sim payment show PAYMENT_REQUEST_ID
  aplus-sim payment cancel PAYMENT_REQUEST_ID --reason "customer left"
  aplus-sim payment refund PAYMENT_REQUEST_ID                       # what remains
  aplus-sim payment refund PAYMENT_REQUEST_ID --amount 5.00 --currency USD --reason "one item"

cancel closes an open order (POST /_sim/payments/ID/cancel): the simulator then calls the
wallet's cancelPayment. refund (POST /_sim/payments/ID/refunds) makes it call the wallet's
refund; --amount is in major units of --currency (refused, never rounded, when it does not fit).
Exit code: 0 accepted, 1 refused (the reason is printed), 2 bad options or no simulator.
"""


def register(subparsers: Any) -> None:
    """Add `payment` and its actions."""
    fmt = argparse.RawDescriptionHelpFormatter
    payment = subparsers.add_parser(
        "payment", help="show, cancel or refund a payment", epilog=EXAMPLES, formatter_class=fmt
    )
    actions = payment.add_subparsers(dest="payment_command", metavar="ACTION")
    for name, help_text, func in (
        ("show", "the payment's state, amounts and exchanges", run_show),
        ("cancel", "close the order: the simulator calls cancelPayment", run_cancel),
        ("refund", "refund it: the simulator calls the wallet's refund", run_refund),
    ):
        action = actions.add_parser(name, help=help_text, epilog=EXAMPLES, formatter_class=fmt)
        action.add_argument("payment_request_id", metavar="PAYMENT_REQUEST_ID")
        client.add_sim_option(action)
        if name != "show":
            action.add_argument("--reason", help="why (sent to the wallet)")
        if name == "refund":
            action.add_argument("--amount", help="major units (default: what remains)")
            action.add_argument("--currency", help="the amount's currency (the order's)")
        action.set_defaults(func=func)
    payment.set_defaults(func=lambda args: payment.print_help() or 2)


def _answer(response: Any) -> int:
    try:
        answer = response.json()
    except ValueError:
        print(f"unexpected answer (HTTP {response.status_code})", file=sys.stderr)
        return 1
    if response.status_code >= 400:
        print(f"refused ({answer.get('code')}): {answer.get('error')}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def _url(args: argparse.Namespace, suffix: str = "") -> str:
    return f"{client.resolve_url(args.sim)}/_sim/payments/{args.payment_request_id}{suffix}"


def run_show(args: argparse.Namespace) -> int:
    """GET /_sim/payments/<id>."""
    return _answer(client.request("GET", _url(args)))


def run_cancel(args: argparse.Namespace) -> int:
    """POST /_sim/payments/<id>/cancel."""
    body = {"reason": args.reason} if args.reason else {}
    return _answer(client.request("POST", _url(args, "/cancel"), json=body))


def run_refund(args: argparse.Namespace) -> int:
    """POST /_sim/payments/<id>/refunds."""
    from simulator.cli.server_cmds import minor_units

    body: dict[str, Any] = {"reason": args.reason} if args.reason else {}
    if args.amount is not None:
        if not args.currency:
            print("--amount needs --currency", file=sys.stderr)
            return 2
        try:
            body["amount"] = {
                "currency": args.currency,
                "value": minor_units(args.amount, args.currency),
            }
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    return _answer(client.request("POST", _url(args, "/refunds"), json=body))
