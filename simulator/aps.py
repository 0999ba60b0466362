"""The Alipay+ APIs a wallet calls (/aps/api/v1/...): thin handlers over the payment engine.

Every request goes through `simulator.protocol.serve` (authentication, contract checks,
signing, journal); these handlers only read parameters and call the engine.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from simulator.protocol import Inbound, serve, success
from simulator.state import current

bp = Blueprint("aps", __name__)

# Every method reaches the pipeline, so a GET gets METHOD_NOT_SUPPORTED in the protocol's terms
# instead of Flask's HTML 405 page.
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
INQUIRY_CODE_RULES = "/aps/api/v1/codes/inquiryCodeRules"
USER_INITIATED_PAY = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY_PAYMENT = "/aps/api/v1/payments/notifyPayment"


def _inquiry_code_rules(inbound: Inbound) -> dict[str, Any]:
    rules = current().payments.code_rules.current()
    return {
        "result": success("inquiryCodeRules"),
        "codeRules": rules["codeRules"],
        "version": rules["version"],
    }


def _user_initiated_pay(inbound: Inbound) -> str:
    return current().payments.decode(inbound)


def _notify_payment(inbound: Inbound) -> dict[str, Any]:
    return current().payments.notify(inbound)


@bp.route(INQUIRY_CODE_RULES, methods=METHODS, provide_automatic_options=False)
def inquiry_code_rules():
    """inquiryCodeRules: the code rules served now and their version."""
    return serve("inquiryCodeRules", _inquiry_code_rules)


@bp.route(USER_INITIATED_PAY, methods=METHODS, provide_automatic_options=False)
def user_initiated_pay():
    """userInitiatedPay: decode an order code for a wallet user."""
    return serve("userInitiatedPay", _user_initiated_pay)


@bp.route(NOTIFY_PAYMENT, methods=METHODS, provide_automatic_options=False)
def notify_payment():
    """notifyPayment: the wallet's final result of a payment."""
    return serve("notifyPayment", _notify_payment)


@bp.route("/aps", methods=METHODS, provide_automatic_options=False)
@bp.route("/aps/", methods=METHODS, provide_automatic_options=False)
@bp.route("/aps/<path:rest>", methods=METHODS, provide_automatic_options=False)
def unknown_api(rest: str = ""):
    """Anything else under /aps/: INVALID_API."""
    return serve("unknown", None)


def init_app(app):
    """Register the Alipay+ APIs."""
    app.register_blueprint(bp)
