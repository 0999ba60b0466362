"""What every dashboard page shares: the blueprint, display helpers, the page context."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request, url_for

from contracts import money
from simulator.state import current
from simulator.ui.explain import explain, short_error

bp = Blueprint("ui", __name__, url_prefix="/_sim/ui")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def show_time(value: Any) -> str:
    """A time as UTC to the millisecond (times of several offsets line up when compared)."""
    parsed = value if isinstance(value, datetime) else parse_time(value)
    if parsed is None:
        return str(value or "")
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def pretty(body: str | None) -> str:
    """A body for reading: indented if it is JSON, as received otherwise."""
    if body is None:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def amount_text(amount: Any) -> str:
    """{"currency": "USD", "value": "1050"} as "10.50 USD" (the value is in minor units)."""
    if not isinstance(amount, dict) or "value" not in amount:
        return ""
    currency, value = amount.get("currency", ""), amount.get("value", "")
    try:
        return money.format_major(int(value), currency)
    except (KeyError, ValueError, TypeError):
        return f"{value} {currency} (minor units)"


def decorate(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry plus what the templates show: reasons, readable bodies, display time."""
    return {
        **entry,
        "reasons": explain(entry) if entry["problem"] else [],
        "error_short": short_error(entry.get("error"), 40),
        "shown_time": show_time(entry["time"]),
        "request_pretty": pretty(entry["request_body"]),
        "response_pretty": pretty(entry.get("response_body")),
    }


def _refresh_seconds() -> int | None:
    """?refresh=N reloads the page every N seconds (2 to 3600), for watching a test run."""
    raw = request.args.get("refresh", "")
    return min(max(int(raw), 2), 3600) if raw.isdigit() else None


def sim_context() -> dict[str, Any]:
    sim = current()
    clock = sim.clock
    args = {k: v for k, v in request.args.items() if k != "refresh"}
    refresh = _refresh_seconds()
    toggle = {} if refresh else {"refresh": 5}
    return {
        "now": show_time(clock.now()) if clock is not None else "",
        "clock_mode": getattr(clock, "mode", "real"),
        "refresh": refresh,
        "refresh_toggle_url": url_for(
            request.endpoint, **(request.view_args or {}), **args, **toggle
        ),
    }


@bp.app_template_filter("ui_amount")
def _amount_filter(amount: Any) -> str:
    return amount_text(amount)


@bp.app_template_filter("ui_utc")
def _utc_filter(value: Any) -> str:
    return show_time(value)
