"""Result objects in the protocol's own terms, and the wallet's errors declared once per code."""

from __future__ import annotations

from typing import Any

from contracts import catalogue


def result(api: str, code: str, message: str | None = None) -> dict[str, str]:
    """A `result` object for `code` with the status the contract's catalogue gives it."""
    try:
        return catalogue.result(api, code, message)
    except KeyError:
        # A code the catalogue does not list for this API (or no catalogue): S only for
        # SUCCESS, U for the documented unknown-outcome codes, F for everything else.
        status = "S" if code == "SUCCESS" else "U" if code in _UNKNOWN else "F"
        return {"resultCode": code, "resultStatus": status, "resultMessage": message or code}


_UNKNOWN = {"UNKNOWN_EXCEPTION", "PAYMENT_IN_PROCESS", "REQUEST_TRAFFIC_EXCEED_LIMIT"}


class ApiError(Exception):
    """A request Alipay+ sent that the wallet answers with a non-S `result`."""

    code = "PROCESS_FAIL"

    def __init__(self, message: str | None = None, code: str | None = None) -> None:
        super().__init__(message or "")
        if code:
            self.code = code
        self.message = message

    def body(self, api: str) -> dict[str, Any]:
        """The answer body."""
        return {"result": result(api, self.code, self.message)}


class ParamIllegal(ApiError):
    """A field is missing or wrong (the message names it)."""

    code = "PARAM_ILLEGAL"


class InvalidSignature(ApiError):
    """The request's signature does not verify with Alipay+'s public key."""

    code = "INVALID_SIGNATURE"


class InvalidClient(ApiError):
    """The Client-Id is not this wallet's."""

    code = "INVALID_CLIENT"


class OrderNotExist(ApiError):
    """The wallet has never seen this paymentRequestId."""

    code = "ORDER_NOT_EXIST"


class RepeatReqInconsistent(ApiError):
    """Same idempotency key, different compared fields."""

    code = "REPEAT_REQ_INCONSISTENT"


class RefundAmountExceed(ApiError):
    """The refunds would add up to more than the user paid."""

    code = "REFUND_AMOUNT_EXCEED"


class RefundWindowExceed(ApiError):
    """The payment is older than the refund window (366 days)."""

    code = "REFUND_WINDOW_EXCEED"


class OrderStatusInvalid(ApiError):
    """Only a successful payment can be refunded."""

    code = "ORDER_STATUS_INVALID"
