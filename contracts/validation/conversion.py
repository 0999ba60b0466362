"""Domain rules on amounts that must agree: FX conversion under the quote, promotion savings."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts import money
from contracts.validation.domain import Scan, domain_rule, is_amount
from contracts.validation.violations import Violation


def _valid_amount(amount: Any) -> tuple[str, int] | None:
    if (
        is_amount(amount)
        and isinstance(amount["currency"], str)
        and isinstance(amount["value"], str)
        and money.is_valid_value(amount["currency"], amount["value"])
    ):
        return amount["currency"], int(amount["value"])
    return None


def _savings(
    message: dict[str, Any], promo_field: str, target_field: str
) -> tuple[list[Violation], int]:
    """Check promotion savings against the target amount; return (violations, total savings)."""
    violations: list[Violation] = []
    promo = message.get(promo_field)
    target = _valid_amount(message.get(target_field))
    details = promo.get("paymentPromoDetails") if isinstance(promo, dict) else None
    if not isinstance(details, list) or target is None:
        return violations, 0
    total = 0
    for index, detail in enumerate(details):
        savings = _valid_amount(detail.get("savingsAmount") if isinstance(detail, dict) else None)
        if savings is None:
            continue
        where = f"/{promo_field}/paymentPromoDetails/{index}/savingsAmount"
        if savings[0] != target[0]:
            violations.append(
                Violation(
                    f"{where}/currency",
                    "promo.currency",
                    f"{where}/currency: savings are in the {target_field} currency "
                    f"{target[0]}, not {savings[0]}",
                )
            )
            continue
        total += savings[1]
        if savings[1] > target[1]:
            violations.append(
                Violation(
                    f"{where}/value",
                    "promo.savings-exceed",
                    f"{where}/value: savings of {money.format_major(savings[1], savings[0])} "
                    f"exceed {target_field} {money.format_major(target[1], target[0])}",
                )
            )
    if total > target[1] and not any(v.rule == "promo.savings-exceed" for v in violations):
        violations.append(
            Violation(
                f"/{promo_field}",
                "promo.savings-exceed",
                f"/{promo_field}: total savings {money.format_major(total, target[0])} exceed "
                f"{target_field} {money.format_major(target[1], target[0])}",
            )
        )
    return violations, total


def _conversion(
    message: dict[str, Any],
    source_field: str,
    target_field: str,
    quote_field: str,
    promo_field: str,
    rule_prefix: str,
    quote_travels: bool = True,
) -> Iterator[Violation]:
    """target == source converted under the quote, within one minor unit.

    Alipay+ ("Understand different amounts"): payToAmount = paymentAmount x quotePrice, and
    paymentAmount already excludes the promotion. A wallet-side reading where paymentAmount
    still includes it (so payToAmount + savings = paymentAmount x quotePrice) is also accepted;
    both describe the same debit (docs/contracts.md).
    """
    promo_violations, savings = _savings(message, promo_field, target_field)
    yield from promo_violations
    source = _valid_amount(message.get(source_field))
    target = _valid_amount(message.get(target_field))
    if source is None or target is None:
        return
    quote = message.get(quote_field)
    where = f"/{target_field}/value"
    readings = [target[1], target[1] + savings] if savings else [target[1]]
    saved = (
        f" (or {money.format_major(target[1] + savings, target[0])} with the savings added back)"
        if savings
        else ""
    )
    if source[0] == target[0]:
        if source[1] not in readings:
            yield Violation(
                where,
                f"{rule_prefix}.same-currency",
                f"{where}: {target_field} {money.format_major(target[1], target[0])}{saved} "
                f"should equal {source_field} {money.format_major(source[1], source[0])} "
                "(same currency, no conversion)",
            )
        return
    if not isinstance(quote, dict):
        if quote_travels and rule_prefix == "quote":
            yield Violation(
                f"/{quote_field}",
                "quote.missing",
                f"/{quote_field}: {source_field} is in {source[0]} and {target_field} in "
                f"{target[0]}, so a {quote_field} is needed",
            )
        return
    pair, price_text = quote.get("quoteCurrencyPair"), quote.get("quotePrice")
    if not isinstance(pair, str) or not isinstance(price_text, str):
        return
    try:
        base, counter = money.parse_pair(pair)
        price = Decimal(price_text)
    except (ValueError, InvalidOperation):
        return  # the schema reports the malformed pair or price
    if {base, counter} != {source[0], target[0]}:
        yield Violation(
            f"/{quote_field}/quoteCurrencyPair",
            "quote.pair",
            f"/{quote_field}/quoteCurrencyPair: {pair} does not convert {source[0]} into "
            f"{target[0]}",
        )
        return
    if price <= 0 or not price.is_finite():
        return
    expected = money.convert_exact(source[1], source[0], target[0], price, pair)
    if all(abs(Decimal(reading) - expected) > 1 for reading in readings):
        rounded = money.convert(source[1], source[0], target[0], price, pair)
        yield Violation(
            where,
            f"{rule_prefix}.mismatch",
            f"{where}: {source_field} {money.format_major(source[1], source[0])} at {pair} "
            f"{price_text} is {money.format_major(rounded, target[0])}, but "
            f"{target_field} is {money.format_major(target[1], target[0])}{saved}",
        )


@domain_rule(("userInitiatedPay", "response"))
def _decode_amounts(
    api: str, kind: str, message: dict[str, Any], scan: Scan
) -> Iterator[Violation]:
    yield from _conversion(
        message, "paymentAmount", "payToAmount", "paymentQuote", "paymentPromoInfo", "quote"
    )


@domain_rule(("notifyPayment", "request"), ("inquiryPayment", "response"))
def _echoed_amounts(
    api: str, kind: str, message: dict[str, Any], scan: Scan
) -> Iterator[Violation]:
    # No quote travels here; only same-currency consistency and promotions can be checked.
    yield from _conversion(
        message,
        "paymentAmount",
        "payToAmount",
        "paymentQuote",
        "paymentPromoInfo",
        "quote",
        quote_travels=False,
    )


@domain_rule(("refund", "request"))
def _refund_amounts(
    api: str, kind: str, message: dict[str, Any], scan: Scan
) -> Iterator[Violation]:
    yield from _conversion(
        message, "refundAmount", "refundFromAmount", "refundQuote", "refundPromoInfo", "refund"
    )


@domain_rule()
def _quote_currencies(
    api: str, kind: str, message: dict[str, Any], scan: Scan
) -> Iterator[Violation]:
    for where, value in scan.pairs:
        try:
            codes = money.parse_pair(value)
        except ValueError:
            continue
        unknown = [c for c in codes if not money.is_currency(c)]
        if unknown:
            yield Violation(
                where,
                "quote.pair",
                f"{where}: {', '.join(unknown)} in {value} is not an active ISO 4217 code",
            )
