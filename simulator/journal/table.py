"""The journal's table and how one exchange becomes a row (bounded text, JSON columns)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from simulator.db import metadata

DIRECTIONS = ("inbound", "outbound")
SIGNATURE_VERDICTS = ("valid", "invalid", "missing", "placeholder", "not-checked")
# Verdicts that make an exchange a problem (a placeholder or an unchecked signature is a
# configured choice, not a failure).
BAD_SIGNATURES = frozenset({"invalid", "missing"})
# Bodies beyond this many characters are cut (the journal is bounded in memory and on disk);
# every Alipay+ message is far smaller (the largest field, passThroughInfo, is 20,000).
DEFAULT_BODY_LIMIT = 65_536

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", String(40), nullable=False),  # clock time, ISO 8601 UTC
    Column("direction", String(8), nullable=False),
    Column("api", String(64), nullable=False),
    Column("client_id", String(128)),
    Column("payment_request_id", String(64)),
    Column("refund_request_id", String(64)),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("url", Text),
    Column("request_headers", Text, nullable=False),  # JSON object
    Column("request_body", Text, nullable=False),
    Column("response_status", Integer),
    Column("response_headers", Text, nullable=False),  # JSON object
    Column("response_body", Text),
    Column("latency_ms", Float, nullable=False),
    Column("signature", String(16), nullable=False),
    Column("request_violations", Text, nullable=False),  # JSON list of {pointer, rule, message}
    Column("response_violations", Text, nullable=False),  # JSON list
    Column("result_status", String(4)),
    Column("result_code", String(64)),
    Column("error", Text),
    Column("note", Text),
    Column("problem", Boolean, nullable=False),
    # No AUTOINCREMENT (it costs a write to sqlite_sequence per insert): ids still only grow,
    # because only the oldest rows are deleted; after `clear()` numbering starts again at 1.
)
Index("ix_journal_payment_request_id", journal_entries.c.payment_request_id, journal_entries.c.id)
Index("ix_journal_problem", journal_entries.c.problem, journal_entries.c.id)

JSON_COLUMNS = ("request_headers", "response_headers", "request_violations", "response_violations")
FIELDS = (
    "direction",
    "api",
    "client_id",
    "payment_request_id",
    "refund_request_id",
    "method",
    "path",
    "url",
    "request_headers",
    "request_body",
    "response_status",
    "response_headers",
    "response_body",
    "latency_ms",
    "signature",
    "request_violations",
    "response_violations",
    "result_status",
    "result_code",
    "error",
    "note",
)
REQUIRED = ("direction", "api", "path")


def is_problem(entry: Mapping[str, Any]) -> bool:
    """Whether an exchange went wrong: bad signature, violations, F/U result, non-200, or error."""
    return bool(
        entry.get("signature") in BAD_SIGNATURES
        or entry.get("request_violations")
        or entry.get("response_violations")
        or entry.get("result_status") in ("F", "U")
        or entry.get("response_status") != 200
        or entry.get("error")
    )


def bounded_text(value: Any, limit: int) -> str | None:
    """A body as text (bytes decoded leniently), cut to `limit` characters with a marker."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    if len(value) > limit:
        cut = len(value) - limit
        return f"{value[:limit]}\n[... {cut} more characters not kept by the journal]"
    return value


def headers_json(headers: Any) -> str:
    if not headers:
        return "{}"
    if type(headers) is dict:  # the common case: names are unique already
        return json.dumps(headers, ensure_ascii=False, default=str)
    # werkzeug Headers and requests' CaseInsensitiveDict both iterate as (name, value) pairs
    # through .items(); repeated names are joined as HTTP does.
    merged: dict[str, str] = {}
    for name, value in headers.items():
        merged[name] = f"{merged[name]}, {value}" if name in merged else str(value)
    return json.dumps(merged, ensure_ascii=False)


def violations_json(violations: Any) -> str:
    if not violations:
        return "[]"
    items = []
    for v in violations:
        if isinstance(v, Mapping):
            items.append(
                {
                    "pointer": v.get("pointer", ""),
                    "rule": v.get("rule", ""),
                    "message": v.get("message", ""),
                }
            )
        else:  # contracts.Violation (a dataclass / named tuple with the same three fields)
            items.append(
                {
                    "pointer": getattr(v, "pointer", ""),
                    "rule": getattr(v, "rule", ""),
                    "message": getattr(v, "message", str(v)),
                }
            )
    return json.dumps(items, ensure_ascii=False)
