"""The wallet's pages (cashier, scan, result, errors, home) and its automation endpoints.

The pages and the driver endpoint call the same Wallet methods, so automation walks the same
code path as a person in a browser.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from mpp_reference.amounts import breakdown, format_amount, format_minor
from mpp_reference.payment import Payment, Problem
from mpp_reference.wallet import Wallet

bp = Blueprint("pages", __name__, template_folder="templates")

# Schemes that would run script instead of navigating; every other form of paymentRedirectUrl
# (http(s), custom schemes, App Links, Universal Links) is followed as given.
SCRIPT_SCHEMES = ("javascript:", "data:", "vbscript:")
PROBLEM_TITLES = {
    "expired": "This order has expired",
    "closed": "This order is closed",
    "unsupported": "This code is not supported",
    "failed": "The payment could not go ahead",
}


def _wallet() -> Wallet:
    return current_app.extensions["mpp_reference"]


@bp.app_template_filter("money")
def money_filter(amount: dict[str, Any] | None) -> str:
    """Jinja filter: an Amount as text ('2,500 JPY')."""
    return format_amount(amount)


@bp.app_template_filter("minor")
def minor_filter(value: int, currency: str) -> str:
    """Jinja filter: minor units of `currency` as text."""
    return format_minor(int(value), currency)


def _current_customer() -> str | None:
    customer_id = request.values.get("customerId") or session.get("customer_id")
    if customer_id and _wallet().ledger.user(customer_id) is None:
        return None
    return customer_id


def return_url(payment: Payment) -> str:
    """Where the user goes after the result page: the merchant, or the wallet home if scanned."""
    target = payment.redirect_url
    if payment.scanned or not target or target.strip().lower().startswith(SCRIPT_SCHEMES):
        return url_for("pages.home")
    return target


def _problem_page(problem: Problem, status: int = 200) -> tuple[str, int]:
    wallet = _wallet()
    payment = wallet.payment(problem.payment_request_id) if problem.payment_request_id else None
    back = return_url(payment) if payment and payment.decoded else url_for("pages.home")
    return (
        render_template(
            "error.html",
            problem=problem,
            title=PROBLEM_TITLES.get(problem.kind, PROBLEM_TITLES["failed"]),
            back=back,
        ),
        status,
    )


@bp.route("/")
def home() -> str:
    """The wallet's home: who is signed in, balances, recent payments, stuck notifications."""
    wallet = _wallet()
    return render_template(
        "home.html",
        users=wallet.ledger.users(),
        current=session.get("customer_id"),
        payments=wallet.recent_payments(),
        outbox=[row for row in wallet.outbox.rows() if row["status"] != "DONE"],
        config=wallet.config,
    )


@bp.route("/signin")
def signin() -> Response:
    """Sign in as a demo user, then continue to `next`."""
    customer_id = request.args.get("customerId", "")
    if _wallet().ledger.user(customer_id) is None:
        abort(404)
    session["customer_id"] = customer_id
    target = request.args.get("next") or url_for("pages.home")
    if not target.startswith("/") or target.startswith("//"):  # only our own pages
        target = url_for("pages.home")
    return redirect(target)


@bp.route("/cashier")
def cashier() -> Any:
    """Scenario 1: the cashier URL Alipay+ gave the merchant (`?codeValue=...`)."""
    return _open(request.args.get("codeValue", ""), scanned=request.args.get("scanned") == "1")


@bp.route("/scan", methods=["GET", "POST"])
def scan() -> Any:
    """Scenario 2: paste a code value as if the camera had read it."""
    if request.method == "POST":
        code_value = request.form.get("codeValue", "").strip()
        if not code_value:
            return render_template("scan.html", error="Paste a code value first."), 200
        return redirect(url_for("pages.cashier", codeValue=code_value, scanned="1"))
    return render_template("scan.html", error=None)


def _open(code_value: str, scanned: bool) -> Any:
    wallet = _wallet()
    if not code_value:
        return _problem_page(Problem("unsupported", "PARAM_ILLEGAL", "No codeValue was given."))
    customer_id = _current_customer()
    if customer_id is None:
        # Who is paying? (A real wallet knows its logged-in user.)
        query = {"codeValue": code_value}
        if scanned:
            query["scanned"] = "1"
        return render_template(
            "signin.html",
            users=wallet.ledger.users(),
            next=url_for("pages.cashier") + "?" + urlencode(query),
        )
    session["customer_id"] = customer_id
    found = wallet.open_code(code_value, customer_id, scanned=scanned)
    if isinstance(found, Problem):
        return _problem_page(found)
    if found.status != "DECODED":
        return redirect(url_for("pages.result", payment_request_id=found.payment_request_id))
    user = wallet.ledger.user(customer_id)
    return render_template(
        "cashier.html",
        payment=found,
        order=order_details(found.decoded),
        amounts=breakdown(found.decoded, found.debit, paid=False),
        user=user,
        seconds_left=wallet.seconds_left(found),
        handled_by_sdk=_handled_by_sdk(found.decoded),
    )


