"""`aplus-sim verify`: judge a wallet against the conformance scenarios (docs/verify.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXAMPLES = """examples:
  aplus-sim verify --list
  aplus-sim verify --sim http://127.0.0.1:8360 --client-id MY_WALLET \\
      --hook http://127.0.0.1:8080/test/pay --junit report.xml --html report.html
  aplus-sim verify --client-id SANDBOX_APLUS_SIM_MPP_01 \\
      --hook http://127.0.0.1:8361/_mpp/driver/pay --only 'refund-*,notify-u-retry'

The wallet must already be registered at the simulator (PUT /_sim/participants/<ID>). Start the
simulator with --clock virtual, or the time-dependent scenarios are reported skipped.
Exit codes: 0 every scenario passed (or was skipped), 1 any failed, 2 setup error.
"""


def register(subparsers: Any) -> None:
    """Add `verify`."""
    parser = subparsers.add_parser(
        "verify",
        help="run the conformance scenarios against a registered wallet",
        description="Drive a wallet through its test hook and judge every exchange from the "
        "simulator's journal; one verdict per scenario, with the evidence.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sim",
        default=os.environ.get("APLUS_SIM_URL", "http://127.0.0.1:8360"),
        help="the simulator's base URL (default: $APLUS_SIM_URL or http://127.0.0.1:8360)",
    )
    parser.add_argument("--client-id", help="the wallet's Client-Id, registered at the simulator")
    parser.add_argument("--hook", help="the wallet's test hook URL (POST, docs/verify.md)")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--json", metavar="FILE", help="write a JSON report")
    parser.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    parser.add_argument("--only", metavar="PATTERN", help="scenario names: globs, comma-separated")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--seed", type=int, help="seed for order amounts and ids (repeatable runs)")
    parser.add_argument(
        "--customer-id",
        help="a funded test user to send in the hook's customerId (default: the wallet picks)",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=20.0,
        help="real seconds to wait for a wallet's own retries (default 20)",
    )
    parser.set_defaults(func=run)


def _list(only: str | None) -> int:
    from simulator.verify import runner

    chosen = runner.select(only)
    width = max(len(s.name) for s in chosen) if chosen else 10
    for spec in chosen:
        clock = "  [virtual clock]" if spec.virtual_clock else ""
        print(f"{spec.name:<{width}}  {spec.section}{clock}")
        print(f"{'':<{width}}  {spec.checks}")
    print(f"{len(chosen)} scenarios")
    return 0


def _progress(result: Any) -> None:
    line = f"{result.verdict.upper():<7} {result.name:<40} {result.seconds:6.2f} s"
    if result.verdict != "passed":
        line += f"  {result.rule}"
        if result.detail and result.verdict == "failed":
            line += f" ({result.detail.splitlines()[0][:160]})"
    print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the scenarios; write the reports; exit 0, 1 or 2."""
    from simulator.verify import reports, runner
    from simulator.verify.client import SetupError

    if args.list:
        return _list(args.only)
    missing = [name for name in ("client_id", "hook") if not getattr(args, name)]
    if missing:
        flags = ", ".join("--" + m.replace("_", "-") for m in missing)
        print(f"aplus-sim verify: setup error: {flags} required", file=sys.stderr)
        return 2
    if not runner.select(args.only):
        print(f"aplus-sim verify: setup error: no scenario matches {args.only!r}", file=sys.stderr)
        return 2
    try:
        outcome = runner.run(
            args.sim,
            args.client_id,
            args.hook,
            only=args.only,
            seed=args.seed,
            customer_id=args.customer_id,
            patience=args.patience,
            progress=_progress,
        )
    except SetupError as exc:
        print(f"aplus-sim verify: setup error: {exc}", file=sys.stderr)
        return 2
    counts = outcome.counts()
    print(
        f"{len(outcome.results)} scenarios: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['error']} errors, {counts['skipped']} skipped in {outcome.seconds:.1f} s "
        f"(clock {outcome.clock}, seed {outcome.seed})"
    )
    for path, write in (
        (args.junit, reports.write_junit),
        (args.json, reports.write_json),
        (args.html, reports.write_html),
    ):
        if path:
            write(outcome, path)
            print(f"report: {path}")
    return 0 if outcome.ok else 1
