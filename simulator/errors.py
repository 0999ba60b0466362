"""The protocol's result codes, declared once: one exception per code, rendered centrally.

An API handler raises e.g. `OrderNotExist("...")`; `simulator.protocol.serve` turns it into the
`result` object of the answer, with the code's status from the catalogue (contracts.catalogue).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from contracts import catalogue

log = logging.getLogger(__name__)


class ProtocolError(Exception):
    """A protocol outcome other than SUCCESS; rendered centrally into the `result` object."""

    code: ClassVar[str] = "PROCESS_FAIL"
    status: ClassVar[str] = "F"  # used only if the catalogue lacks the code for this API

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.code)
        self.message = message


class ParamIllegal(ProtocolError):
    """PARAM_ILLEGAL: a header or body field is missing or malformed (the message names it)."""

    code = "PARAM_ILLEGAL"


class MethodNotSupported(ProtocolError):
    """METHOD_NOT_SUPPORTED: the Alipay+ APIs take POST only."""

    code = "METHOD_NOT_SUPPORTED"


class MediaTypeNotAcceptable(ProtocolError):
    """MEDIA_TYPE_NOT_ACCEPTABLE: the body is not sent as application/json."""

    code = "MEDIA_TYPE_NOT_ACCEPTABLE"


class InvalidApi(ProtocolError):
    """INVALID_API: no such API under /aps/."""

    code = "INVALID_API"


class InvalidClient(ProtocolError):
    """INVALID_CLIENT: the Client-Id is not a registered participant."""

    code = "INVALID_CLIENT"


class InvalidSignature(ProtocolError):
    """INVALID_SIGNATURE: the Signature header is missing, malformed or does not verify."""

    code = "INVALID_SIGNATURE"


class KeyNotFound(ProtocolError):
    """KEY_NOT_FOUND: the participant has no public key registered."""

    code = "KEY_NOT_FOUND"


class AccessDenied(ProtocolError):
    """ACCESS_DENIED: the payment belongs to another participant."""

    code = "ACCESS_DENIED"


class InvalidCode(ProtocolError):
    """INVALID_CODE: the code value is not one Alipay+ issued."""

    code = "INVALID_CODE"


class ExpiredCode(ProtocolError):
    """EXPIRED_CODE: the code's payment is past its paymentExpiryTime."""

    code = "EXPIRED_CODE"


class OrderIsClosed(ProtocolError):
    """ORDER_IS_CLOSED: the order was closed (or already paid or failed)."""

    code = "ORDER_IS_CLOSED"


class OrderNotExist(ProtocolError):
    """ORDER_NOT_EXIST: no decoded payment with this paymentRequestId."""

    code = "ORDER_NOT_EXIST"


class RepeatReqInconsistent(ProtocolError):
    """REPEAT_REQ_INCONSISTENT: same idempotency key, different compared fields."""

    code = "REPEAT_REQ_INCONSISTENT"


class UnknownException(ProtocolError):
    """UNKNOWN_EXCEPTION: an internal error; the wallet should retry the identical request."""

    code = "UNKNOWN_EXCEPTION"
    status = "U"


def result(api: str, code: str, message: str | None = None, status: str = "F") -> dict[str, str]:
    """The `result` object for `code`, from the catalogue (falls back to `status` if absent)."""
    try:
        return catalogue.result(api, code, message)
    except KeyError:
        # An unknown path has no API of its own: the common codes mean the same everywhere.
        for other in catalogue.apis():
            try:
                return catalogue.result(other, code, message)
            except KeyError:
                continue
        log.warning("result code %s is not in the catalogue for %s", code, api)
        return {"resultCode": code, "resultStatus": status, "resultMessage": message or code}


def success(api: str) -> dict[str, str]:
    """The SUCCESS result for `api`."""
    return result(api, "SUCCESS", "Success", status="S")


class Refused(Exception):
    """A control-plane request refused before any call to the wallet, with the protocol's code
    (e.g. a merchant refund above what is left: REFUND_AMOUNT_EXCEED, HTTP 422)."""

    def __init__(self, code: str, message: str, http_status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
