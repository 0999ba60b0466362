"""The merchant's front door: checking a cashier order before it becomes a payment.

`POST /_sim/orders` (and the merchant demo page) hand their parameters to
`sim.payments.create_order`, which asks `check_order` here first: the wallet must be registered,
the amount a whole number of minor units, the merchant one of the demo merchants, and the order
priced (FX quote, promotion) for the wallet's currency. Every refusal is an `OrderError` naming
the field, with the protocol's code for why.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from contracts import money
from contracts.wire import dumps, random_text, request_id, wire_time
from simulator import pricing
from simulator.db import stamp
from simulator.keys import KeyStore

# Cashier Payment: 10 minutes by default, and a longer merchant request is capped there (§3.3).
MAX_EXPIRY_SECONDS = 600
CODE_PREFIXES = {
    "production": "https://qr.alipayplus.com/28166613",
    "sandbox": "28166604",
}


class OrderError(ValueError):
    """An order the merchant front door refuses; `code` is the protocol's name for why."""

    def __init__(self, message: str, code: str = "PARAM_ILLEGAL") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class CheckedOrder:
    """An order that passed every check, priced for its wallet."""

    client_id: str
    participant: dict[str, Any]
    order_amount: dict[str, str]
    expiry_seconds: int
    code_style: str
    merchant: dict[str, Any]
    priced: pricing.Priced


class NewOrder:
    """A checked order as its `payments` row (CREATED) and the answer to the merchant."""

    def __init__(
        self, checked: CheckedOrder, params: dict[str, Any], now: datetime, rng: Any, base: str
    ) -> None:
        self.checked = checked
        self.expiry = now.replace(microsecond=0) + timedelta(seconds=checked.expiry_seconds)
        priced, merchant = checked.priced, checked.merchant
        payment_request_id = request_id(now, rng)
        self.order = {
            "referenceOrderId": params.get("referenceOrderId") or f"ORD-{payment_request_id[-12:]}",
            "orderDescription": params.get("description") or f"Order at {merchant['merchantName']}",
            "orderAmount": checked.order_amount,
            "merchant": pricing.order_merchant(merchant),
        }
        self.row: dict[str, Any] = {
            "payment_request_id": payment_request_id,
            "code_value": new_code_value(checked.code_style, rng),
            "client_id": checked.client_id,
            "psp_id": checked.participant["pspId"],
            "acquirer_id": params.get("acquirerId") or checked.participant["acquirerId"],
            "status": "CREATED",
            "order_json": dumps(self.order),
            "payment_amount": dumps(priced.payment_amount),
            "pay_to_amount": dumps(priced.pay_to_amount),
            "payment_quote": None if priced.quote is None else dumps(priced.quote),
            "payment_promo_info": None if priced.promo_info is None else dumps(priced.promo_info),
            "redirect_url": params.get("redirectUrl")
            or f"{base}/_sim/ui/payments/{payment_request_id}",
            "notify_url": params.get("notifyUrl"),
            "merchant_id": merchant["referenceMerchantId"],
            "created_at": stamp(now),
            "expiry_at": stamp(self.expiry),
            "reversal_required": False,
        }

    @property
    def payment_request_id(self) -> str:
        """The order's paymentRequestId."""
        return self.row["payment_request_id"]

    def new_ids(self, now: datetime, rng: Any) -> None:
        """Draw another paymentRequestId and code value (after a collision)."""
        self.row["payment_request_id"] = request_id(now, rng)
        self.row["code_value"] = new_code_value(self.checked.code_style, rng)

    def answer(self, base: str) -> dict[str, Any]:
        """What POST /_sim/orders answers."""
        priced, code_value = self.checked.priced, self.row["code_value"]
        return {
            "paymentRequestId": self.payment_request_id,
            "codeValue": code_value,
            "cashierUrl": cashier_url(self.checked.participant["cashierUrl"], code_value),
            "qrCodeUrl": f"{base}/_sim/orders/{self.payment_request_id}/qr.svg",
            "paymentExpiryTime": wire_time(self.expiry),
            "clientId": self.checked.client_id,
            "status": "CREATED",
            "order": self.order,
            "paymentAmount": priced.payment_amount,
            "payToAmount": priced.pay_to_amount,
            "paymentQuote": priced.quote,
            "paymentPromoInfo": priced.promo_info,
        }


def new_code_value(style: str, rng: Any = None) -> str:
    """An order code value that the served rules DECODE (prefix + 18 random characters)."""
    return CODE_PREFIXES[style] + random_text(string.ascii_letters + string.digits, 18, rng)


def cashier_url(base: str, code_value: str) -> str:
    """The MPP's cashier URL with `codeValue=` (URL-encoded) appended."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}codeValue={quote(code_value, safe='')}"


def _amount(params: dict[str, Any]) -> dict[str, str]:
    amount = params.get("amount")
    if not isinstance(amount, dict):
        raise OrderError('amount is required: {"currency": "JPY", "value": "1000"}')
    currency, value = amount.get("currency"), amount.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(currency, str) or not money.is_currency(currency):
        raise OrderError(f"amount.currency {currency!r} is not an ISO 4217 currency code")
    if not money.is_valid_value(currency, value):
        raise OrderError(
            f"amount.value {value!r} is not a positive whole number of {currency} minor "
            f"units (exponent {money.exponent(currency)}), e.g. "
            f'"{10 ** money.exponent(currency) * 10}" for 10 {currency}'
        )
    return {"currency": currency, "value": value}


def _expiry_seconds(params: dict[str, Any]) -> int:
    expiry_seconds = params.get("expirySeconds", MAX_EXPIRY_SECONDS)
    try:
        expiry_seconds = int(expiry_seconds)
    except (TypeError, ValueError):
        raise OrderError(f"expirySeconds {expiry_seconds!r} is not a number") from None
    if expiry_seconds <= 0:
        raise OrderError("expirySeconds must be positive")
    return min(expiry_seconds, MAX_EXPIRY_SECONDS)


def check_order(params: Any, keys: KeyStore, default_client_id: str, now: datetime) -> CheckedOrder:
    """Check a merchant's order parameters and price it; raises OrderError naming the field."""
    if not isinstance(params, dict):
        raise OrderError("the order must be a JSON object")
    client_id = params.get("clientId") or default_client_id
    participant = keys.participant(client_id)
    if participant is None:
        raise OrderError(
            f"clientId {client_id!r} is not a registered participant "
            f"(PUT /_sim/participants/{client_id} first)",
            "INVALID_CLIENT",
        )
    order_amount = _amount(params)
    expiry_seconds = _expiry_seconds(params)
    style = params.get("codeStyle", "production")
    if style not in CODE_PREFIXES:
        raise OrderError(f"codeStyle must be one of {sorted(CODE_PREFIXES)}")
    merchant = pricing.merchant(params.get("merchantId"))
    if merchant is None:
        raise OrderError(
            f"merchantId {params.get('merchantId')!r} is not one of the demo merchants "
            f"{pricing.merchant_ids()}"
        )
    promotion = pricing.promotion(params.get("promoId"), params.get("promotion"))
    for name in ("description", "redirectUrl", "notifyUrl", "referenceOrderId"):
        if params.get(name) is not None and (not isinstance(params[name], str) or not params[name]):
            raise OrderError(f"{name} must be a non-empty string when given")
    try:
        priced = pricing.price(order_amount, participant["walletCurrency"], promotion, now)
    except pricing.PricingError as exc:
        raise OrderError(str(exc), exc.code) from exc
    return CheckedOrder(
        client_id, participant, order_amount, expiry_seconds, style, merchant, priced
    )
