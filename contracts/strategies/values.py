"""Values with meaning beyond their schema, and making the amounts of a message agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from contracts import money

# --- values with meaning beyond their schema ---------------------------------------------------


def date_times() -> SearchStrategy[str]:
    """ISO 8601 date-times with a UTC offset, e.g. 2025-01-01T12:00:00+08:00."""
    offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: q * 15)
    moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
    return st.builds(_format_time, moments, offsets)


def _format_time(moment: datetime, offset_minutes: int) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    return moment.replace(microsecond=0, tzinfo=zone).isoformat()


@cache
def _currencies() -> tuple[str, ...]:
    return tuple(money.currencies())


def currencies() -> SearchStrategy[str]:
    """ISO 4217 codes the contract knows."""
    return st.sampled_from(_currencies())


def urls() -> SearchStrategy[str]:
    """Plausible absolute https URLs, e.g. https://shop-3.example/return/ab12."""
    label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
    path = st.lists(label, max_size=3).map("/".join)
    return st.builds("https://{}.example/{}".format, label, path)


def currency_pairs() -> SearchStrategy[str]:
    """Pairs of two different known currencies, e.g. JPY/KRW."""
    pairs = st.lists(currencies(), min_size=2, max_size=2, unique=True)
    return pairs.map("/".join)


def amounts() -> SearchStrategy[dict]:
    """Amount objects: a known currency and a positive integer of its minor units."""
    values = st.integers(min_value=1, max_value=10**9).map(str)
    return st.fixed_dictionaries({"currency": currencies(), "value": values})


def quote_prices() -> SearchStrategy[Decimal]:
    """FX prices with 8 decimals between 0.01 and 2000 (as the sandbox quotes them)."""
    return st.integers(min_value=10**6, max_value=2000 * 10**8).map(lambda n: Decimal(n) / 10**8)


# --- domain consistency ------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """Amounts that belong together: target = source converted under the quote.

    As Alipay+ documents it, the source (paymentAmount) already excludes the promotion, and the
    savings are in the target's currency and not above it.
    """

    source: str
    target: str
    quote: str
    promo: str


# As contracts.validation checks them (spec §2.9, §4.3, §4.7, §10).
CONVERSIONS = (
    Conversion("paymentAmount", "payToAmount", "paymentQuote", "paymentPromoInfo"),
    Conversion("refundAmount", "refundFromAmount", "refundQuote", "refundPromoInfo"),
)


def make_consistent(draw: st.DrawFn, obj: dict, quote_strategy: QuoteFactory) -> None:
    """Make the amounts of one object agree: currencies, FX conversion, promotion savings.

    `quote_strategy(name)` gives a strategy for a missing quote field when the object's schema
    has one (None otherwise): different currencies then travel with a quote, as on the wire.
    """
    for family in CONVERSIONS:
        source, target = obj.get(family.source), obj.get(family.target)
        details = _savings_details(obj.get(family.promo))
        needed = 2 * len(details) or 1  # each saving >= 1, all of them <= half the target
        if not _is_amount(source) or not _is_amount(target):
            if _is_amount(target) and details:
                _spread_savings(draw, details, _at_least(target, needed))
            continue
        quote = obj.get(family.quote)
        if not isinstance(quote, dict) and source["currency"] != target["currency"]:
            extra = quote_strategy(family.quote)
            if extra is not None:
                quote = obj[family.quote] = draw(extra)
        if isinstance(quote, dict):
            if target["currency"] == source["currency"]:
                others = [c for c in _currencies() if c != source["currency"]]
                target["currency"] = draw(st.sampled_from(others))
            converted = _fix_quote(draw, source, target["currency"], quote, needed)
        elif source["currency"] == target["currency"]:
            converted = int(_at_least(source, needed)["value"])
        else:  # no quote travels (notifyPayment, inquiryPayment): only savings <= target
            _spread_savings(draw, details, _at_least(target, needed))
            continue
        target["value"] = str(converted)
        _spread_savings(draw, details, target)


QuoteFactory = Callable[[str], "SearchStrategy[dict] | None"]


def _fix_quote(draw: st.DrawFn, source: dict, to_ccy: str, quote: dict, needed: int) -> int:
    """Draw a pair and price for `quote`; return source converted (at least `needed`)."""
    from_ccy = source["currency"]
    price = draw(quote_prices())
    base, counter = (from_ccy, to_ccy) if draw(st.booleans()) else (to_ccy, from_ccy)
    pair = f"{base}/{counter}"
    value = int(source["value"])
    converted = money.convert(value, from_ccy, to_ccy, price, pair)
    while converted < needed:
        value *= 10
        converted = money.convert(value, from_ccy, to_ccy, price, pair)
    source["value"] = str(value)
    quote["quoteCurrencyPair"] = pair
    quote["quotePrice"] = format(price, "f")
    if "baseCurrency" in quote:
        quote["baseCurrency"] = base
    return converted


def _savings_details(promo: Any) -> list[dict]:
    details = promo.get("paymentPromoDetails") if isinstance(promo, dict) else None
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict) and _is_amount(d.get("savingsAmount"))]


def _at_least(amount: dict, needed: int) -> dict:
    """Scale an amount by tens until it is at least `needed` minor units."""
    while int(amount["value"]) < needed:
        amount["value"] = str(int(amount["value"]) * 10)
    return amount


def _spread_savings(draw: st.DrawFn, details: list[dict], target: dict) -> int:
    """Savings in the target currency, each >= 1, adding up to at most half of it; the total."""
    room = int(target["value"]) // 2
    total = 0
    for index, detail in enumerate(details):
        left_for_others = len(details) - index - 1
        value = draw(st.integers(min_value=1, max_value=max(1, room - left_for_others)))
        room -= value
        total += value
        detail["savingsAmount"] = {"currency": target["currency"], "value": str(value)}
    return total


def _is_amount(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("value"), str) and "currency" in value
