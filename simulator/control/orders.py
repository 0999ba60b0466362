"""POST /_sim/orders and the order's QR code: the merchant front door."""

from __future__ import annotations

import io

from flask import Blueprint, Response, jsonify

from simulator.control.errors import ControlError, request_json
from simulator.state import current

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_order():
    """Create a cashier order for a wallet (HTTP 201).

    A refusal is the engine's `OrderError`: 400 with the protocol's code (PARAM_ILLEGAL,
    INVALID_CLIENT, CURRENCY_NOT_SUPPORT, ...).
    """
    return jsonify(current().payments.create_order(request_json())), 201


@bp.get("/orders/<payment_request_id>/qr.svg")
def order_qr(payment_request_id: str):
    """The order's code value as a QR code (SVG)."""
    import segno  # only this page needs it: keep it off the start-up path

    record = current().payments.get_record(payment_request_id)
    if record is None:
        raise ControlError.not_found(f"no payment {payment_request_id!r}")
    out = io.BytesIO()
    segno.make(record["code_value"], error="m").save(out, kind="svg", scale=6, border=2)
    return Response(out.getvalue(), mimetype="image/svg+xml")
