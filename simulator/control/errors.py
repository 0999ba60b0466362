"""The control plane's one error, `ControlError`, and its one JSON shape.

Every /_sim route answers bad input by raising: `ControlError` itself, or a refusal of the layer
below (a `ValueError` such as `OrderError`, `ParticipantError`, `RuleError`, `BadQuery`, or the
callbacks' `Refused`); the handler registered on the whole /_sim prefix (simulator.control)
turns each into

    HTTP <status> {"error": "<message>", "code": "<protocol code>"?, "field": "<name>"?}

`code` is the protocol's name for the refusal when there is one (PARAM_ILLEGAL,
ORDER_NOT_EXIST, REFUND_AMOUNT_EXCEED, ...); `field` names the offending field or query
parameter when one is to blame. No route builds an error response itself.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request


class ControlError(Exception):
    """A control-plane request refused: HTTP `status`, a message, and optionally code and field."""

    def __init__(
        self, message: str, status: int = 400, code: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field

    @classmethod
    def bad(cls, message: str, field: str | None = None) -> ControlError:
        """HTTP 400 PARAM_ILLEGAL: the request itself is wrong."""
        return cls(message, 400, "PARAM_ILLEGAL", field)

    @classmethod
    def not_found(cls, message: str, code: str | None = None) -> ControlError:
        """HTTP 404: the thing named in the path does not exist."""
        return cls(message, 404, code)

    @classmethod
    def refusal(cls, exc: Exception) -> ControlError:
        """A refusal of the layer below: its status and code when it has them, else 400."""
        if isinstance(exc, ControlError):
            return exc
        status = getattr(exc, "http_status", 400)
        code = getattr(exc, "code", None) or "PARAM_ILLEGAL"
        return cls(str(exc), status, code, getattr(exc, "field", None))

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        body: dict[str, Any] = {"error": self.message}
        if self.code:
            body["code"] = self.code
        if self.field:
            body["field"] = self.field
        return body


def render(exc: Exception) -> tuple[Response, int]:
    """The one error handler of /_sim: any refusal as `{"error", "code"?, "field"?}`."""
    error = ControlError.refusal(exc)
    return jsonify(error.body()), error.status


def request_json() -> Any:
    """The request's JSON body ({} when empty); ControlError when it is not JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ControlError.bad("the body is not valid JSON")
    return body


def request_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object ({} when empty)."""
    body = request_json()
    if not isinstance(body, dict):
        raise ControlError.bad("the body must be a JSON object")
    return body
