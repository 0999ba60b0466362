"""Magic values (data in contracts/data/magic_values.json): message values that force a result.

Wallet teams use the same names in their own suites, e.g. ``magic.customer_id("U",
"UNKNOWN_EXCEPTION")`` as the customerId of a userInitiatedPay, or ``magic.amount("notifyPayment",
"UNKNOWN_EXCEPTION")`` as the order amount whose notifyPayment is answered U.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

_DATA = Path(__file__).with_name("data") / "magic_values.json"
RESULT_HEADER = "X-Aplus-Sim-Result"
FAULT_HEADER = "X-Aplus-Sim-Fault"


@dataclass(frozen=True)
class MagicValue:
    """One entry: the `value` of `field` in a call of `api` gets `effect`."""

    api: str
    field: str
    value: str
    effect: dict[str, Any] = field(hash=False)

    @property
    def name(self) -> str:
        """A stable name, e.g. "notifyPayment.amount.U.UNKNOWN_EXCEPTION"."""
        if self.effect["kind"] == "result":
            tail = f"{self.effect['resultStatus']}.{self.effect['resultCode']}"
        else:
            tail = self.effect["kind"]
        return f"{self.api}.{self.field}.{tail}"


@cache
def table() -> dict[str, Any]:
    """The whole data file (description, fields, reserved ranges, headers, values)."""
    return json.loads(_DATA.read_text(encoding="utf-8"))


@cache
def values() -> tuple[MagicValue, ...]:
    """Every magic value, in table order."""
    return tuple(MagicValue(**row) for row in table()["values"])


@cache
def _index() -> dict[tuple[str, str, str], MagicValue]:
    return {(v.api, v.field, v.value): v for v in values()}


def lookup(api: str, field_name: str, value: Any) -> MagicValue | None:
    """The magic value `value` of `field_name` in a call of `api`, if it is one."""
    if not isinstance(value, str):
        return None
    return _index().get((api, field_name, value))


def is_reserved_amount(value: Any) -> bool:
    """Whether an order amount (minor units, as text) lies in the reserved range."""
    bounds = table()["reservedAmounts"]
    return isinstance(value, str) and value.isdigit() and bounds["from"] <= value <= bounds["to"]


def _find(api: str, field_name: str, code_or_kind: str) -> MagicValue:
    for v in values():
        if v.api != api or v.field != field_name:
            continue
        kind = v.effect["kind"]
        if (kind == "result" and v.effect["resultCode"] == code_or_kind) or kind == code_or_kind:
            return v
    raise KeyError(f"no magic {field_name} for {api} {code_or_kind}")


def customer_id(status: str, code: str) -> str:
    """The customerId that makes userInitiatedPay answer `status`/`code`."""
    found = _find("userInitiatedPay", "customerId", code)
    if found.effect["resultStatus"] != status:
        raise KeyError(f"{code} is {found.effect['resultStatus']} in the catalogue, not {status}")
    return found.value


def jar_version(code: str) -> str:
    """The jarVersion that makes inquiryCodeRules answer `code`."""
    return _find("inquiryCodeRules", "jarVersion", code).value


def amount(api: str, code_or_kind: str) -> str:
    """The order amount (minor units) whose `api` call gets the result code or effect kind."""
    return _find(api, "amount", code_or_kind).value


def fault_customer_id(kind: str) -> str:
    """The customerId that gives userInitiatedPay the transport effect `kind`."""
    return _find("userInitiatedPay", "customerId", kind).value
