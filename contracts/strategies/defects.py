"""The defects `invalid_message` plants, and planting one at a JSON pointer."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from contracts.strategies.nodes import Defect, tokens

# Defect kinds `invalid_message` can plant, with what each one does.
DEFECTS: dict[str, str] = {
    "missing-required": "a required field is removed",
    "wrong-type": "a string field holds a JSON number instead",
    "too-long": "a string field is 1-3 characters longer than its maxLength",
    "empty-optional": 'an optional string field is sent as "" (the spec says omit it or send null)',
    "bad-amount": 'an amount value is not a positive integer of minor units ("100.00", "-5", "007")',
    "bad-time": "a date-time has no offset or names an impossible date",
}
BAD_AMOUNT_VALUES = ("100.00", "-5", "007", "0", "1e3", "12 ")
BAD_TIME_VALUES = (
    "2025-01-01T12:00:00",  # no offset
    "2025-02-30T12:00:00+08:00",  # 30 February
    "2025-13-01T00:00:00+08:00",  # month 13
    "2025-01-01T25:00:00+08:00",  # hour 25
    "yesterday",
)


def defects() -> list[str]:
    """The defect kinds `invalid_message` plants, e.g. "missing-required", "bad-amount"."""
    return list(DEFECTS)


# --- planting defects --------------------------------------------------------------------------


def plant(draw: st.DrawFn, message: dict, defect: Defect) -> None:
    *parents, last = tokens(defect.pointer)
    holder: Any = message
    for token in parents:
        holder = holder[int(token)] if isinstance(holder, list) else holder[token]
    key: Any = int(last) if isinstance(holder, list) else last
    if defect.kind == "missing-required":
        del holder[key]
    elif defect.kind == "wrong-type":
        holder[key] = draw(st.sampled_from((100, 1.5)))
    elif defect.kind == "too-long":
        # keep the valid value and pad it past the limit with its own last character
        value = holder[key] or "x"
        extra = defect.limit + draw(st.integers(min_value=1, max_value=3)) - len(value)
        holder[key] = value + value[-1] * extra
    elif defect.kind == "empty-optional":
        holder[key] = ""
    elif defect.kind == "bad-amount":
        holder[key] = draw(st.sampled_from(BAD_AMOUNT_VALUES))
    elif defect.kind == "bad-time":
        holder[key] = draw(st.sampled_from(BAD_TIME_VALUES))
    else:  # pragma: no cover - guarded by invalid_message
        raise ValueError(defect.kind)
