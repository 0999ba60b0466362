"""`aplus-sim serve`, `keys` and `order create`: run the simulator and talk to it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from simulator.cli import client

DEFAULT_DATA_DIR = os.environ.get("APLUS_SIM_DATA_DIR", ".aplus-sim")

SERVE_EXAMPLES = """examples:
  aplus-sim serve                                  # http://127.0.0.1:8360, SQLite in .aplus-sim/
  aplus-sim serve --port 9000 --workers 2
  aplus-sim serve --clock virtual --data-dir /tmp/sim
  aplus-sim serve --db postgresql://user:pw@localhost/aplus
"""
KEYS_EXAMPLES = """examples:
  aplus-sim keys                      # the default MPP's Client-Id and private key, and ours
  aplus-sim keys --data-dir /tmp/sim --json --create

Reads the keys in --data-dir; a directory that does not exist is refused unless --create is
given (then it is created with fresh keys, as `aplus-sim serve` would).
"""
ORDER_EXAMPLES = """examples:
  aplus-sim order create --amount 1000 --currency JPY
  aplus-sim order create --amount 12.50 --currency USD --promo-id PROMO-10PCT --json
  aplus-sim order create --amount 1000 --currency JPY --expiry-seconds 120 \\
      --redirect-url https://merchant.example/return

--amount is in the currency's major units, with at most as many decimals as the currency has:
10.00 USD is 1000 cents, 1000 JPY is 1000 yen; 12.345 USD is refused, never rounded.
"""


def register(subparsers: Any) -> None:
    """Add serve, keys and order."""
    fmt = argparse.RawDescriptionHelpFormatter

    serve = subparsers.add_parser(
        "serve", help="run the simulator", epilog=SERVE_EXAMPLES, formatter_class=fmt
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8360, help="port (0: any free port)")
    serve.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="keys and SQLite database")
    serve.add_argument("--db", default="", help="SQLAlchemy URL (default: SQLite in data dir)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--threads", type=int, default=4, help="threads per worker")
    serve.add_argument("--clock", choices=("real", "virtual"), default="real")
    serve.add_argument("--clock-start", default="", help="ISO 8601 start of a virtual clock")
    serve.add_argument("--base-url", default="", help="public URL (default http://HOST:PORT)")
    serve.add_argument("--wallet-url", default="", help="the default MPP's base URL")
    serve.add_argument("--client-id", default="", help="the default MPP's Client-Id")
    serve.set_defaults(func=run_serve)

    keys = subparsers.add_parser(
        "keys",
        help="show the default MPP's Client-Id and keys",
        epilog=KEYS_EXAMPLES,
        formatter_class=fmt,
    )
    keys.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    keys.add_argument("--client-id", default="", help="the default MPP's Client-Id")
    keys.add_argument("--json", action="store_true", help="print JSON")
    keys.add_argument("--create", action="store_true", help="create the data dir if missing")
    keys.set_defaults(func=run_keys)

    order = subparsers.add_parser("order", help="merchant orders")
    order_sub = order.add_subparsers(dest="order_command", metavar="ACTION")
    create = order_sub.add_parser(
        "create", help="create a cashier order", epilog=ORDER_EXAMPLES, formatter_class=fmt
    )
    client.add_sim_option(create)
    create.add_argument("--amount", required=True, help="major units, e.g. 10.00 (USD), 1000 (JPY)")
    create.add_argument("--currency", required=True)
    create.add_argument("--client-id", help="target wallet (default: the default MPP)")
    create.add_argument("--merchant-id")
    create.add_argument("--description")
    create.add_argument("--redirect-url")
    create.add_argument("--notify-url")
    create.add_argument("--expiry-seconds", type=int)
    create.add_argument("--promo-id")
    create.add_argument("--code-style", choices=("production", "sandbox"))
    create.add_argument("--json", action="store_true", help="print the whole answer")
    create.set_defaults(func=run_order_create)
    order.set_defaults(func=lambda args: order.print_help() or 2)


# -- serve / keys -------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> Any:
    from simulator.config import SimConfig

    values: dict[str, Any] = {"data_dir": args.data_dir}
    for option, name in (
        ("db", "db_url"),
        ("clock", "clock"),
        ("clock_start", "clock_start"),
        ("base_url", "base_url"),
        ("wallet_url", "default_wallet_url"),
        ("client_id", "default_client_id"),
    ):
        value = getattr(args, option, "")
        if value:
            values[name] = value
    return SimConfig.from_any(values)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from simulator.serving import serve

    if args.workers < 1 or args.threads < 1:
        print("--workers and --threads must be at least 1", file=sys.stderr)
        return 2
    return serve(_config(args), args.host, args.port, args.workers, sys.stdout, args.threads)


def run_keys(args: argparse.Namespace) -> int:
    """Print the default MPP's Client-Id and keys and the simulator's public key."""
    from simulator import create_app

    if not Path(args.data_dir).is_dir() and not args.create:
        print(
            f"aplus-sim keys: {args.data_dir} does not exist; give the --data-dir of a simulator "
            "(`aplus-sim serve --data-dir ...`), or add --create to make one with fresh keys",
            file=sys.stderr,
        )
        return 2
    cfg = _config(args)
    cfg.run_scheduler = False
    app = create_app(cfg)
    sim = app.extensions["aplus_sim"]
    participant = sim.keys.participant(cfg.default_client_id) or {}
    info = {
        "clientId": cfg.default_client_id,
        "privateKey": sim.keys.default_mpp_private_key_base64(),
        "privateKeyFile": str((sim.keys.default_mpp_dir / "private_key.txt").resolve()),
        "publicKey": participant.get("publicKey"),
        "pspId": participant.get("pspId"),
        "alipayPublicKey": sim.keys.public_key_base64,
        "alipayPublicKeyFile": str((sim.keys.keys_dir / "simulator_public_key.txt").resolve()),
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"default MPP Client-Id   {info['clientId']}  (pspId {info['pspId']})")
    print(f"its private key         {info['privateKeyFile']}")
    print(f"  {info['privateKey']}")
    print(f"simulator public key    {info['alipayPublicKeyFile']}")
    print(f"  {info['alipayPublicKey']}")
    return 0


# -- order create -------------------------------------------------------------------------------


def minor_units(amount: str, currency: str) -> str:
    """`amount` in major units as the wire's minor units; ValueError when it does not fit the
    currency's decimals (never rounded) or is not an amount."""
    from contracts import money

    try:
        value = Decimal(amount.strip())
        digits = money.exponent(currency)
    except InvalidOperation:
        raise ValueError(f"--amount {amount!r} is not a number") from None
    except KeyError:
        return amount.strip()  # not a currency we know: the simulator answers PARAM_ILLEGAL
    if not value.is_finite() or value <= 0:
        raise ValueError(f"--amount {amount!r} must be a positive amount")
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ValueError(
            f"--amount {amount!r} has more decimals than {currency} allows ({digits}); "
            "amounts are never rounded"
        )
    return str(int(minor))


