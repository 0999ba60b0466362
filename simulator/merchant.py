"""The merchant demo page: pick an amount and currency, pay at the wallet's cashier, see the result.

It plays the merchant (and its acquirer): it creates the cashier order through the payment
engine, sends the visitor to the wallet's cashier URL, and shows the payment's state from the
engine when the wallet sends the visitor back (the redirect itself is never taken as proof).
"""

from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from sqlalchemy import Column, String, Table, select

from simulator import pricing
from simulator.db import metadata
from simulator.payments import OrderError
from simulator.state import current

bp = Blueprint("merchant", __name__, url_prefix="/merchant", template_folder="templates")

# The merchant's own order references, so the return URL can name the order without carrying
# Alipay+'s ids (as a real merchant's return page would).
merchant_orders = Table(
    "merchant_orders",
    metadata,
    Column("reference", String(64), primary_key=True),
    Column("payment_request_id", String(64), nullable=False),
    Column("scenario", String(16), nullable=False),  # redirect | scan
    Column("created_at", String(40), nullable=False),
)

FINAL = ("SUCCESS", "FAILED", "CLOSED")


@bp.app_template_filter("merchant_money")
def merchant_money(amount: dict[str, Any] | None) -> str:
    """An Amount in minor units as a price: {"currency": "USD", "value": "1250"} -> 12.50 USD."""
    if not amount:
        return ""
    from contracts import money

    try:
        exponent = money.exponent(amount["currency"])
        major = Decimal(int(amount["value"])).scaleb(-exponent)
    except (KeyError, ValueError):
        return f"{amount.get('value')} {amount.get('currency')}"
    return f"{major:,.{exponent}f} {amount['currency']}"


def _currencies(wallet_currency: str) -> list[str]:
    """Currencies the FX table can convert into the wallet's currency (plus its own)."""
    found = {wallet_currency}
    for pair in pricing.fx_rates():
        base, _, quote = pair.partition("/")
        if quote == wallet_currency:
            found.add(base)
        elif base == wallet_currency:
            found.add(quote)
    return sorted(found)


def _to_minor(text: str, currency: str) -> str:
    """'12.50' USD -> '1250'; raises ValueError with a sentence a visitor understands."""
    from contracts import money

    exponent = money.exponent(currency)
    try:
        major = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    minor = major.scaleb(exponent)
    if major <= 0 or minor != minor.to_integral_value():
        places = f"{exponent} decimal places" if exponent else "no decimals"
        raise ValueError(f"{currency} amounts are positive with {places}, not {text!r}")
    return str(int(minor))


def _form_context(error: str | None = None, values: dict[str, str] | None = None) -> dict:
    sim = current()
    participant = sim.keys.participant(sim.config.default_client_id) or {}
    wallet_currency = participant.get("walletCurrency", "KRW")
    recent = []
    with sim.engine.connect() as conn:
        rows = conn.execute(
            select(merchant_orders).order_by(merchant_orders.c.created_at.desc()).limit(10)
        ).all()
    for row in rows:
        view = sim.payments.get_view(row.payment_request_id) or {}
        recent.append({"reference": row.reference, "view": view})
    return {
        "merchants": pricing.merchants(),
        "promotions": list(pricing.promotions().values()),
        "currencies": _currencies(wallet_currency),
        "wallet_currency": wallet_currency,
        "error": error,
        "values": values or {"amount": "1000", "currency": "JPY", "merchantId": "M001"},
        "recent": recent,
    }


@bp.get("/")
def index() -> str:
    """The shop: amount, currency, merchant, optional promotion, and the two ways to pay."""
    return render_template("merchant/index.html", **_form_context())


@bp.post("/checkout")
def checkout() -> Any:
    """Create the cashier order and send the visitor to the wallet (or show the code to scan)."""
    sim = current()
    form = {key: request.form.get(key, "") for key in ("amount", "currency", "merchantId")}
    form["promoId"] = request.form.get("promoId", "")
    scenario = "scan" if request.form.get("scenario") == "scan" else "redirect"
    # From the simulator's one generator, so a seeded run (POST /_sim/seed) repeats its references.
    ids = getattr(sim, "ids", None)
    rng = ids.rng() if ids is not None else random.SystemRandom()
    reference = f"SHOP-{rng.getrandbits(48):012X}"
    try:
        value = _to_minor(form["amount"], form["currency"])
        params: dict[str, Any] = {
            "amount": {"currency": form["currency"], "value": value},
            "merchantId": form["merchantId"] or None,
            "referenceOrderId": reference,
            "description": request.form.get("description") or f"Demo order {reference}",
            "redirectUrl": url_for("merchant.order", reference=reference, _external=False),
        }
        params["redirectUrl"] = sim.config.base_url.rstrip("/") + params["redirectUrl"]
        if form["promoId"]:
            params["promoId"] = form["promoId"]
        created = sim.payments.create_order(params)
    except (ValueError, KeyError, OrderError) as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        return render_template("merchant/index.html", **_form_context(message, form)), 400
    with sim.engine.begin() as conn:
        conn.execute(
            merchant_orders.insert().values(
                reference=reference,
                payment_request_id=created["paymentRequestId"],
                scenario=scenario,
                created_at=sim.clock.now().isoformat(),
            )
        )
    if scenario == "scan":
        return redirect(url_for("merchant.order", reference=reference), 303)
    return redirect(created["cashierUrl"], 303)


def _order(reference: str) -> tuple[Any, dict[str, Any]]:
    sim = current()
    with sim.engine.connect() as conn:
        row = conn.execute(
            select(merchant_orders).where(merchant_orders.c.reference == reference)
        ).first()
    if row is None:
        abort(404)
    return row, sim.payments.get_view(row.payment_request_id) or {}


@bp.get("/orders/<reference>")
def order(reference: str) -> str:
    """The merchant's order page: where the wallet sends the visitor back; shows the result."""
    row, view = _order(reference)
    sim = current()
    participant = sim.keys.participant(view.get("clientId") or sim.config.default_client_id)
    cashier = (participant or {}).get("cashierUrl", "")
    wallet_base = cashier.rsplit("/", 1)[0] if cashier else ""
    return render_template(
        "merchant/order.html",
        reference=reference,
        row=row,
        view=view,
        final=view.get("status") in FINAL,
        scan_url=f"{wallet_base}/scan" if wallet_base else "",
    )


@bp.get("/orders/<reference>.json")
def order_json(reference: str) -> Response:
    """The merchant's view of the order as JSON (for scripts)."""
    row, view = _order(reference)
    return jsonify({"reference": reference, "paymentRequestId": row.payment_request_id, **view})


def init_app(app):
    """Register the merchant demo page."""
    app.register_blueprint(bp)
