"""`aplus-sim identify`: identify codes against code rules, as the server SDK's identifyCode does."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from contracts.codes import CodeIdentificationResult, CodeIdentifier, RuleSet, http_fetcher
from contracts.codes.rules_cache import RulesUnavailable, usable_rules

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "code_rules" / "default.json"
RULES_PATH = "/aps/api/v1/codes/inquiryCodeRules"

EXAMPLES = f"""examples:
  aplus-sim identify https://qr.alipayplus.com/28166613Ab12Cd34
  aplus-sim identify 28166604n7IDRTHBUSUCCDCCSB ENTRY-SG-Shop42 "wxp://f2f0abc"
  aplus-sim identify --json --client-id MY_MPP ENTRY-SG-Shop42
  aplus-sim identify --rules my_rules.json CODE          # an inquiryCodeRules response, or
                                                          # {{"version": ..., "codeRules": [...]}}
  aplus-sim identify --url http://127.0.0.1:8360 CODE    # the rules a running simulator serves
  cat codes.txt | aplus-sim identify -                    # one code per line
  aplus-sim identify -- -starts-with-a-dash

Default rules: {DEFAULT_RULES.relative_to(DEFAULT_RULES.parents[2])} (what the simulator
serves until PUT /_sim/code-rules). --url POSTs to {{url}}{RULES_PATH} with the
server SDK's placeholder signature.

Output: one line per code: DECODE / OPEN_URL / UNSUPPORTED / PARAM_ILLEGAL, and which rule
decided. --json prints one JSON object per code (JSON Lines) with exactly the SDK's fields:
isSupported, postCodeMatchActionType, codeValue, redirectUrl, userAgent, acDecodeConfig, result.
Exit code: 0 when every code is supported, 1 when one is not, 2 when the rules cannot be read.
"""


def register(subparsers: Any) -> None:
    """Add `identify`."""
    parser = subparsers.add_parser(
        "identify",
        help="identify codes against code rules (like the server SDK's identifyCode)",
        description="Identify codes (order codes, entry codes, EMVCo QR payloads) the way the\n"
        "Alipay+ MPP server SDK's identifyCode does: DECODE, OPEN_URL or unsupported.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--rules", metavar="FILE", type=Path, help="JSON file with code rules (default: bundled)"
    )
    source.add_argument(
        "--url", metavar="SIMULATOR_BASE_URL", help="fetch the rules a running simulator serves"
    )
    parser.add_argument(
        "--client-id",
        default=os.environ.get("APLUS_SIM_CLIENT_ID", "SANDBOX_APLUS_SIM_MPP_01"),
        help="the wallet's Client-Id: fills ${issuer} in URLs and is sent with --url "
        "(default: $APLUS_SIM_CLIENT_ID or SANDBOX_APLUS_SIM_MPP_01)",
    )
    parser.add_argument(
        "--untrusted",
        choices=("trust", "reject"),
        default="trust",
        help="rules with trust=N the SDK would check remotely: use them (default) or reject",
    )
    parser.add_argument("--json", action="store_true", help="print JSON Lines (SDK fields)")
    parser.add_argument("codes", nargs="+", metavar="CODE", help="code value(s); '-' reads stdin")
    parser.set_defaults(func=run)


def load_rules(args: argparse.Namespace) -> RuleSet:
    """The rule set chosen by --rules / --url (or the bundled default); RulesUnavailable if none."""
    if args.url:
        url = args.url.rstrip("/")
        if not url.endswith(RULES_PATH):
            url += RULES_PATH
        body = http_fetcher(url, args.client_id)()
        result = body.get("result") or {}
        if result.get("resultStatus") != "S":
            raise RulesUnavailable(
                f"{url} answered {result.get('resultStatus')} {result.get('resultCode')}: "
                f"{result.get('resultMessage')}"
            )
        return usable_rules(body, url)
    path: Path = args.rules or DEFAULT_RULES
    try:
        body = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise RulesUnavailable(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise RulesUnavailable(f"{path} is not JSON: {exc}") from exc
    if isinstance(body, list):
        body = {"codeRules": body}
    return usable_rules(body, str(path))


def _codes(values: list[str], stdin: TextIO) -> list[str]:
    out: list[str] = []
    for value in values:
        if value == "-":
            out.extend(line.rstrip("\r\n") for line in stdin if line.rstrip("\r\n"))
        else:
            out.append(value)
    return out


def describe(code: str, result: CodeIdentificationResult) -> str:
    """One human-readable line for a result."""
    if result.result.get("resultStatus") != "S":
        return f"{result.result['resultCode']:<12} {code!r}  ({result.result['resultMessage']})"
    if not result.is_supported:
        return f"{'UNSUPPORTED':<12} {code}  ({result.reason})"
    rule = result.rule.describe() if result.rule else ""
    if result.post_code_match_action_type == "DECODE":
        return f"{'DECODE':<12} {code}  [{rule}]"
    return (
        f"{'OPEN_URL':<12} {code} -> {result.redirect_url}  "
        f"(user agent {result.user_agent!r})  [{rule}]"
    )


def run(args: argparse.Namespace) -> int:
    """Identify each code and print the results."""
    try:
        rules = load_rules(args)
    except (RulesUnavailable, OSError) as exc:
        print(f"aplus-sim identify: {exc}", file=sys.stderr)
        return 2
    for problem in rules.problems:
        print(f"warning: rule skipped: {problem}", file=sys.stderr)
    identifier = CodeIdentifier(rules, client_id=args.client_id, untrusted=args.untrusted)
    all_supported = True
    for code in _codes(args.codes, sys.stdin):
        result = identifier.identify_code(code)
        all_supported &= result.is_supported
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            print(describe(code, result))
    return 0 if all_supported else 1
