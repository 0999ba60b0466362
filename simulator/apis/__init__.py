"""The Alipay+ APIs, one module each (moto's one room per service).

Inbound (a wallet calls Alipay+; served under /aps/ through `simulator.protocol.serve`):
`inquiry_code_rules`, `user_initiated_pay`, `notify_payment`, each with `handle(inbound)`.
Outbound (Alipay+ calls the wallet; run as scheduler jobs, started by payment events):
`inquiry_payment`, `cancel_payment`, `refund`, and the merchant's `merchant_notify`; `expiry`
closes an order at paymentExpiryTime; `calls` holds what they share (the base request, `RetrySeries`). The paths, directions, schemas and
idempotency fields of every API are the table in contracts/apis.py.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from contracts import apis
from simulator.apis import (
    cancel_payment,
    expiry,
    inquiry_code_rules,
    inquiry_payment,
    merchant_notify,
    notify_payment,
    refund,
    user_initiated_pay,
)
from simulator.protocol import serve

# Every method reaches the pipeline, so a GET gets METHOD_NOT_SUPPORTED in the protocol's terms
# instead of Flask's HTML 405 page.
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The inbound APIs by name (their routes are built from the table in contracts/apis.py).
INBOUND = {
    "inquiryCodeRules": inquiry_code_rules,
    "userInitiatedPay": user_initiated_pay,
    "notifyPayment": notify_payment,
}
# The outbound APIs (and the expiry that leads to cancelPayment), in the order their listeners
# are registered: a DECODED payment is first given its polls, then maybe cancelled at once
# (early_cancel; its FINAL drops the polls).
OUTBOUND = (expiry, inquiry_payment, cancel_payment, refund, merchant_notify)

bp = Blueprint("aps", __name__)


def _route(name: str, endpoint: str) -> None:
    module = INBOUND[name]

    def view() -> Response:
        return serve(name, module.handle)  # looked up per call: tests may replace a handler

    view.__doc__ = (module.__doc__ or name).splitlines()[0]
    bp.add_url_rule(
        apis.get(name).path,
        endpoint=endpoint,
        view_func=view,
        methods=METHODS,
        provide_automatic_options=False,
    )


_route("inquiryCodeRules", "inquiry_code_rules")
_route("userInitiatedPay", "user_initiated_pay")
_route("notifyPayment", "notify_payment")


@bp.route("/aps", methods=METHODS, provide_automatic_options=False)
@bp.route("/aps/", methods=METHODS, provide_automatic_options=False)
@bp.route("/aps/<path:rest>", methods=METHODS, provide_automatic_options=False)
def unknown_api(rest: str = "") -> Response:
    """Anything else under /aps/: INVALID_API."""
    return serve("unknown", None)


def init_app(app: Flask) -> None:
    """Register the Alipay+ APIs, the outbound APIs' jobs and their event listeners."""
    sim = app.extensions["aplus_sim"]
    for module in OUTBOUND:
        module.register(sim)
    app.register_blueprint(bp)
