"""Domain rules on single fields: amounts in minor units, body date-times."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts import money
from contracts.validation.domain import Scan, domain_rule
from contracts.validation.violations import Violation

_MINOR_UNITS = re.compile(r"[1-9][0-9]{0,15}")
_MINOR_NAMES = {0: "whole units", 2: "hundredths (cents)", 3: "thousandths", 4: "ten-thousandths"}


@domain_rule()
def _amounts(api: str, kind: str, message: dict[str, Any], scan: Scan) -> Iterator[Violation]:
    for where, amount in scan.amounts:
        currency, value = amount["currency"], amount["value"]
        exp: int | None = None
        if isinstance(currency, str) and currency:
            if money.is_currency(currency):
                exp = money.exponent(currency)
            else:
                yield Violation(
                    f"{where}/currency",
                    "amount.currency",
                    f"{where}/currency: {_currency_text(currency)}",
                )
        yield from _amount_value(f"{where}/value", currency, exp, value)


def _currency_text(currency: str) -> str:
    if money.is_currency(currency.upper()):
        return f"{currency!r} is not an ISO 4217 code; codes are upper case: {currency.upper()!r}"
    try:
        money.exponent(currency)
    except KeyError as exc:
        if "minor unit" in str(exc.args[0]):
            return str(exc.args[0])
    return f"{currency!r} is not an active ISO 4217 currency code (e.g. USD, JPY, KRW)"


def _amount_value(where: str, currency: Any, exp: int | None, value: Any) -> Iterator[Violation]:
    rule = "amount.minor-units"
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield Violation(
                where,
                rule,
                f"{where}: amount values are JSON strings of minor units, "
                f'e.g. "{int(value) if value == int(value) else value}", '
                f"not the JSON number {value}",
            )
        return
    if value == "" or _MINOR_UNITS.fullmatch(value):
        return  # "" is reported by string.empty
    label = f"{where}: {value!r}"
    if exp is not None:
        unit = _MINOR_NAMES.get(exp, f"1/{10**exp}")
        hint = f"{currency} amounts are sent in {unit}"
    else:
        hint = "amounts are sent as an integer number of the currency's minor unit"
    try:
        number = Decimal(value.strip())
        finite = number.is_finite()
    except InvalidOperation:
        number, finite = None, False
    if not finite or number is None or value.strip() != value:
        yield Violation(where, rule, f'{label} is not a number; {hint}, e.g. "100"')
        return
    if number <= 0:
        yield Violation(
            where, rule, f"{label} is not positive; amounts must be at least 1 minor unit"
        )
        return
    if number != number.to_integral_value() or "." in value or "e" in value.lower():
        if exp is not None:
            minor = number.scaleb(exp)
            example = (
                f', e.g. "{int(minor)}" for {money.format_major(int(minor), currency)}'
                if minor == minor.to_integral_value()
                else f"; {number} {currency} has more decimals than the currency allows"
            )
        else:
            example = ""
        yield Violation(
            where, rule, f"{label} is not an integer number of minor units; {hint}{example}"
        )
        return
    if value.startswith(("+", "-")):
        yield Violation(where, rule, f"{label} has a sign; send digits only, e.g. {value[1:]!r}")
    elif value.startswith("0"):
        yield Violation(where, rule, f"{label} has leading zeros; send {str(int(value))!r}")
    elif len(value) > money.MAX_VALUE_LENGTH:
        yield Violation(where, rule, f"{label} is longer than {money.MAX_VALUE_LENGTH} digits")
    else:
        yield Violation(where, rule, f"{label} is not a valid amount; {hint}")


_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def parse_datetime(value: str) -> datetime:
    """Parse a body date-time (ISO 8601 with seconds and an offset); ValueError explains why not."""
    if not _DATETIME.fullmatch(value):
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+", value):
            raise ValueError("has no UTC offset; add one, e.g. +08:00 or Z")
        raise ValueError("is not an ISO 8601 date-time like 2020-01-01T12:01:01+08:30")
    text = value
    fraction = re.search(r"\.([0-9]+)", text)
    if fraction and len(fraction.group(1)) > 6:  # datetime keeps microseconds only
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            "is not a real date and time (check day, month, hour and offset)"
        ) from None
    if parsed.utcoffset() is None:  # pragma: no cover - the pattern requires an offset
        raise ValueError("has no UTC offset")
    return parsed


@domain_rule()
def _datetimes(api: str, kind: str, message: dict[str, Any], scan: Scan) -> Iterator[Violation]:
    for where, value in scan.datetimes:
        try:
            parse_datetime(value)
        except ValueError as exc:
            yield Violation(where, "datetime.format", f"{where}: {value!r} {exc}")
