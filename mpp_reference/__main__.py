"""Serve the reference wallet: `python -m mpp_reference --port 8361 --alipay-url http://...`."""

from __future__ import annotations

import argparse
import os
import sys

from granian import Granian
from granian.constants import Interfaces

import mpp_reference.defects as defects
from mpp_reference import create_app

EXAMPLES = """examples:
  python -m mpp_reference --port 8361 --alipay-url http://127.0.0.1:8360
  python -m mpp_reference --data-dir .aplus-sim/wallet --currency KRW \\
      --alipay-public-key "$(curl -s http://127.0.0.1:8360/_sim/keys | jq -r .publicKey)"

Settings not given here are read from MPP_REF_* environment variables (see
mpp_reference/config.py). Without --alipay-public-key the wallet fetches it once from the
simulator's GET /_sim/keys. Its own key pair is made on first start in DATA_DIR/keys/.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line of the wallet server."""
    parser = argparse.ArgumentParser(
        prog="python -m mpp_reference",
        description="Run the reference wallet (MPP): cashier pages and the endpoints Alipay+ calls.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8361)
    parser.add_argument(
        "--data-dir", help="database, keys and code-rule cache (default .mpp-wallet)"
    )
    parser.add_argument("--db", help="SQLAlchemy URL (default: SQLite file in the data dir)")
    parser.add_argument("--alipay-url", help="Alipay+ (simulator) base URL")
    parser.add_argument("--alipay-public-key", help="Alipay+ public key, PEM or bare base64")
    parser.add_argument("--public-url", help="this wallet's public base URL")
    parser.add_argument("--client-id", help="the Client-Id Alipay+ issued to this wallet")
    parser.add_argument("--currency", help="the wallet currency (default KRW)")
    parser.add_argument(
        "--clock-url", help="follow this clock (e.g. SIM/_sim/clock) instead of real time"
    )
    parser.add_argument(
        "--notify-url",
        help="default notifyPayment URL when a decode gives none (default: ALIPAY_URL's path)",
    )
    parser.add_argument(
        "--defect",
        help="make a deliberate mistake (mutation testing); NAME[,NAME]; 'list' prints them "
        "(also APLUS_MPP_DEFECT)",
    )
    parser.add_argument("--workers", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments into MPP_REF_* settings and serve the app with granian (WSGI)."""
    args = build_parser().parse_args(argv)
    if args.defect == "list":
        print(defects.listing())
        return 0
    try:
        defects.parse(args.defect)
    except ValueError as exc:
        print(f"python -m mpp_reference: error: --defect: {exc}", file=sys.stderr)
        return 2
    if args.defect:
        os.environ["APLUS_MPP_DEFECT"] = os.environ["MPP_REF_DEFECT"] = args.defect
    settings = {
        "data_dir": args.data_dir,
        "db_url": args.db,
        "alipay_url": args.alipay_url,
        "alipay_public_key": args.alipay_public_key,
        "public_url": args.public_url or f"http://{args.host}:{args.port}",
        "client_id": args.client_id,
        "wallet_currency": args.currency,
        "clock_url": args.clock_url,
        "notify_url": args.notify_url,
    }
    for name, value in settings.items():
        if value:
            os.environ[f"MPP_REF_{name.upper()}"] = str(value)

    # Build once here so configuration errors show before the server starts (and the key pair
    # and database exist before the workers start).
    os.environ.setdefault("MPP_REF_RUN_OUTBOX", "true")
    try:
        app = create_app({"run_outbox": False})
    except ValueError as exc:
        print(f"python -m mpp_reference: error: {exc}", file=sys.stderr)
        return 2
    wallet = app.extensions["mpp_reference"]
    print(
        f"reference wallet {wallet.config.client_id} on http://{args.host}:{args.port}/ "
        f"(data in {wallet.config.data_dir})",
        flush=True,
    )
    if wallet.config.defect:
        print(f"DELIBERATELY BROKEN: defect {wallet.config.defect} is on", flush=True)

    Granian(
        "mpp_reference:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=8,
        factory=True,
        log_access=False,
    ).serve()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
