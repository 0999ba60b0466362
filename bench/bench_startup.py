"""Time from `aplus-sim serve` to its first answer, on first start and on a restart.

First start includes creating the database and generating two RSA-2048 key pairs; a restart
reuses them. "First answer" is the first HTTP 200 from GET /_sim/health, and "first signed
answer" the first signed inquiryCodeRules answer after it. Each figure is the median of a few
runs (the machine is noisy: compare figures from one run side by side).

    .venv/bin/python bench/bench_startup.py [--runs 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts import signing  # noqa: E402

CLI = str(Path(sys.executable).with_name("aplus-sim"))
RULES = "/aps/api/v1/codes/inquiryCodeRules"


def free_port() -> int:
    """A free loopback port (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_answer(base: str, deadline: float) -> float:
    """Poll GET /_sim/health until it answers 200; the moment it did."""
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_sim/health", timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.005)
    raise TimeoutError("no answer within the deadline")


def signed_rules_call(base: str, data_dir: Path) -> None:
    """One signed inquiryCodeRules call as the default MPP; raises unless it is S."""
    client_id = "SANDBOX_APLUS_SIM_MPP_01"
    key = signing.load_private_key((data_dir / "keys" / client_id / "private_key.pem").read_text())
    body = b"{}"
    headers = signing.signed_request_headers(key, client_id, RULES, body, datetime.now(UTC))
    request = urllib.request.Request(base + RULES, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())
    if answer["result"]["resultStatus"] != "S":
        raise RuntimeError(f"inquiryCodeRules answered {answer['result']}")


def one_run(data_dir: Path, workers: int) -> tuple[float, float]:
    """Start, wait for the first answer and the first signed answer, stop; seconds each."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--data-dir", str(data_dir), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        answered = first_answer(base, started + 60)
        signed_rules_call(base, data_dir)
        signed = time.perf_counter()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return answered - started, signed - started


def main() -> int:
    """Print the startup figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    cold_first, cold_signed, warm_first, warm_signed = [], [], [], []
    for _ in range(args.runs):
        data_dir = Path(tempfile.mkdtemp(prefix="aplus-bench-"))
        try:
            first, signed = one_run(data_dir, args.workers)
            cold_first.append(first)
            cold_signed.append(signed)
            first, signed = one_run(data_dir, args.workers)
            warm_first.append(first)
            warm_signed.append(signed)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:7.0f} ms (min {min(values) * 1000:.0f})"

    print(f"aplus-sim serve --workers {args.workers}, median of {args.runs} runs")
    print(f"  first start (new keys, new DB): first answer {ms(cold_first)}")
    print(f"                                  first signed inquiryCodeRules {ms(cold_signed)}")
    print(f"  restart (same data dir):        first answer {ms(warm_first)}")
    print(f"                                  first signed inquiryCodeRules {ms(warm_signed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
