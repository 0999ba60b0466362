"""One amount vocabulary for every wallet screen.

- **Order amount**: `order.orderAmount`, what the merchant asked before any discount;
- **Discount**: what a promotion takes off (`orderAmount - paymentAmount` in the order
  currency; each promotion's `savingsAmount` is in the wallet currency);
- **Paid** (**To pay** before the user confirms): `paymentAmount`, in the order currency;
- **Surcharge**: `surchargeInfo.surchargeAmount - payToAmount`, when Alipay+ adds one;
- **Wallet debits**: what leaves the user's balance, in the wallet currency (`payToAmount`, or
  `surchargeAmount` when there is a surcharge: "Understand different amounts").
Values are shown in major units with the currency's decimals and thousands separators.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts import money


def format_minor(value: int, currency: str) -> str:
    """'2,500 JPY' / '1,234.50 USD' from minor units."""
    try:
        exponent = money.exponent(currency)
    except KeyError:  # not an ISO 4217 currency: show the raw minor units
        return f"{value:,} {currency}"
    sign = "-" if value < 0 else ""
    major, minor = divmod(abs(value), 10**exponent)
    text = f"{major:,}" if exponent == 0 else f"{major:,}.{minor:0{exponent}d}"
    return f"{sign}{text} {currency}"


def format_amount(amount: Any) -> str:
    """An Amount object as text ('' when absent or malformed)."""
    if not isinstance(amount, dict):
        return ""
    try:
        return format_minor(int(amount["value"]), str(amount["currency"]))
    except (KeyError, TypeError, ValueError):
        return ""


def format_price(price: Any) -> str:
    """A quote price without padding zeros: '9.05', '0.0007407', '1,320.5'."""
    try:
        value = Decimal(str(price))
    except InvalidOperation:
        return str(price)
    value = value.quantize(Decimal("0.0001")) if value >= 1 else Decimal(f"{value:.4g}")
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_quote(quote: Any) -> str:
    """'1 JPY = 9.05 KRW' from a Quote object."""
    if not isinstance(quote, dict):
        return ""
    pair = str(quote.get("quoteCurrencyPair") or "")
    base, _, counter = pair.partition("/")
    if not counter:
        return f"{pair} {format_price(quote.get('quotePrice'))}".strip()
    return f"1 {base} = {format_price(quote.get('quotePrice'))} {counter}"


@dataclass(frozen=True)
class Line:
    """One row of the amounts table."""

    label: str
    text: str
    element_id: str
    note: str = ""


def _minor(amount: Any) -> tuple[str, int] | None:
    try:
        return str(amount["currency"]), int(amount["value"])
    except (KeyError, TypeError, ValueError):
        return None


def _discount(order: Any, payment: Any, promos: list[dict[str, Any]]) -> Line | None:
    names = ", ".join(str(p.get("promoName") or p.get("promoId") or "") for p in promos)
    names = names.strip(", ") or "Promotion"
    in_wallet = [format_amount(p.get("savingsAmount")) for p in promos]
    note = f"{names}" + (f" (saves {', '.join(t for t in in_wallet if t)})" if promos else "")
    if order and payment and order[0] == payment[0] and order[1] > payment[1]:
        text = "− " + format_minor(order[1] - payment[1], order[0])
        return Line("Discount", text, "discount", note)
    if promos:  # orderAmount absent or in another currency: the savings in the wallet currency
        text = "− " + ", ".join(t for t in in_wallet if t)
        return Line("Discount", text, "discount", names)
    return None


def breakdown(decoded: dict[str, Any], debit: dict[str, Any], paid: bool) -> list[Line]:
    """The amounts of a decoded payment, in the wallet's vocabulary (cashier and result)."""
    order_amount = (decoded.get("order") or {}).get("orderAmount") or decoded.get("paymentAmount")
    promos = (decoded.get("paymentPromoInfo") or {}).get("paymentPromoDetails") or []
    promos = [p for p in promos if isinstance(p, dict)]
    lines = [Line("Order amount", format_amount(order_amount), "order-amount")]
    discount = _discount(_minor(order_amount), _minor(decoded.get("paymentAmount")), promos)
    if discount:
        lines.append(discount)
    lines.append(
        Line("Paid" if paid else "To pay", format_amount(decoded.get("paymentAmount")), "paid")
    )
    quote = decoded.get("paymentQuote")
    if quote:
        lines.append(Line("Exchange rate", format_quote(quote), "fx-rate"))
    pay_to, charged = _minor(decoded.get("payToAmount")), _minor(debit)
    if pay_to and charged and charged[0] == pay_to[0] and charged[1] > pay_to[1]:
        surcharge = decoded.get("surchargeInfo") or {}
        note = format_quote(surcharge.get("surchargeQuote"))
        text = "+ " + format_minor(charged[1] - pay_to[1], pay_to[0])
        lines.append(Line("Surcharge", text, "surcharge", f"at {note}" if note else ""))
    lines.append(Line("Wallet debits", format_amount(debit), "wallet-debits"))
    return lines
