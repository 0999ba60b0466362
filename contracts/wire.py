"""Small helpers of the wire format, written once: the UTC+8 zone, wire times, JSON, ids.

- Alipay+ stamps and shows its times in UTC+8 (the SDKs' GMT+8); the wire format carries the
  offset, to the second (`wire_time`).
- Every message Alipay+ sends is compact UTF-8 JSON, and a retry resends the same text byte for
  byte (`dumps`).
- Request ids (paymentRequestId, refundRequestId) look like the sandbox's: 31 characters,
  the UTC+8 date and time first, one letter in the middle (`request_id`).
"""

from __future__ import annotations

import json
import random
import secrets
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from contracts import signing

__all__ = ["ALIPAY_TZ", "dumps", "loads", "parse_time", "random_text", "request_id", "wire_time"]

# Alipay+'s own zone: UTC+8 (no daylight saving).
ALIPAY_TZ = timezone(timedelta(hours=8), "UTC+8")


def wire_time(dt: datetime) -> str:
    """A time as Alipay+ sends it: ISO 8601 to the second with the +08:00 offset."""
    return signing.format_time(dt.astimezone(ALIPAY_TZ))


def parse_time(value: str) -> datetime:
    """Any time an SDK sends (ISO 8601 with an offset, or epoch ms), as an aware UTC datetime.

    Raises ValueError naming what is wrong.
    """
    return signing.parse_time(value).astimezone(UTC)


def dumps(message: Any) -> str:
    """The exact JSON text sent on the wire (compact, UTF-8, key order kept)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes | None) -> Any:
    """JSON text parsed; None stays None (a column or field that was never written)."""
    return None if text is None else json.loads(text)


def random_text(alphabet: str, length: int, rng: random.Random | None = None) -> str:
    """`length` characters of `alphabet`, from `rng` (a seeded generator) or the OS's."""
    pick = rng.choice if rng is not None else secrets.choice
    return "".join(pick(alphabet) for _ in range(length))


def request_id(now: datetime, rng: random.Random | None = None, letter: str | None = None) -> str:
    """A 31-character id like the sandbox's paymentRequestId: yyyyMMddHHmmss (UTC+8), six digits,
    one letter (`letter`, or a random upper-case one), ten digits.

    `rng` is the simulator's seeded generator (POST /_sim/seed); None: the OS's.
    """
    return (
        now.astimezone(ALIPAY_TZ).strftime("%Y%m%d%H%M%S")
        + random_text(string.digits, 6, rng)
        + (letter if letter is not None else random_text(string.ascii_uppercase, 1, rng))
        + random_text(string.digits, 10, rng)
    )
