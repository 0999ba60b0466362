"""What one inbound Alipay+ call costs inside the app (Flask test client, no HTTP server).

Prints milliseconds per request for:

- a replayed userInitiatedPay (the idempotent path: a lookup, the stored body, a signature);
- a first userInitiatedPay (a write per request);
- a first notifyPayment (a write per request) and its identical replay;
- GET /_sim/health (the floor of Flask and the test client) and one RSA-2048 signature (the
  fixed cost every answer pays), so the rest can be read off side by side.

With `--profile`, a cProfile of the replayed decodes (top 20 by cumulative and by own time).

    .venv/bin/python bench/bench_request_path.py [--requests 300] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts import signing  # noqa: E402
from simulator import create_app  # noqa: E402

DECODE = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY = "/aps/api/v1/payments/notifyPayment"


def per_request(label: str, calls: list[Callable[[], object]]) -> None:
    """Run every call once; print the mean in ms."""
    started = time.perf_counter()
    for call in calls:
        call()
    mean_ms = (time.perf_counter() - started) / len(calls) * 1000
    print(f"  {label:<36} {mean_ms:7.3f} ms/request  ({len(calls)} requests)")


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    parser.add_argument("--profile", action="store_true", help="cProfile the replayed decodes")
    args = parser.parse_args()
    n = args.requests
    app = create_app({"data_dir": tempfile.mkdtemp(prefix="aplus-bench-"), "run_scheduler": False})
    sim = app.extensions["aplus_sim"]
    client = app.test_client()
    client_id = sim.config.default_client_id
    key = sim.keys.default_mpp_private_key()

    def signed(path: str, body: dict) -> tuple[bytes, dict[str, str]]:
        raw = json.dumps(body).encode()
        return raw, signing.signed_request_headers(key, client_id, path, raw, datetime.now(UTC))

    def post(path: str, prepared: tuple[bytes, dict[str, str]]) -> dict:
        answer = client.post(path, data=prepared[0], headers=prepared[1]).get_json()
        if answer["result"]["resultStatus"] != "S":
            raise SystemExit(f"{path} answered {answer['result']}")
        return answer

    def order() -> str:
        created = client.post("/_sim/orders", json={"amount": {"currency": "JPY", "value": "1000"}})
        return created.get_json()["codeValue"]

    def notify_body(decoded: dict) -> dict:
        return {
            "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
            "paymentRequestId": decoded["paymentRequestId"],
            "paymentAmount": decoded["paymentAmount"],
            "payToAmount": decoded["payToAmount"],
            "customerId": "u1",
            "paymentId": "W" + decoded["paymentRequestId"][-20:],
            "paymentTime": "2025-01-01T12:01:00+08:00",
        }

    replay = signed(DECODE, {"codeValue": order(), "customerId": "u1"})
    post(DECODE, replay)
    firsts = [signed(DECODE, {"codeValue": order(), "customerId": "u1"}) for _ in range(n)]
    notify_codes = [signed(DECODE, {"codeValue": order(), "customerId": "u1"}) for _ in range(n)]
    notifies = [signed(NOTIFY, notify_body(post(DECODE, p))) for p in notify_codes]
    for _ in range(30):  # warm up: schema compilation, caches, the connection pool
        client.get("/_sim/health")
        post(DECODE, replay)

    print(f"one inbound call in the Flask test client ({n} requests each, SQLite, real clock)")
    per_request("GET /_sim/health (floor)", [lambda: client.get("/_sim/health")] * n)
    private = sim.keys.private_key
    per_request(
        "RSA-2048 sign only (no request)",
        [lambda: signing.sign(private, "POST", DECODE, client_id, "t", replay[0])] * n,
    )
    per_request("userInitiatedPay replay", [lambda: post(DECODE, replay)] * n)
    per_request("userInitiatedPay first decode", [lambda p=p: post(DECODE, p) for p in firsts])
    per_request("notifyPayment first", [lambda p=p: post(NOTIFY, p) for p in notifies])
    per_request("notifyPayment replay", [lambda p=p: post(NOTIFY, p) for p in notifies])
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            post(DECODE, replay)
        profile.disable()
        stats = pstats.Stats(profile)
        print(f"\ncProfile of {n} replayed userInitiatedPay calls")
        stats.sort_stats("cumulative").print_stats(20)
        stats.sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