def run_order_create(args: argparse.Namespace) -> int:
    """POST /_sim/orders and print the cashier URL."""
    try:
        value = minor_units(args.amount, args.currency)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    body: dict[str, Any] = {"amount": {"currency": args.currency, "value": value}}
    for option, name in (
        ("client_id", "clientId"),
        ("merchant_id", "merchantId"),
        ("description", "description"),
        ("redirect_url", "redirectUrl"),
        ("notify_url", "notifyUrl"),
        ("expiry_seconds", "expirySeconds"),
        ("promo_id", "promoId"),
        ("code_style", "codeStyle"),
    ):
        if getattr(args, option) is not None:
            body[name] = getattr(args, option)
    base = client.resolve_url(args.sim)
    response = client.request("POST", f"{base}/_sim/orders", json=body)
    answer = response.json()
    if response.status_code >= 400:
        print(f"order refused ({answer.get('code')}): {answer.get('error')}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
        return 0
    print(answer["cashierUrl"])
    print(f"  paymentRequestId   {answer['paymentRequestId']}", file=sys.stderr)
    print(f"  codeValue          {answer['codeValue']}", file=sys.stderr)
    print(f"  payToAmount        {answer['payToAmount']}", file=sys.stderr)
    print(f"  paymentExpiryTime  {answer['paymentExpiryTime']}", file=sys.stderr)
    return 0
