"""The endpoints Alipay+ calls on the wallet: inquiryPayment, cancelPayment, refund.

Each request is checked over its raw bytes (Client-Id, Request-Time, Signature with Alipay+'s
public key), validated against the contract, answered HTTP 200 with a `result`, and signed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

import mpp_reference.defects as defects
from contracts import signing, validate
from mpp_reference.results import (
    ApiError,
    InvalidClient,
    InvalidSignature,
    ParamIllegal,
    result,
)

log = logging.getLogger("mpp_reference.api")

bp = Blueprint("aps", __name__)

PATHS = {
    "inquiryPayment": "/aps/api/v1/payments/inquiryPayment",
    "cancelPayment": "/aps/api/v1/payments/cancelPayment",
    "refund": "/aps/api/v1/payments/refund",
}


def _wallet() -> Any:
    return current_app.extensions["mpp_reference"]


def _signed(api: str, body: dict[str, Any]) -> Response:
    wallet = _wallet()
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    path = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    # DEFECT: bad_answer_signature -- the answer is signed over another path.
    if defects.active(wallet.config, "bad_answer_signature"):
        path = "/"
    headers = signing.signed_response_headers(
        wallet.private_key, wallet.config.client_id, path, raw, wallet.clock.now()
    )
    # DEFECT: unsigned_answers -- the signature header is left out.
    if defects.active(wallet.config, "unsigned_answers"):
        headers = {k: v for k, v in headers.items() if k.lower() != "signature"}
    return Response(raw, status=200, headers=headers)


def _checked_body(api: str) -> dict[str, Any]:
    """The request body, once Client-Id, Request-Time, Signature and the contract agree."""
    wallet = _wallet()
    if request.method != "POST":
        raise ApiError(f"{request.method} is not supported; use POST", "METHOD_NOT_SUPPORTED")
    raw = request.get_data(cache=True)
    client_id = request.headers.get("Client-Id")
    if not client_id:
        raise ParamIllegal("header Client-Id is missing")
    if client_id != wallet.config.client_id:
        raise InvalidClient(f"Client-Id {client_id!r} is not this wallet's client id")
    request_time = request.headers.get("Request-Time")
    if not request_time:
        raise ParamIllegal("header Request-Time is missing")
    try:
        signing.parse_time(request_time)
    except ValueError:
        raise ParamIllegal(f"header Request-Time {request_time!r} is not a time") from None
    # DEFECT: skip_signature_verification -- any signature (or none) is accepted.
    if not defects.active(wallet.config, "skip_signature_verification"):
        try:
            signing.verify_headers(wallet.alipay_public_key(), request.path, request.headers, raw)
        except signing.SignatureError as exc:
            raise InvalidSignature(str(exc)) from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise ParamIllegal("the body is not JSON") from None
    if not isinstance(body, dict):
        raise ParamIllegal("the body is not a JSON object")
    violations = validate(api, "request", body)
    if violations:
        first = violations[0]
        raise ParamIllegal(f"{first.pointer or '/'}: {first.message}")
    return body


def _handle(api: str, action: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    try:
        body = _checked_body(api)
        answer = action(body)
    except ApiError as exc:
        answer = exc.body(api)
    except Exception:  # a bug must still be an answer in the protocol's terms
        log.exception("%s failed", api)
        answer = {"result": result(api, "UNKNOWN_EXCEPTION", "internal error; please retry")}
    return _signed(api, answer)


@bp.route(PATHS["inquiryPayment"], methods=["GET", "POST", "PUT", "DELETE"])
def inquiry_payment() -> Response:
    """Alipay+ asks for a payment's result."""
    return _handle("inquiryPayment", lambda body: _wallet().inquiry_payment(body))


@bp.route(PATHS["cancelPayment"], methods=["GET", "POST", "PUT", "DELETE"])
def cancel_payment() -> Response:
    """Alipay+ cancels a payment (always succeeds; money goes back)."""
    return _handle("cancelPayment", lambda body: _wallet().cancel_payment(body))


@bp.route(PATHS["refund"], methods=["GET", "POST", "PUT", "DELETE"])
def refund() -> Response:
    """Alipay+ refunds (part of) a payment."""
    return _handle("refund", lambda body: _wallet().refund(body))


@bp.route("/aps/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
def unknown_api(rest: str) -> Response:
    """Any other /aps/ path: INVALID_API, in the protocol's terms."""
    body = {"result": result("inquiryPayment", "INVALID_API", f"/aps/{rest} is not served here")}
    return _signed("inquiryPayment", body)
