"""Temporary: the error helper of the old /_sim routes still in simulator/callbacks.py.

The control plane's one error shape now lives in simulator/control/errors.py (`ControlError`).
Only the duplicate routes at the end of simulator/callbacks.py (shadowed by simulator.control,
which is registered first) import this module; delete it together with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request


def control_error(message: str, status: int = 400, code: str | None = None) -> tuple[Response, int]:
    """`{"error": message[, "code": code]}` with `status` (the control plane's error format)."""
    body: dict[str, Any] = {"error": message}
    if code:
        body["code"] = code
    return jsonify(body), status


def request_json(make_error: Callable[[str], Exception] = ValueError) -> Any:
    """The request's JSON body ({} when empty); raises `make_error(message)` when not JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise make_error("the body is not valid JSON")
    return body
