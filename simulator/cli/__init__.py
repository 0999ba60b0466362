"""The `aplus-sim` command: one console script, one module per group of subcommands.

The parser knows every command's name and help line without importing its module (so
`aplus-sim --help` does not load flask, sqlalchemy or the schemas); only the module of the
command being run is imported and registers its full parser.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# (command, module, help). Each module has `register(subparsers)`, adding its subcommands with
# `set_defaults(func=...)`; a subcommand's func takes the parsed args and returns an exit code.
COMMANDS = (
    ("serve", "simulator.cli.server_cmds", "run the simulator"),
    (
        "demo",
        "simulator.cli.demo_cmd",
        "run the simulator, the reference wallet and the merchant demo page",
    ),
    ("keys", "simulator.cli.server_cmds", "show the default MPP's Client-Id and keys"),
    ("order", "simulator.cli.server_cmds", "merchant orders"),
    ("call", "simulator.cli.call_cmd", "sign and send an Alipay+ API request, verify the answer"),
    ("payment", "simulator.cli.payment_cmd", "show, cancel or refund a payment"),
    ("clock", "simulator.cli.clock_cmd", "show or move the simulator's clock"),
    (
        "fault",
        "simulator.cli.fault_cmds",
        "inject results and faults into a running simulator (/_sim/faults)",
    ),
    (
        "report",
        "simulator.cli.fault_cmds",
        "what a wallet did about the results and faults it was shown (/_sim/report)",
    ),
    (
        "identify",
        "simulator.cli.identify_cmd",
        "identify codes against code rules (like the server SDK's identifyCode)",
    ),
    (
        "validate",
        "simulator.cli.contracts_cmds",
        "check a message against the contract (schema and domain rules)",
    ),
    (
        "openapi",
        "simulator.cli.contracts_cmds",
        "print the OpenAPI 3.1 document of the simulator or of a wallet",
    ),
    ("verify", "simulator.cli.verify_cmd", "judge a wallet against the conformance scenarios"),
)


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named in argv (the first word that is not an option)."""
    names = {name for name, _, _ in COMMANDS}
    for word in argv:
        if not word.startswith("-"):
            return word if word in names else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser: the full subparser of the command in argv (all when argv is None), a help
    line for the others."""
    parser = argparse.ArgumentParser(
        prog="aplus-sim",
        description="An offline Alipay+ simulator and contract-test harness for wallets (MPPs).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  aplus-sim serve --clock virtual\n  aplus-sim demo\n\n"
        "Run 'aplus-sim COMMAND --help' for each command's examples.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = None if argv is None else _command_in(argv)
    modules = {module for name, module, _ in COMMANDS if argv is None or name == wanted}
    for module in dict.fromkeys(module for _, module, _ in COMMANDS if module in modules):
        importlib.import_module(module).register(subparsers)
    for name, _, help_text in COMMANDS:
        if name not in subparsers.choices:
            subparsers.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    from simulator.cli.client import Unreachable

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except Unreachable as exc:
        print(f"aplus-sim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `aplus-sim openapi | head`: the reader left, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
