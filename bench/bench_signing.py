"""What signing costs: RSA-2048 sign and verify, Signature header parsing, time parsing, key loading.

Prints one line per operation (mean of N runs, in microseconds). Run: .venv/bin/python bench/bench_signing.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from contracts import signing

BODY = (
    b'{"codeValue":"https://qr.alipayplus.com/28166613Ab12Cd34Ef56","customerId":"u_10001",'
    b'"passThroughInfo":"{\\"k\\":\\"v\\"}"}'
)
PATH = "/aps/api/v1/payments/userInitiatedPay"


def measure(label: str, runs: int, fn: Callable[[], object]) -> None:
    """Run `fn` a few times to warm up, then `runs` times; print the mean."""
    for _ in range(min(10, runs)):
        fn()
    started = time.perf_counter()
    for _ in range(runs):
        fn()
    mean_us = (time.perf_counter() - started) / runs * 1e6
    print(f"{label:<44} {mean_us:>10.1f} us   ({runs} runs)")


def main() -> None:
    """Measure and print."""
    key = signing.generate_private_key()
    public = key.public_key()
    when = "2026-11-28T13:23:44+08:00"
    signature = signing.sign(key, "POST", PATH, "SANDBOX_X", when, BODY)
    header = signing.format_signature_header(signature)
    private_text = signing.private_key_base64(key)

    measure(
        "sign (RSA-2048, SHA-256)", 300, lambda: signing.sign(key, "POST", PATH, "X", when, BODY)
    )
    measure(
        "verify",
        2000,
        lambda: signing.verify(public, "POST", PATH, "SANDBOX_X", when, BODY, signature),
    )
    measure("parse_signature_header", 5000, lambda: signing.parse_signature_header(header))
    measure("parse_time (ISO 8601 +08:00)", 5000, lambda: signing.parse_time(when))
    measure("parse_time (epoch millis)", 5000, lambda: signing.parse_time("1764307424000"))
    measure("load_private_key, cached text", 5000, lambda: signing.load_private_key(private_text))
    fresh = [signing.private_key_base64(signing.generate_private_key()) for _ in range(6)]
    measure("load_private_key, new text", 3, lambda: signing.load_private_key(fresh.pop()))


if __name__ == "__main__":
    main()
