"""`aplus-sim validate` and `aplus-sim openapi`: the wire contract from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from contracts import openapi

KINDS = ("request", "response")

VALIDATE_EXAMPLES = """\
Checks one message against the contract: the JSON Schema of the API and kind, and the domain
rules (amounts in minor units of a known currency, date-times with an offset, no "" values,
payToAmount = paymentAmount x quotePrice, promotion savings).

Prints "valid", or one line per violation: POINTER  RULE  MESSAGE ("(root)" for the whole
message). Exit status: 0 valid, 1 violations, 2 the file could not be read or is not JSON.

examples:
  aplus-sim validate fixtures/samples/userInitiatedPay.response.success.json \\
      --api userInitiatedPay --kind response
  curl -s ... | aplus-sim validate - --api notifyPayment --kind request
  aplus-sim validate refund.json --api refund --kind request && echo ok
"""

OPENAPI_EXAMPLES = """\
Prints an OpenAPI 3.1 document (JSON) built from the contract's JSON Schemas.

  alipayplus  what the simulator serves: inquiryCodeRules, userInitiatedPay, notifyPayment,
              and the /_sim/ control plane (tag "control")
  mpp         what a wallet must serve for Alipay+: inquiryPayment, cancelPayment, refund

examples:
  aplus-sim openapi > alipayplus.openapi.json
  aplus-sim openapi --side mpp > wallet.openapi.json
  aplus-sim openapi --side mpp | jq '.paths | keys'
  aplus-sim openapi --side mpp --server http://127.0.0.1:9000 > my-wallet.openapi.json
"""


def _apis() -> list[str]:
    """API names that have message schemas (from the schema file names)."""
    names = {name.split(".")[0] for name in openapi.schema_documents() if name.count(".") == 2}
    return sorted(names)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `validate` and `openapi` subcommands."""
    validate = subparsers.add_parser(
        "validate",
        help="check a message against the contract (schema and domain rules)",
        description="Check an Alipay+ message against the contract.",
        epilog=VALIDATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("file", metavar="FILE", help='a JSON message file, or "-" for stdin')
    apis = _apis()
    validate.add_argument(
        "--api", required=True, choices=apis, metavar="API", help="one of: " + ", ".join(apis)
    )
    validate.add_argument(
        "--kind", required=True, choices=KINDS, metavar="KIND", help="request or response"
    )
    validate.set_defaults(func=run_validate)

    document = subparsers.add_parser(
        "openapi",
        help="print the OpenAPI 3.1 document of the simulator or of a wallet",
        description="Print an OpenAPI 3.1 document built from the contract's schemas.",
        epilog=OPENAPI_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    document.add_argument(
        "--side",
        choices=openapi.SIDES,
        default="alipayplus",
        help="alipayplus (what the simulator serves, default) or mpp (what a wallet serves)",
    )
    document.add_argument(
        "--server",
        metavar="URL",
        help="put this base URL in the document's servers (e.g. where your wallet listens)",
    )
    document.set_defaults(func=run_openapi)


def run_validate(args: argparse.Namespace) -> int:
    """Validate FILE; print "valid" or one line per violation."""
    from contracts import validate  # the validator compiles every schema: load it only here

    source = "standard input" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"aplus-sim validate: cannot read {source}: {error}", file=sys.stderr)
        return 2
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        print(
            f"aplus-sim validate: {source} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})",
            file=sys.stderr,
        )
        return 2
    violations = validate(args.api, args.kind, message)
    if not violations:
        print("valid")
        return 0
    for violation in violations:
        print(f"{violation.pointer or '(root)'}  {violation.rule}  {violation.message}")
    return 1


def run_openapi(args: argparse.Namespace) -> int:
    """Print the OpenAPI document of the chosen side."""
    document = openapi.build(args.side)
    if args.server:
        document = document | {"servers": [{"url": args.server}]}  # the cached one stays as is
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0
