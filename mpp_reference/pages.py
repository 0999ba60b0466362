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
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from contracts import money, signing
from mpp_reference.wallet import Payment, Problem, Wallet

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


def _money(amount: dict[str, Any] | None) -> str:
    """'1,000 JPY' / '12.34 USD' from a minor-unit Amount."""
    if not amount:
        return ""
    try:
        exponent = money.exponent(amount["currency"])
    except KeyError:  # not an ISO 4217 currency: show the raw minor units
        return f"{amount['value']} {amount['currency']}"
    value = int(amount["value"])
    if exponent == 0:
        return f"{value:,} {amount['currency']}"
    major, minor = divmod(value, 10**exponent)
    return f"{major:,}.{minor:0{exponent}d} {amount['currency']}"


@bp.app_template_filter("money")
def money_filter(amount: dict[str, Any] | None) -> str:
    """Jinja filter: an Amount as text."""
    return _money(amount)


@bp.app_template_filter("minor")
def minor_filter(value: int, currency: str) -> str:
    """Jinja filter: minor units of `currency` as text."""
    return _money({"currency": currency, "value": value})


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
        decoded=found.decoded,
        user=user,
        seconds_left=wallet.seconds_left(found),
        savings=_savings(found.decoded),
        quote=found.decoded.get("paymentQuote"),
    )


def _savings(decoded: dict[str, Any]) -> list[dict[str, Any]]:
    details = (decoded.get("paymentPromoInfo") or {}).get("paymentPromoDetails") or []
    return [d for d in details if isinstance(d, dict)]


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
    return render_template(
        "result.html",
        payment=payment,
        decoded=payment.decoded,
        user=user,
        back=return_url(payment),
        savings=_savings(payment.decoded),
        notification=wallet.notification(payment_request_id),
        redirect_seconds=3,
    )


# -- automation -------------------------------------------------------------------------------


def _payment_json(wallet: Wallet, payment: Payment) -> dict[str, Any]:
    note = wallet.notification(payment.payment_request_id)
    return {
        "paymentRequestId": payment.payment_request_id,
        "status": payment.status,
        "customerId": payment.customer_id,
        "codeValue": payment.code_value,
        "paymentId": payment.payment_id,
        "paymentTime": payment.payment_time,
        "resultCode": payment.result_code,
        "resultMessage": payment.result_message,
        "closeReason": payment.close_reason,
        "paymentAmount": payment.decoded.get("paymentAmount"),
        "payToAmount": payment.decoded.get("payToAmount"),
        "paymentPromoInfo": payment.decoded.get("paymentPromoInfo"),
        "refundedFromValue": payment.refunded_from_value,
        "reversedValue": payment.reversed_value,
        "redirectUrl": return_url(payment) if payment.decoded else None,
        "notification": None
        if note is None
        else {
            "status": note["status"],
            "attempts": note["attempts"],
            "lastOutcome": note["last_outcome"],
            "message": note["message"],
        },
        "ledger": wallet.ledger.entries(payment_request_id=payment.payment_request_id),
    }


@bp.route("/_mpp/driver/pay", methods=["POST"])
def driver_pay() -> Any:
    """Automation: open a code as a user and confirm, cancel or abandon, like the pages do."""
    wallet = _wallet()
    if not wallet.config.driver_enabled:
        abort(404)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="send a JSON object {codeValue, customerId, action}"), 400
    code_value, customer_id = data.get("codeValue"), data.get("customerId")
    action = data.get("action", "confirm")
    if not isinstance(code_value, str) or not code_value:
        return jsonify(error="codeValue is required"), 400
    if not isinstance(customer_id, str) or wallet.ledger.user(customer_id) is None:
        return jsonify(error=f"customerId {customer_id!r} is not a wallet user"), 400
    if action not in ("confirm", "cancel", "abandon"):
        return jsonify(error="action must be confirm, cancel or abandon"), 400
    found = wallet.open_code(code_value, customer_id, scanned=bool(data.get("scanned")))
    if isinstance(found, Problem) and found.payment_request_id is None:
        return jsonify(
            status=None,
            problem={"kind": found.kind, "code": found.code, "message": found.message},
            attempts=found.attempts,
        )
    if isinstance(found, Payment) and found.status == "DECODED":
        if action == "confirm":
            found = wallet.confirm(found.payment_request_id, customer_id)
        elif action == "cancel":
            found = wallet.user_cancel(found.payment_request_id, customer_id)
    problem = None
    if isinstance(found, Problem):
        problem = {"kind": found.kind, "code": found.code, "message": found.message}
        found = wallet.payment(found.payment_request_id or "")
    answer = _payment_json(wallet, found) if found else {}
    answer["problem"] = problem
    user = wallet.ledger.user(customer_id)
    answer["balance"] = user.balance if user else None
    return jsonify(answer)


@bp.route("/_mpp/payments/<payment_request_id>")
def payment_json(payment_request_id: str) -> Any:
    """The wallet's truth about one payment (status, amounts, ledger, notification)."""
    wallet = _wallet()
    payment = wallet.payment(payment_request_id)
    if payment is None:
        return jsonify(error=f"unknown paymentRequestId {payment_request_id}"), 404
    return jsonify(_payment_json(wallet, payment))


@bp.route("/_mpp/users")
def users_json() -> Any:
    """Users and balances."""
    return jsonify(
        users=[
            {
                "customerId": u.customer_id,
                "name": u.name,
                "balance": u.balance,
                "currency": u.currency,
            }
            for u in _wallet().ledger.users()
        ]
    )


@bp.route("/_mpp/outbox/run", methods=["POST"])
def outbox_run() -> Any:
    """Attempt every notification that is due now."""
    return jsonify(attempted=_wallet().outbox.run_due())


@bp.route("/_mpp/health")
def health() -> Any:
    """Liveness, and what another party needs to register this wallet."""
    wallet = _wallet()
    cfg = wallet.config
    return jsonify(
        status="ok",
        clientId=cfg.client_id,
        walletCurrency=cfg.wallet_currency,
        publicKey=signing.public_key_base64(wallet.private_key.public_key()),
        alipayKnown=wallet.alipay_public_key.known,
    )


@bp.route("/_mpp/keys")
def keys() -> Any:
    """The wallet's public key (base64 SPKI and PEM)."""
    public = _wallet().private_key.public_key()
    return jsonify(publicKey=signing.public_key_base64(public), pem=signing.public_key_pem(public))
