"""The /_sim/journal query parameters (shared by the control plane and the dashboard)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.journal.store import Journal

MAX_QUERY_LIMIT = 1000

_QUERY_PARAMS = ("api", "clientId", "paymentRequestId", "problems", "limit", "before")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class BadQuery(ValueError):
    """A journal query parameter that cannot be understood."""


def parse_query(args: Mapping[str, str]) -> dict[str, Any]:
    """Turn /_sim/journal query parameters into `Journal.query` arguments; raises BadQuery."""
    unknown = sorted(set(args) - set(_QUERY_PARAMS))
    if unknown:
        raise BadQuery(f"unknown parameter(s) {unknown}; known: {list(_QUERY_PARAMS)}")
    problems = args.get("problems", "").strip().lower()
    if problems not in _TRUE + _FALSE:
        raise BadQuery(f"problems must be 1 or 0 (or true/false), not {args['problems']!r}")
    return {
        "api": args.get("api") or None,
        "client_id": args.get("clientId") or None,
        "payment_request_id": args.get("paymentRequestId") or None,
        "problems_only": problems in _TRUE,
        "limit": _int_param(args, "limit", 100, 1, MAX_QUERY_LIMIT),
        "before_id": _int_param(args, "before", None, 1, None),
    }


def _int_param(
    args: Mapping[str, str], name: str, default: int | None, low: int, high: int | None
) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise BadQuery(f"{name} must be a positive integer, not {raw!r}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadQuery(f"{name} must be {bound}, not {value}")
    return value


def page(journal: Journal, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """One page of entries and the `before` id of the next (older) page, or None at the end."""
    limit = params["limit"]
    entries = journal.query(**{**params, "limit": limit + 1})
    if len(entries) > limit:
        entries = entries[:limit]
        return entries, entries[-1]["id"]
    return entries, None
