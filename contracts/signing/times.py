"""Request-Time / Response-Time: every form the SDKs send, and the one we write."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_ISO_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:[.,](?P<frac>\d{1,9}))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})"
)
_EPOCH_MS_RE = re.compile(r"\d{12,14}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: str) -> datetime:
    """Parse a Request-Time/Response-Time as any SDK sends it; returns an aware datetime.

    Accepts ISO 8601 with an offset (`+08:00`, `+0000`, `Z`) and 0 to 9 fractional digits
    (beyond microseconds is truncated), or epoch milliseconds (12 to 14 digits).
    """
    if not isinstance(value, str):
        raise ValueError(f"time must be a string, not {type(value).__name__}")
    text = value.strip()
    if _EPOCH_MS_RE.fullmatch(text):
        return _EPOCH + timedelta(milliseconds=int(text))
    match = _ISO_RE.fullmatch(text)
    if not match:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?", text):
            raise ValueError(f"time {value!r} has no UTC offset (add Z or +08:00, for example)")
        raise ValueError(
            f"time {value!r} is neither ISO 8601 with an offset "
            "(2025-01-01T12:00:00+08:00) nor epoch milliseconds"
        )
    tz_text = match["tz"]
    if tz_text in ("Z", "z"):
        tz = UTC
    else:
        sign_ = -1 if tz_text[0] == "-" else 1
        digits = tz_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"time {value!r} has an impossible UTC offset {tz_text}")
        tz = timezone(sign_ * timedelta(hours=hours, minutes=minutes))
    micro = int((match["frac"] or "0").ljust(6, "0")[:6])
    try:
        return datetime.fromisoformat(
            f"{match['date']}T{match['h']}:{match['m']}:{match['s']}"
        ).replace(microsecond=micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"time {value!r} is not a real date and time ({exc})") from None


def format_time(dt: datetime) -> str:
    """ISO 8601 to the second with the datetime's own offset, e.g. 2025-01-01T12:00:00+08:00."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_time needs an aware datetime (with a UTC offset)")
    return dt.isoformat(timespec="seconds")
