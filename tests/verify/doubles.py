"""Small stand-ins for the kit's tests: a broken wallet hook, a hook that only refuses."""

from __future__ import annotations

import json
from typing import Any

import requests


class CancelIgnoringHook:
    """WSGI: the reference wallet's hook, except that a user's "cancel" is carried out as
    "confirm" (a wallet that charges users who pressed Cancel)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        data = json.loads(raw or b"{}")
        if isinstance(data, dict) and data.get("action") == "cancel":
            data["action"] = "confirm"
        answer = requests.post(self.target, json=data, timeout=60)
        start_response(f"{answer.status_code} X", [("Content-Type", "application/json")])
        return [answer.content]


def refusing_hook(environ: dict, start_response: Any) -> list[bytes]:
    """WSGI: a hook that refuses every request with 400 (enough for the set-up probe)."""
    start_response("400 Bad Request", [("Content-Type", "application/json")])
    return [b'{"error": "codeValue is required"}']
