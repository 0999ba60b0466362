"""Requests per second for userInitiatedPay against `aplus-sim serve` on loopback.

Two loads, each bounded in time (`--seconds`) and count (`--max-requests`):

- replay: one decoded code, the same customer, the identical signed request again and again
  (the idempotent path: a lookup, the stored body, a fresh response signature);
- first decode: `--orders` orders minted beforehand, each decoded once (a write per request).

A baseline line (GET /_sim/health: no signature, no storage) shows what this machine and this
Python load generator manage at all in the same run.

Every request is signed beforehand (the client does no RSA work while measuring). The load
generator runs in `--clients` processes with `--threads` keep-alive connections each, on the
same machine as the server, so the figures include its cost: compare runs side by side.

    .venv/bin/python bench/bench_user_initiated_pay.py [--workers 2] [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts import signing  # noqa: E402

CLI = str(Path(sys.executable).with_name("aplus-sim"))
PATH = "/aps/api/v1/payments/userInitiatedPay"
CLIENT_ID = "SANDBOX_APLUS_SIM_MPP_01"

Prepared = tuple[bytes, dict[str, str]]
HEALTH: Prepared = (b"", {})  # sent as GET /_sim/health: the floor of this machine and client


def free_port() -> int:
    """A free loopback port (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Poll GET /_sim/health until it answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(f"{base}/_sim/health", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.01)
    raise TimeoutError("the server did not come up")


def mint_orders(port: int, count: int) -> list[str]:
    """Create `count` orders; their code values."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    codes = []
    body = json.dumps({"amount": {"currency": "JPY", "value": "1000"}})
    for _ in range(count):
        conn.request("POST", "/_sim/orders", body, {"Content-Type": "application/json"})
        codes.append(json.loads(conn.getresponse().read())["codeValue"])
    conn.close()
    return codes


def prepare(key_pem: str, code: str, customer: str) -> Prepared:
    """A signed userInitiatedPay request, ready to send any number of times."""
    key = signing.load_private_key(key_pem)
    raw = json.dumps({"codeValue": code, "customerId": customer}, indent=3).encode()
    return raw, signing.signed_request_headers(key, CLIENT_ID, PATH, raw, datetime.now(UTC))


def _load(args: tuple[int, list[Prepared], int, float, int]) -> tuple[int, int, list[float]]:
    """One client process: `threads` connections sending requests until time or count run out."""
    port, requests, threads, seconds, limit = args
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "bad": 0}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                index = state["next"]
                if index >= limit:
                    break
                state["next"] += 1
            raw, headers = requests[index % len(requests)]
            started = time.perf_counter()
            if headers:
                conn.request("POST", PATH, raw, headers)
            else:
                conn.request("GET", "/_sim/health")
            answer = conn.getresponse().read()
            mine.append(time.perf_counter() - started)
            good = b'"resultStatus":"S"' in answer or b'"status":"ok"' in answer
            with lock:
                state["ok" if good else "bad"] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return state["ok"], state["bad"], latencies


def run_load(
    port: int, requests: list[Prepared], clients: int, threads: int, seconds: float, limit: int
) -> str:
    """Spread the requests over `clients` processes; a line of figures."""
    if len(requests) < clients:  # replays: every client sends the same request
        shares = [requests] * clients
    else:  # first decodes: each request once, spread over the clients
        shares = [requests[i::clients] for i in range(clients)]
    per_client = max(1, limit // clients)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(_load, [(port, share, threads, seconds, per_client) for share in shares])
    elapsed = time.perf_counter() - started
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return (
        f"{ok / elapsed:8.0f} req/s  ({ok} S answers, {bad} other, {elapsed:.1f} s; "
        f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms)"
    )


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    parser.add_argument("--threads", type=int, default=8, help="connections per client")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=1500, help="orders for first decodes")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="aplus-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            CLI,
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--workers",
            str(args.workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        wait_ready(base, process)
        key_pem = (data_dir / "keys" / CLIENT_ID / "private_key.pem").read_text()
        codes = mint_orders(port, args.orders + 1)
        replay = [prepare(key_pem, codes[0], "bench_user")]
        first = [prepare(key_pem, code, f"user_{i}") for i, code in enumerate(codes[1:])]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", PATH, replay[0][0], replay[0][1])  # decode it once, then replay
        assert b'"resultStatus":"S"' in conn.getresponse().read()
        conn.close()
        print(
            f"userInitiatedPay on aplus-sim serve --workers {args.workers} (SQLite, real clock),"
            f" load: {args.clients} processes x {args.threads} connections"
        )
        limit = args.max_requests
        line = run_load(port, [HEALTH], args.clients, args.threads, args.seconds, limit)
        print(f"  GET /_sim/health     {line}  <- baseline: no signature, no storage")
        line = run_load(port, replay, args.clients, args.threads, args.seconds, limit)
        print(f"  replay (idempotent)  {line}")
        line = run_load(port, first, args.clients, args.threads, args.seconds, len(first))
        print(f"  first decode         {line}")
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
