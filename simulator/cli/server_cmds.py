"""`aplus-sim serve`, `keys`, `order create` and `call`: run the simulator and talk to it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

DEFAULT_URL = os.environ.get("APLUS_SIM_URL", "http://127.0.0.1:8360")
DEFAULT_DATA_DIR = os.environ.get("APLUS_SIM_DATA_DIR", ".aplus-sim")
API_PATHS = {
    "inquiryCodeRules": "/aps/api/v1/codes/inquiryCodeRules",
    "userInitiatedPay": "/aps/api/v1/payments/userInitiatedPay",
    "notifyPayment": "/aps/api/v1/payments/notifyPayment",
}

SERVE_EXAMPLES = """examples:
  aplus-sim serve                                  # http://127.0.0.1:8360, SQLite in .aplus-sim/
  aplus-sim serve --port 9000 --workers 2
  aplus-sim serve --clock virtual --data-dir /tmp/sim
  aplus-sim serve --db postgresql://user:pw@localhost/aplus
"""
KEYS_EXAMPLES = """examples:
  aplus-sim keys                      # the default MPP's Client-Id and private key, and ours
  aplus-sim keys --data-dir /tmp/sim --json
"""
ORDER_EXAMPLES = """examples:
  aplus-sim order create --amount 1000 --currency JPY
  aplus-sim order create --amount 12.50 --currency USD --promo-id PROMO_10_OFF --json
  aplus-sim order create --amount 1000 --currency JPY --expiry-seconds 120 \\
      --redirect-url https://merchant.example/return

--amount is in the currency's major units when it has a decimal point (12.50 USD), otherwise
in minor units as on the wire (1000 JPY, 1250 USD cents).
"""
CALL_EXAMPLES = """examples:
  aplus-sim call inquiryCodeRules
  aplus-sim call userInitiatedPay --data '{"codeValue": "https://qr.alipayplus.com/28166613...",
      "customerId": "u_10001"}'
  aplus-sim call notifyPayment --data @notify.json
  aplus-sim call userInitiatedPay --data - < body.json --client-id MY_MPP --private-key my.pem
  aplus-sim call notifyPayment --data @notify.json -H 'X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION'

