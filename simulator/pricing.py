"""FX quotes, promotions and the demo merchants: how an order's amounts are computed.

The amounts follow Alipay+'s "Understand different amounts" page
(docs.alipayplus.com/alipayplus/alipayplus/integration_auto_debit_mpp/understand_amounts):

- `order.orderAmount`: the merchant's original amount (what `POST /_sim/orders` was given);
- `paymentAmount`: what Alipay+ requests, in the order currency; "if promotion exists, this is
  the amount that excludes the promotion amount" (= orderAmount when there is no promotion);
- `payToAmount`: in the wallet's currency, `paymentAmount x quotePrice` rounded half-up to the
  wallet currency's minor unit (`contracts.money.convert`) -- what the wallet debits the user;
- `paymentPromoInfo.paymentPromoDetails[].savingsAmount`: what the user saves, in the
  payToAmount currency: the order amount converted at the same quote minus payToAmount, so
  `orderAmount x quotePrice = payToAmount + savings` exactly.

A promotion's own rule (fixtures/demo/promotions.json) says how much it saves in the wallet
currency; that saving is converted back into the order currency at the payment's quote (half
up) and taken off the order amount to give paymentAmount.

Data: fixtures/demo/merchants.json, fx_rates.json, promotions.json (read once, cached).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from contracts import money
from contracts.wire import ALIPAY_TZ

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


class PricingError(ValueError):
    """An order that cannot be priced; `code` is the protocol's name for why."""

    def __init__(self, message: str, code: str = "PARAM_ILLEGAL") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Priced:
    """The amounts of one order."""

    payment_amount: dict[str, str]
    pay_to_amount: dict[str, str]
    quote: dict[str, str] | None
    promo_info: dict[str, Any] | None


def _load(name: str) -> Any:
    path = DEMO / name
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    """The list of records in a fixture file, whether it is a bare list or {key: [...]}."""
    if data is None:
        return []
    if isinstance(data, list):
        return data
    value = data.get(key)
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # {key: {id: record}}
        return [{**item, "_id": ident} for ident, item in value.items()]
    return []


# -- merchants ---------------------------------------------------------------------------------


@cache
def merchants() -> list[dict[str, Any]]:
    """The demo merchants (fixtures/demo/merchants.json)."""
    return _items(_load("merchants.json"), "merchants")


def merchant_ids() -> list[str]:
    """Ids of the demo merchants."""
    return [m["referenceMerchantId"] for m in merchants()]


def merchant(merchant_id: str | None) -> dict[str, Any] | None:
    """A demo merchant by referenceMerchantId (the first one when None)."""
    known = merchants()
    if not known:
        raise PricingError("no demo merchants: fixtures/demo/merchants.json is missing")
    if merchant_id is None:
        return known[0]
    return next((m for m in known if m["referenceMerchantId"] == merchant_id), None)


MERCHANT_FIELDS = (
    "referenceMerchantId",
    "merchantMCC",
    "merchantName",
    "merchantDisplayName",
    "merchantAddress",
    "merchantRegisterDate",
    "store",
)


def order_merchant(record: dict[str, Any]) -> dict[str, Any]:
    """The `order.merchant` object for a demo merchant (wire fields only)."""
    return {name: record[name] for name in MERCHANT_FIELDS if record.get(name) is not None}


# -- FX ----------------------------------------------------------------------------------------


@cache
def fx_rates() -> dict[str, Decimal]:
    """{"JPY/KRW": Decimal("9.05000000"), ...} from fixtures/demo/fx_rates.json."""
    data = _load("fx_rates.json")
    table: dict[str, Decimal] = {}
    raw = data.get("rates", data.get("pairs")) if isinstance(data, dict) else data
    if isinstance(raw, dict):
        entries = [{"pair": pair, "price": price} for pair, price in raw.items()]
    else:
        entries = raw or []
    for entry in entries:
        pair = entry.get("pair") or entry.get("quoteCurrencyPair")
        price = entry.get("price") or entry.get("quotePrice")
        if isinstance(price, dict):
            price = price.get("price") or price.get("quotePrice")
        table[pair] = Decimal(str(price))
    return table


def quote_for(from_ccy: str, to_ccy: str, now: datetime) -> dict[str, str]:
    """A paymentQuote converting `from_ccy` into `to_ccy` (either side of the table's pair)."""
    table = fx_rates()
    for pair in (f"{from_ccy}/{to_ccy}", f"{to_ccy}/{from_ccy}"):
        if pair in table:
            day = now.astimezone(ALIPAY_TZ).strftime("%Y%m%d")
            # One quote id per pair and day, shaped like the sandbox's (20241018C0000000).
            return {
                "quoteId": f"{day}C{zlib.crc32(pair.encode()) % 10_000_000:07d}",
                "quoteCurrencyPair": pair,
                "quotePrice": format(table[pair], "f"),
            }
    raise PricingError(
        f"no FX rate between {from_ccy} and {to_ccy} in fixtures/demo/fx_rates.json",
        "CURRENCY_NOT_SUPPORT",
    )


def convert(value_minor: int, from_ccy: str, to_ccy: str, quote: dict[str, str] | None) -> int:
    """Minor units of `from_ccy` in `to_ccy` under `quote` (identity for one currency)."""
    if from_ccy == to_ccy or quote is None:
        return value_minor
    return money.convert(
        value_minor, from_ccy, to_ccy, Decimal(quote["quotePrice"]), quote["quoteCurrencyPair"]
    )


