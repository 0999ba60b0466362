"""/_sim/payments: list and view payments; the merchant's cancel and refunds.

A cancel or refund refused before any call to the wallet is the callbacks' `Refused`, answered
with its HTTP status and protocol code (ORDER_NOT_EXIST, ORDER_STATUS_INVALID,
REFUND_AMOUNT_EXCEED, ...).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from simulator.apis.cancel_payment import close_by_merchant
from simulator.apis.refund import refunds_for, request_refund
from simulator.control.errors import ControlError, request_json
from simulator.state import current

bp = Blueprint("payments", __name__)

MAX_LIST = 1000


@bp.get("/payments")
def list_payments():
    """Recent payments, newest first (?limit=&clientId=)."""
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise ControlError.bad("limit must be a whole number", "limit") from None
    if not 0 < limit <= MAX_LIST:
        raise ControlError.bad(f"limit must be between 1 and {MAX_LIST}", "limit")
    items = current().payments.list(limit=limit, client_id=request.args.get("clientId"))
    return jsonify({"payments": items})


@bp.get("/payments/<payment_request_id>")
def get_payment(payment_request_id: str):
    """One payment: state, amounts and every exchange about it."""
    view = current().payments.get_view(payment_request_id)
    if view is None:
        raise ControlError.not_found(f"no payment {payment_request_id!r}")
    return jsonify(view)


@bp.post("/payments/<payment_request_id>/cancel")
def cancel_payment(payment_request_id: str):
    """The merchant closes the order; Alipay+ then calls cancelPayment on the wallet (202)."""
    body = request_json()
    reason = body.get("reason") if isinstance(body, dict) else None
    if reason is not None and not isinstance(reason, str):
        raise ControlError.bad("reason must be a string", "reason")
    return jsonify(close_by_merchant(current(), payment_request_id, reason)), 202


@bp.post("/payments/<payment_request_id>/refunds")
def create_refund(payment_request_id: str):
    """The merchant refunds (part of) a successful payment; the refund call follows (202)."""
    return jsonify(request_refund(current(), payment_request_id, request_json())), 202


@bp.get("/payments/<payment_request_id>/refunds")
def list_refunds(payment_request_id: str):
    """The refunds of one payment."""
    sim = current()
    if sim.payments.get_record(payment_request_id) is None:
        raise ControlError.not_found(f"no payment {payment_request_id!r}", "ORDER_NOT_EXIST")
    return jsonify({"refunds": refunds_for(sim, payment_request_id)})
