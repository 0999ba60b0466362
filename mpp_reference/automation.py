"""The wallet's test hook and JSON views (`/_mpp/...`): what a harness drives and reads.

`POST /_mpp/driver/pay` is the binding wallet test hook of `aplus-sim verify` (docs/verify.md):
it walks the same code path as a person on the cashier page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import select

from contracts import signing
from mpp_reference.db import payments
from mpp_reference.pages import return_url
from mpp_reference.payment import Payment, Problem
from mpp_reference.wallet import Wallet

bp = Blueprint("automation", __name__)

ACTIONS = ("confirm", "cancel", "abandon")
# `status` of a hook answer when no payment came out of the code (the problem says why).
DECODE_FAILED = "DECODE_FAILED"


def _wallet() -> Wallet:
    return current_app.extensions["mpp_reference"]


class HookInputError(ValueError):
    """Bad hook input: answered 400 {"error": message}."""


def _hook_input(wallet: Wallet, data: Any) -> tuple[str, str, str, bool]:
    """(codeValue, action, customerId, scanned) from a hook request, or HookInputError."""
    if not isinstance(data, dict):
        raise HookInputError(
            'send a JSON object {"codeValue": str, "action": "confirm" | "cancel" | "abandon", '
            '"customerId": str (optional)}'
        )
    code_value, action = data.get("codeValue"), data.get("action")
    if code_value is None:
        raise HookInputError("codeValue is required")
    if not isinstance(code_value, str) or not code_value.strip():
        raise HookInputError("codeValue must be a non-empty string")
    if action is None:
        raise HookInputError("action is required: confirm, cancel or abandon")
    if action not in ACTIONS:
        raise HookInputError(f"action must be confirm, cancel or abandon, not {action!r}")
    customer_id = data.get("customerId")
    if customer_id is None:
        customer_id = _default_customer(wallet, code_value)
    elif not isinstance(customer_id, str):
        raise HookInputError("customerId must be a string")
    elif wallet.ledger.user(customer_id) is None:
        raise HookInputError(f"customerId {customer_id!r} is not a wallet user")
    scanned = data.get("scanned", False)
    if not isinstance(scanned, bool):
        raise HookInputError("scanned must be true or false")
    return code_value, action, customer_id, scanned


def _default_customer(wallet: Wallet, code_value: str) -> str:
    """The user who opened this code before (a replay stays the same user), else the user with
    the largest balance."""
    with wallet.engine.connect() as conn:
        before = conn.execute(
            select(payments.c.customer_id)
            .where(payments.c.code_value == code_value, payments.c.customer_id.is_not(None))
            .order_by(payments.c.created_at)
        ).first()
    if before is not None:
        return str(before.customer_id)
    users = wallet.ledger.users()
    if not users:
        raise HookInputError("the wallet has no users; give a customerId")
    return max(users, key=lambda u: (u.balance, u.customer_id)).customer_id


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {"kind": problem.kind, "code": problem.code, "message": problem.message}


def payment_json(wallet: Wallet, payment: Payment) -> dict[str, Any]:
    """The wallet's truth about one payment (status, amounts, ledger, notification)."""
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
        "walletDebits": payment.debit or None,
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


def _act(wallet: Wallet, found: Payment, action: str, customer_id: str) -> Payment | Problem:
    if found.status != "DECODED" or action == "abandon":
        return found  # abandon: the user walks away from the cashier
    if action == "confirm":
        return wallet.confirm(found.payment_request_id, customer_id)
    return wallet.user_cancel(found.payment_request_id, customer_id)


@bp.route("/_mpp/driver/pay", methods=["POST"])
def driver_pay() -> Any:
    """The test hook: open a code as a user, then confirm, cancel or abandon, like the pages.

    Answers once the synchronous part is done (the first notification attempt included; its
    retries go on in the outbox): `{"paymentRequestId", "status", ...}` plus the wallet's view
    of the payment, `problem` when the user would have seen an error page, and `balance`.
    """
    wallet = _wallet()
    if not wallet.config.driver_enabled:
        abort(404)
    try:
        code_value, action, customer_id, scanned = _hook_input(
            wallet, request.get_json(silent=True)
        )
    except HookInputError as exc:
        return jsonify(error=str(exc)), 400
    found = wallet.open_code(code_value, customer_id, scanned=scanned)
    if isinstance(found, Payment):
        found = _act(wallet, found, action, customer_id)
    problem = _problem_json(found) if isinstance(found, Problem) else None
    prid = found.payment_request_id
    payment = wallet.payment(prid) if prid else None
    answer: dict[str, Any] = {"paymentRequestId": prid, "status": DECODE_FAILED}
    if payment is not None:
        answer = payment_json(wallet, payment)
    if isinstance(found, Problem):
        answer["attempts"] = found.attempts
    answer["problem"] = problem
    answer["customerId"] = customer_id
    user = wallet.ledger.user(customer_id)
    answer["balance"] = user.balance if user else None
    return jsonify(answer)


@bp.route("/_mpp/payments/<payment_request_id>")
def payment_view(payment_request_id: str) -> Any:
    """The wallet's truth about one payment."""
    wallet = _wallet()
    payment = wallet.payment(payment_request_id)
    if payment is None:
        return jsonify(error=f"unknown paymentRequestId {payment_request_id}"), 404
    return jsonify(payment_json(wallet, payment))


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
        defect=cfg.defect or None,
    )


@bp.route("/_mpp/keys")
def keys() -> Any:
    """The wallet's public key (base64 SPKI and PEM)."""
    public = _wallet().private_key.public_key()
    return jsonify(publicKey=signing.public_key_base64(public), pem=signing.public_key_pem(public))
