"""The signed floor and Flask hello-world, served by granian beside aplus-sim in bench/compare.py.

`app` (the signed floor) does the least a signed Alipay+ answer needs and nothing else: it
verifies the request's RSA256 signature against the caller's public key (contracts.signing),
answers a small S body and signs that answer with its own key. No storage, no schema, no state:
what is left of a signed answer's cost is the cryptography and the server.

`hello` is Flask's hello-world: the server and framework alone.

The keys come from the environment (compare.py writes them to a temporary folder):

    FLOOR_CLIENT_PUBLIC_KEY   the caller's public key, bare base64 SPKI
    FLOOR_PRIVATE_KEY_FILE    the floor's private key, PEM
    FLOOR_CLIENT_ID           the Client-Id it signs its answers as

    cd bench && granian --interface wsgi --workers 2 floor_app:app
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, Response, request

from contracts import signing

OK = {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
FAILED = {"resultCode": "INVALID_SIGNATURE", "resultStatus": "F", "resultMessage": ""}

app = Flask("signed_floor")
hello = Flask("hello_world")


def _keys() -> tuple[object, object, str]:
    """The caller's public key, this server's private key and its Client-Id."""
    public = signing.load_public_key(os.environ.get("FLOOR_CLIENT_PUBLIC_KEY", ""))
    private = signing.load_private_key(Path(os.environ["FLOOR_PRIVATE_KEY_FILE"]).read_text())
    return public, private, os.environ.get("FLOOR_CLIENT_ID", "FLOOR")


@app.post("/<path:path>")
def signed(path: str) -> Response:
    """Verify the request's signature, answer S (or F when it does not verify), sign the answer."""
    public, private, client_id = app.config["keys"]
    raw = request.get_data()
    try:
        signing.verify_headers(public, request.path, request.headers, raw)
        body = {"result": OK, "path": request.path}
    except signing.SignatureError as exc:
        body = {"result": {**FAILED, "resultMessage": str(exc)}}
    text = json.dumps(body, separators=(",", ":")).encode()
    headers = signing.signed_response_headers(
        private, client_id, request.path, text, datetime.now(UTC)
    )
    return Response(text, headers=headers)


@hello.get("/")
def hello_world() -> str:
    """Hello, World!"""
    return "Hello, World!"


if os.environ.get("FLOOR_PRIVATE_KEY_FILE"):
    app.config["keys"] = _keys()
