"""Money on the wire: ISO 4217 exponents, minor-unit amount strings, FX conversion and rounding."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import cache
from pathlib import Path

_ISO4217 = Path(__file__).with_name("data") / "iso4217.json"
# Alipay+ amount values: a positive integer in minor units, at most 16 digits, no sign, no
# leading zeros, no decimals (spec §2.5).
_VALUE = re.compile(r"[1-9][0-9]{0,15}")
MAX_VALUE_LENGTH = 16
_PAIR = re.compile(r"([A-Z]{3})/([A-Z]{3})")
# Enough digits for 16-digit amounts times prices with many decimals, without rounding.
_CTX = Context(prec=60, rounding=ROUND_HALF_UP)


@cache
def _table() -> dict[str, int | None]:
    data = json.loads(_ISO4217.read_text(encoding="utf-8"))
    return {code: entry["exponent"] for code, entry in data["currencies"].items()}


@cache
def _names() -> dict[str, str]:
    data = json.loads(_ISO4217.read_text(encoding="utf-8"))
    return {code: entry["name"] for code, entry in data["currencies"].items()}


def currencies() -> list[str]:
    """All ISO 4217 codes that can carry an amount (those with a minor unit), sorted."""
    return sorted(code for code, exp in _table().items() if exp is not None)


def is_currency(currency: str) -> bool:
    """True if `currency` is an active ISO 4217 code with a minor unit."""
    return _table().get(currency) is not None


def currency_name(currency: str) -> str:
    """The ISO 4217 name of `currency`; KeyError if unknown."""
    return _names()[currency]


def exponent(currency: str) -> int:
    """ISO 4217 minor unit (decimal places) of `currency`; KeyError if unknown or it has none."""
    table = _table()
    if currency not in table:
        raise KeyError(f"{currency!r} is not an active ISO 4217 currency code")
    exp = table[currency]
    if exp is None:
        raise KeyError(f"{currency!r} has no minor unit in ISO 4217 and cannot carry an amount")
    return exp


def is_valid_value(currency: str, value: str) -> bool:
    """True if `value` is a valid Alipay+ amount value (positive minor units) for `currency`."""
    return isinstance(value, str) and is_currency(currency) and _VALUE.fullmatch(value) is not None


def to_major(value_minor: int, currency: str) -> Decimal:
    """Minor units to an exact Decimal in major units: to_major(1050, "USD") == Decimal("10.50")."""
    return _CTX.scaleb(Decimal(value_minor), -exponent(currency))


def to_minor(value_major: Decimal, currency: str) -> int:
    """Major units to minor units, rounding half-up to the currency's minor unit."""
    exp = exponent(currency)
    scaled = _CTX.scaleb(Decimal(value_major), exp)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_CTX))


def format_major(value_minor: int, currency: str) -> str:
    """Human form, e.g. format_major(10000, "USD") == "100.00 USD"."""
    return f"{to_major(value_minor, currency)} {currency}"


def parse_pair(pair: str) -> tuple[str, str]:
    """Split a quoteCurrencyPair "JPY/KRW" into ("JPY", "KRW"); ValueError if malformed."""
    match = _PAIR.fullmatch(pair) if isinstance(pair, str) else None
    if match is None:
        raise ValueError(f"{pair!r} is not a currency pair like 'JPY/KRW'")
    return match.group(1), match.group(2)


def rate(from_ccy: str, to_ccy: str, quote_price: Decimal, pair: str) -> Decimal:
    """Major units of `to_ccy` per major unit of `from_ccy` under a quote on `pair`.

    A pair "JPY/KRW" with price 9.05 means 1 JPY = 9.05 KRW, so JPY->KRW multiplies by 9.05 and
    KRW->JPY divides by it.
    """
    base, quote = parse_pair(pair)
    price = Decimal(quote_price)
    if price <= 0:
        raise ValueError(f"quote price must be positive, got {quote_price}")
    if (from_ccy, to_ccy) == (base, quote):
        return price
    if (from_ccy, to_ccy) == (quote, base):
        return _CTX.divide(Decimal(1), price)
    raise ValueError(f"the pair {pair} does not convert {from_ccy} into {to_ccy}")


def convert_exact(
    value_minor: int, from_ccy: str, to_ccy: str, quote_price: Decimal, pair: str
) -> Decimal:
    """The unrounded converted amount in minor units of `to_ccy` (for tolerance checks)."""
    if from_ccy == to_ccy:
        return Decimal(value_minor)
    major = _CTX.multiply(
        to_major(value_minor, from_ccy), rate(from_ccy, to_ccy, quote_price, pair)
    )
    return _CTX.scaleb(major, exponent(to_ccy))


def convert(value_minor: int, from_ccy: str, to_ccy: str, quote_price: Decimal, pair: str) -> int:
    """Convert minor units of `from_ccy` to minor units of `to_ccy`, rounding half-up.

    Works in major units via the ISO 4217 exponents, honouring which side of `pair` is the base:
    convert(1000, "JPY", "KRW", Decimal("9.05"), "JPY/KRW") == 9050.
    """
    exact = convert_exact(value_minor, from_ccy, to_ccy, quote_price, pair)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_CTX))