# -- promotions --------------------------------------------------------------------------------


@cache
def promotions() -> dict[str, dict[str, Any]]:
    """The demo promotions by promoId (fixtures/demo/promotions.json)."""
    return {
        p.get("promoId") or p.get("_id"): p for p in _items(_load("promotions.json"), "promotions")
    }


def promotion(promo_id: Any, inline: Any) -> dict[str, Any] | None:
    """The promotion an order asks for: a demo promoId, or an inline definition."""
    if inline is not None:
        if not isinstance(inline, dict) or not inline.get("promoId"):
            raise PricingError("promotion must be an object with at least a promoId")
        return inline
    if promo_id is None:
        return None
    found = promotions().get(promo_id)
    if found is None:
        raise PricingError(f"promoId {promo_id!r} is not one of {sorted(promotions())}")
    return found


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PricingError(f"{what} {value!r} is not a number") from None


def _savings(
    promo: dict[str, Any],
    order_minor: int,
    order_ccy: str,
    wallet_ccy: str,
    quote: Any,
    now: datetime,
) -> int | None:
    """What the promotion saves, in wallet-currency minor units (None: it does not apply)."""
    minimum = promo.get("minAmount") or promo.get("minOrderAmount")
    if isinstance(minimum, dict):
        min_ccy, min_minor = minimum["currency"], int(minimum["value"])
        if min_ccy == wallet_ccy:
            reached = convert(order_minor, order_ccy, wallet_ccy, quote) >= min_minor
        else:
            try:
                min_quote = None if min_ccy == order_ccy else quote_for(min_ccy, order_ccy, now)
            except PricingError:
                return None  # no way to compare: the promotion is for other currencies
            reached = order_minor >= convert(min_minor, min_ccy, order_ccy, min_quote)
        if not reached:
            return None
    percent = promo.get("percent", promo.get("percentage", promo.get("discountPercent")))
    fixed = promo.get("savingsAmount") or promo.get("savings") or promo.get("amount")
    if percent is not None:
        rate = _decimal(percent, "promotion percent") / 100
        gross = convert(order_minor, order_ccy, wallet_ccy, quote)
        savings = int((Decimal(gross) * rate).quantize(Decimal(1), ROUND_HALF_UP))
        cap = promo.get("maxSavings") or promo.get("maxSavingsAmount")
        if isinstance(cap, dict):
            if cap.get("currency") != wallet_ccy:
                return None  # capped in another wallet currency: made for other wallets
            savings = min(savings, int(cap["value"]))
        return savings
    if isinstance(fixed, dict):
        value = int(fixed["value"])
        if fixed["currency"] == wallet_ccy:
            return value
        if fixed["currency"] == order_ccy:
            return convert(value, order_ccy, wallet_ccy, quote)
        return None  # a voucher in a third currency does not apply to this payment
    raise PricingError(f"promotion {promo.get('promoId')} has neither a percent nor an amount")


def price(
    order_amount: dict[str, str],
    wallet_currency: str,
    promo: dict[str, Any] | None,
    now: datetime,
) -> Priced:
    """The amounts of an order of `order_amount` paid from a `wallet_currency` wallet."""
    order_ccy = order_amount["currency"]
    order_minor = int(order_amount["value"])
    quote = None if order_ccy == wallet_currency else quote_for(order_ccy, wallet_currency, now)
    gross = convert(order_minor, order_ccy, wallet_currency, quote)
    if gross <= 0:
        raise PricingError(
            f"{order_amount['value']} {order_ccy} minor units is less than one minor unit of "
            f"{wallet_currency} after conversion"
        )
    promo_info = None
    payment_minor, pay_to = order_minor, gross
    savings = (
        _savings(promo, order_minor, order_ccy, wallet_currency, quote, now) if promo else None
    )
    if savings is not None:
        if not 0 < savings < gross:
            raise PricingError(
                f"promotion {promo['promoId']} would save {savings} of {gross} {wallet_currency} "
                "minor units; it must save something and leave something to pay"
            )
        # paymentAmount excludes the promotion: its part of the order, in the order currency.
        promo_part = convert(savings, wallet_currency, order_ccy, quote)
        payment_minor = order_minor - promo_part
        pay_to = convert(payment_minor, order_ccy, wallet_currency, quote)
        if promo_part <= 0 or payment_minor <= 0 or not 0 < pay_to < gross:
            raise PricingError(
                f"promotion {promo['promoId']} saves {savings} {wallet_currency} minor units, "
                f"which is not a usable part of {order_minor} {order_ccy} minor units"
            )
        detail = {
            "promoId": str(promo["promoId"]),
            "promoName": str(promo.get("promoName") or promo["promoId"]),
            "promoType": str(promo.get("promoType") or "CASHLESS_FIXED_VOUCHER"),
            "savingsAmount": {"currency": wallet_currency, "value": str(gross - pay_to)},
        }
        promo_info = {"paymentPromoDetails": [detail]}
    return Priced(
        payment_amount={"currency": order_ccy, "value": str(payment_minor)},
        pay_to_amount={"currency": wallet_currency, "value": str(pay_to)},
        quote=quote,
        promo_info=promo_info,
    )
