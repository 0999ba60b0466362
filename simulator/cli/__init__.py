"""The `aplus-sim` command: one console script, one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module has `register(subparsers)`, adding its subcommands with `set_defaults(func=...)`;
# a subcommand's func takes the parsed args and returns an exit code.
COMMAND_MODULES = (
    "simulator.cli.contracts_cmds",  # validate, openapi
    "simulator.cli.server_cmds",  # serve, keys, order, call
    "simulator.cli.identify_cmd",  # identify
    "simulator.cli.demo_cmd",  # demo
    "simulator.cli.clock_cmd",  # clock, clock advance
    "simulator.cli.fault_cmds",  # fault add|list|get|delete|clear, report
    "simulator.cli.verify_cmd",  # verify
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="aplus-sim",
        description="An offline Alipay+ simulator and contract-test harness for wallets (MPPs).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'aplus-sim COMMAND --help' for examples.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