Signs as the default MPP (Client-Id and key from the data dir) unless --client-id and
--private-key are given, sends the request, checks the answer's signature with the simulator's
public key (GET /_sim/keys) and prints both. Exit code 0 when the answer's signature verifies.
"""


def register(subparsers: Any) -> None:
    """Add serve, keys, order and call."""
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
    keys.set_defaults(func=run_keys)

    order = subparsers.add_parser("order", help="merchant orders")
    order_sub = order.add_subparsers(dest="order_command", metavar="ACTION")
    create = order_sub.add_parser(
        "create", help="create a cashier order", epilog=ORDER_EXAMPLES, formatter_class=fmt
    )
    create.add_argument("--url", default=DEFAULT_URL, help="the simulator's base URL")
    create.add_argument("--amount", required=True)
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

    call = subparsers.add_parser(
        "call",
        help="sign and send an Alipay+ API request, verify the answer",
        epilog=CALL_EXAMPLES,
        formatter_class=fmt,
    )
    call.add_argument("api", help="inquiryCodeRules, userInitiatedPay, notifyPayment or a path")
    call.add_argument("--data", default="{}", help="JSON body, @FILE or - for stdin")
    call.add_argument("--url", default=DEFAULT_URL, help="the simulator's base URL")
    call.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="where the default MPP is")
    call.add_argument("--client-id", default="", help="sign as this Client-Id")
    call.add_argument("--private-key", default="", help="key file or bare base64 text")
    call.add_argument("--simulator-public-key", default="", help="file or text (default: fetch)")
    call.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an extra request header (repeatable), e.g. 'X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION'",
    )
    call.set_defaults(func=run_call)


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


def _minor_units(amount: str, currency: str) -> str:
    from contracts import money

    if "." not in amount:
        return amount
    try:
        return str(money.to_minor(Decimal(amount), currency))
    except (InvalidOperation, KeyError) as exc:
        raise ValueError(f"--amount {amount!r} is not an amount in {currency}: {exc}") from exc


def run_order_create(args: argparse.Namespace) -> int:
    """POST /_sim/orders and print the cashier URL."""
    import requests

    try:
        value = _minor_units(args.amount, args.currency)
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
    try:
        response = requests.post(f"{args.url.rstrip('/')}/_sim/orders", json=body, timeout=30)
    except requests.RequestException as exc:
        print(f"cannot reach the simulator at {args.url}: {exc}", file=sys.stderr)
        return 2
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


# -- call ---------------------------------------------------------------------------------------


def _read_data(data: str) -> bytes:
    if data == "-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        return Path(data[1:]).read_bytes()
    return data.encode()


def _key_text(value: str) -> str:
    """The key text itself, or the contents of the file it names."""
    try:
        is_file = Path(value).is_file()
    except OSError:  # e.g. a base64 key with a "/"-free run longer than a file name may be
        is_file = False
    return Path(value).read_text() if is_file else value


def _show(title: str, first_line: str, headers: dict[str, str], body: bytes) -> None:
    print(f"--- {title}")
    print(first_line)
    for name, value in headers.items():
        print(f"{name}: {value}")
    print()
    text = body.decode("utf-8", "replace")
    try:
        print(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except ValueError:
        print(text)


def run_call(args: argparse.Namespace) -> int:
    """Sign a request as a wallet, send it, verify and print the answer."""
    import requests

    from contracts import signing

    path = API_PATHS.get(args.api, args.api)
    if not path.startswith("/"):
        print(
            f"unknown API {args.api!r}; use one of {sorted(API_PATHS)} or a path", file=sys.stderr
        )
        return 2
    try:
        body = _read_data(args.data)
        json.loads(body or b"{}")
    except (OSError, ValueError) as exc:
        print(f"--data is not JSON: {exc}", file=sys.stderr)
        return 2
    base = args.url.rstrip("/")
    extra: dict[str, str] = {}
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            print(f"--header {header!r} is not 'NAME: VALUE'", file=sys.stderr)
            return 2
        extra[name.strip()] = value.strip()
    if args.private_key:
        if not args.client_id:
            print("--private-key needs --client-id", file=sys.stderr)
            return 2
        client_id, private_key = (
            args.client_id,
            signing.load_private_key(_key_text(args.private_key)),
        )
    else:
        from simulator.config import SimConfig

        client_id = args.client_id or SimConfig.default_client_id
        key_file = Path(args.data_dir) / "keys" / client_id / "private_key.pem"
        if not key_file.exists():
            print(
                f"no key for {client_id} in {key_file.parent}; run 'aplus-sim serve' (or "
                "'aplus-sim keys') with the same --data-dir first, or pass --private-key",
                file=sys.stderr,
            )
            return 2
        private_key = signing.load_private_key(key_file.read_text())
    try:
        if args.simulator_public_key:
            alipay_key = signing.load_public_key(_key_text(args.simulator_public_key))
        else:
            alipay_key = signing.load_public_key(
                requests.get(f"{base}/_sim/keys", timeout=30).json()["publicKey"]
            )
        headers = signing.signed_request_headers(
            private_key, client_id, path, body, datetime.now(UTC)
        )
        headers.update(extra)  # headers are not part of the signed content
        _show("request", f"POST {base}{path}", headers, body)
        response = requests.post(base + path, data=body, headers=headers, timeout=30)
    except requests.RequestException as exc:
        print(f"cannot reach the simulator at {base}: {exc}", file=sys.stderr)
        return 2
    _show(
        "response",
        f"HTTP {response.status_code}",
        dict(response.headers.items()),
        response.content,
    )
    try:
        signing.verify_headers(
            alipay_key, path, response.headers, response.content, time_header="Response-Time"
        )
    except ValueError as exc:
        print(f"--- the answer's signature does NOT verify: {exc}")
        return 1
    print("--- the answer's signature verifies with the simulator's public key")
    return 0