def _handled_by_sdk(decoded: dict[str, Any]) -> dict[str, Any] | None:
    """The actionForm when Alipay+ asks the wallet to hand the payment to its client SDK."""
    form = decoded.get("actionForm")
    if isinstance(form, dict) and form.get("actionType") == "HANDLE_BY_SDK":
        return form
    return None


def _text(value: Any) -> str:
    if isinstance(value, dict):  # UserName, Address: their parts in order
        parts = [str(v) for v in value.values() if isinstance(v, str | int) and str(v).strip()]
        return ", ".join(parts)
    return "" if value is None else str(value)


def order_details(decoded: dict[str, Any]) -> dict[str, Any]:
    """What the pages show of the order: description, store, goods, buyer, shipping."""
    order = decoded.get("order") or {}
    store = order.get("store") or (order.get("merchant") or {}).get("store") or {}
    goods = []
    for item in order.get("goods") or []:
        if isinstance(item, dict) and item.get("goodsName"):
            quantity = item.get("goodsQuantity")
            goods.append(
                {
                    "name": str(item["goodsName"]),
                    "quantity": str(quantity) if quantity else "",
                    "unit": format_amount(item.get("goodsUnitAmount")),
                }
            )
    shipping = order.get("shipping") or {}
    buyer = order.get("buyer") or {}
    return {
        "description": order.get("orderDescription") or "",
        "reference": order.get("referenceOrderId") or "",
        "store": _text(store.get("storeDisplayName") or store.get("storeName")),
        "goods": goods,
        "buyer": _text(buyer.get("buyerName")),
        "shipping": ", ".join(
            t
            for t in (_text(shipping.get("shippingName")), _text(shipping.get("shippingAddress")))
            if t
        ),
    }


@bp.route("/cashier/pay", methods=["POST"])
def pay() -> Any:
    """The Pay button."""
    customer_id = _current_customer()
    prid = request.form.get("paymentRequestId", "")
    if customer_id is None:
        return _problem_page(Problem("failed", "USER_NOT_EXIST", "Sign in first."))
    found = _wallet().confirm(prid, customer_id)
    if isinstance(found, Problem):
        return _problem_page(found)
    return redirect(url_for("pages.result", payment_request_id=found.payment_request_id), 303)


@bp.route("/cashier/cancel", methods=["POST"])
def cancel() -> Any:
    """The Cancel button."""
    customer_id = _current_customer()
    prid = request.form.get("paymentRequestId", "")
    if customer_id is None:
        return _problem_page(Problem("failed", "USER_NOT_EXIST", "Sign in first."))
    found = _wallet().user_cancel(prid, customer_id)
    if isinstance(found, Problem):
        return _problem_page(found)
    return redirect(url_for("pages.result", payment_request_id=found.payment_request_id), 303)


@bp.route("/result/<payment_request_id>")
def result(payment_request_id: str) -> Any:
    """The result page; it sends the user on after a few seconds (or at once with the button)."""
    wallet = _wallet()
    payment = wallet.payment(payment_request_id)
    if payment is None or not payment.decoded:
        return _problem_page(
            Problem("failed", "ORDER_NOT_EXIST", "This payment is unknown.", None), 404
        )
    user = wallet.ledger.user(payment.customer_id or "")
    back = return_url(payment)
    return render_template(
        "result.html",
        payment=payment,
        order=order_details(payment.decoded),
        amounts=breakdown(payment.decoded, payment.debit, paid=payment.status == "SUCCESS"),
        user=user,
        back=back,
        to_merchant=back != url_for("pages.home"),
        no_merchant_page=not payment.scanned and back == url_for("pages.home"),
        notified=notification_text(wallet.notification(payment_request_id)),
        redirect_seconds=3,
    )


def notification_text(note: dict[str, Any] | None) -> str:
    """How telling Alipay+ the result went, in words (the outbox row's status)."""
    if note is None:
        return ""
    attempts = note["attempts"]
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    last = note.get("last_outcome") or ""
    if note["status"] == "DONE":
        return f"Alipay+ received this result ({tries})."
    if note["status"] == "FAILED":
        return f"Alipay+ refused the notification ({last}); the wallet team will look into it."
    if note["status"] == "GAVE_UP":
        return f"Alipay+ could not be told after {tries}; the wallet team will look into it."
    if attempts == 0:
        return "Telling Alipay+ now."
    return f"Not yet confirmed by Alipay+ ({tries}, last: {last}); the wallet keeps trying."
