"""`aplus-sim fault add|list|get|delete|clear`: injection rules of a running simulator, over HTTP."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simulator.cli import client

EXAMPLES = """examples:
  # the next decode is answered U/UNKNOWN_EXCEPTION (nothing is committed)
  aplus-sim fault add userInitiatedPay --result U/UNKNOWN_EXCEPTION --times 1

  # notifyPayment is recorded, but the wallet sees U: it must retry the identical request
  aplus-sim fault add notifyPayment --effect commit_then_result --times 2

  # decodes of one wallet take 9 s (beyond the SDK's 8 s read timeout), half of the time
  aplus-sim fault add userInitiatedPay --client-id MY_WALLET \\
      --effect '{"kind": "delay", "seconds": 9}' --probability 0.5 --seed 1

  # only the payment of this code value; the effect given as a kind and its parameters
  aplus-sim fault add userInitiatedPay --match codeValue=28166604abc --effect http_error \\
      --param status=500

  # Alipay+ sends every cancelPayment twice
  aplus-sim fault add cancelPayment --direction outbound --effect duplicate

  aplus-sim fault list
  aplus-sim fault get 3
  aplus-sim fault delete 3
  aplus-sim fault clear --client-id MY_WALLET
"""


def register(subparsers: Any) -> None:
    """Add `fault` and its actions."""
    fmt = argparse.RawDescriptionHelpFormatter
    fault = subparsers.add_parser(
        "fault",
        help="inject results and faults into a running simulator (/_sim/faults)",
        epilog=EXAMPLES,
        formatter_class=fmt,
    )
    actions = fault.add_subparsers(dest="fault_command", metavar="ACTION")

    add = actions.add_parser("add", help="add a rule", epilog=EXAMPLES, formatter_class=fmt)
    add.add_argument("api", help="e.g. userInitiatedPay, notifyPayment, inquiryPayment")
    add.add_argument("--direction", choices=("inbound", "outbound"), default=None)
    add.add_argument("--client-id", help="only this wallet's calls")
    add.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="codeValue, customerId, amount, currency, paymentRequestId, refundRequestId",
    )
    group = add.add_mutually_exclusive_group(required=True)
    group.add_argument("--result", metavar="STATUS/CODE", help="e.g. U/UNKNOWN_EXCEPTION")
    group.add_argument("--effect", help="an effect kind, or a JSON effect object")
    add.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an effect parameter (numbers and true/false are parsed)",
    )
    add.add_argument("--times", type=int, help="only the first N matches")
    add.add_argument("--probability", type=float, help="fire with this probability (0..1)")
    add.add_argument("--seed", type=int, help="seed of the probability draws")
    add.add_argument("--expires-at", help="ISO 8601 time (the simulator's clock) it stops at")
    client.add_sim_option(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", help="list rules with their fire counts")
    listing.add_argument("--client-id", help="only this wallet's rules")
    listing.add_argument("--json", action="store_true", help="print the JSON answer")
    client.add_sim_option(listing)
    listing.set_defaults(func=run_list)

    get = actions.add_parser("get", help="show one rule")
    get.add_argument("id", type=int)
    client.add_sim_option(get)
    get.set_defaults(func=run_get)

    remove = actions.add_parser("delete", help="delete one rule")
    remove.add_argument("id", type=int)
    client.add_sim_option(remove)
    remove.set_defaults(func=run_delete)

    clear = actions.add_parser("clear", help="delete every rule (or one wallet's)")
    clear.add_argument("--client-id", help="only this wallet's rules")
    client.add_sim_option(clear)
    clear.set_defaults(func=run_clear)
    fault.set_defaults(func=lambda args: fault.print_help() or 2)

    report = subparsers.add_parser(
        "report",
        help="what a wallet did about the results and faults it was shown (/_sim/report)",
        epilog="examples:\n  aplus-sim report --client-id MY_WALLET\n  aplus-sim report --json",
        formatter_class=fmt,
    )
    report.add_argument("--client-id", help="one wallet (default: every wallet)")
    report.add_argument("--json", action="store_true", help="print the JSON answer")
    client.add_sim_option(report)
    report.set_defaults(func=run_report)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"{what} {item!r} is not NAME=VALUE")
        out[name] = value if what == "--match" else _value(value)
    return out


def build_rule(args: argparse.Namespace) -> dict[str, Any]:
    """The rule JSON the options describe (ValueError if they do not make one)."""
    outbound = args.api in ("inquiryPayment", "cancelPayment", "refund")
    rule: dict[str, Any] = {
        "api": args.api,
        "direction": args.direction or ("outbound" if outbound else "inbound"),
    }
    if args.client_id:
        rule["clientId"] = args.client_id
    if args.match:
        rule["match"] = _pairs(args.match, "--match")
    if args.result:
        status, _, code = args.result.rpartition("/")
        effect: dict[str, Any] = {"kind": "result", "resultCode": code}
        if status:
            effect["resultStatus"] = status
    else:
        text = args.effect.strip()
        try:
            effect = json.loads(text) if text.startswith("{") else {"kind": text}
        except ValueError as exc:
            raise ValueError(f"--effect {text!r} is not a JSON object: {exc}") from None
        if not isinstance(effect, dict):
            raise ValueError(f"--effect {text!r} is not a JSON object")
    effect.update(_pairs(args.param, "--param"))
    rule["effect"] = effect
    for option, name in (
        ("times", "times"),
        ("probability", "probability"),
        ("seed", "seed"),
        ("expires_at", "expiresAt"),
    ):
        if getattr(args, option) is not None:
            rule[name] = getattr(args, option)
    return rule


def _request(
    args: argparse.Namespace, method: str, path: str, base: str = "/_sim/faults", **kwargs: Any
) -> Any:
    url = f"{client.resolve_url(args.sim)}{base}{path}"
    response = client.request(method, url, **kwargs)
    try:
        answer = response.json()
    except ValueError:
        print(f"unexpected answer (HTTP {response.status_code}) from {url}", file=sys.stderr)
        return None
    if response.status_code >= 400:
        print(f"refused (HTTP {response.status_code}): {answer.get('error')}", file=sys.stderr)
        return None
    return answer


def _line(rule: dict[str, Any]) -> str:
    effect = rule["effect"]
    if "resultCode" in effect:
        what = f"{effect['kind']} {effect['resultStatus']}/{effect['resultCode']}"
    else:
        extra = " ".join(f"{k}={v}" for k, v in effect.items() if k != "kind")
        what = f"{effect['kind']} {extra}".strip()
    scope = [f"client={rule['clientId']}"] if rule.get("clientId") else []
    scope += [f"{k}={'|'.join(v)}" for k, v in (rule.get("match") or {}).items()]
    limits = []
    if rule.get("times") is not None:
        limits.append(f"times={rule['times']}")
    if rule.get("probability") is not None:
        limits.append(f"p={rule['probability']:g}")
    if rule.get("expiresAt"):
        limits.append(f"until {rule['expiresAt']}")
    return (
        f"{rule['id']:>4}  {rule['direction']:<8} {rule['api']:<17} {what:<40} "
        f"fired {rule['fired']:>3}/{rule['matched']:<3} {' '.join(scope + limits)}"
    ).rstrip()


def run_add(args: argparse.Namespace) -> int:
    """POST /_sim/faults; prints the new rule's id."""
    try:
        rule = build_rule(args)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    answer = _request(args, "POST", "", json=rule)
    if answer is None:
        return 1
    print(answer["id"])
    print(f"  {_line(answer['rule'])}", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """GET /_sim/faults: one line per rule."""
    params = {"clientId": args.client_id} if args.client_id else None
    answer = _request(args, "GET", "", params=params)
    if answer is None:
        return 1
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    elif not answer["rules"]:
        print("no rules", file=sys.stderr)
    for rule in [] if args.json else answer["rules"]:
        print(_line(rule))
    return 0


def run_get(args: argparse.Namespace) -> int:
    """GET /_sim/faults/<id> as JSON."""
    answer = _request(args, "GET", f"/{args.id}")
    if answer is None:
        return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    """DELETE /_sim/faults/<id>."""
    return 0 if _request(args, "DELETE", f"/{args.id}") is not None else 1


def run_clear(args: argparse.Namespace) -> int:
    """DELETE /_sim/faults (optionally one wallet's)."""
    params = {"clientId": args.client_id} if args.client_id else None
    answer = _request(args, "DELETE", "", params=params)
    if answer is None:
        return 1
    print(f"deleted {answer['deleted']} rule(s)", file=sys.stderr)
    return 0


def run_report(args: argparse.Namespace) -> int:
    """GET /_sim/report, printed as text (or JSON); exit code 1 if any reaction was bad."""
    from simulator.report import render_text

    params = {"clientId": args.client_id} if args.client_id else None
    answer = _request(args, "GET", "", base="/_sim/report", params=params)
    if answer is None:
        return 2
    print(json.dumps(answer, indent=2, ensure_ascii=False) if args.json else render_text(answer))
    return 1 if answer["summary"]["bad"] else 0
