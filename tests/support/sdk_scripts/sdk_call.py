"""Call one path with one body as one client through the official DefaultAlipayClient.

Runs inside .venv-sdk. Reads JSON on stdin:
  {"base_url": "http://127.0.0.1:PORT", "path": "/aps/api/v1/payments/userInitiatedPay",
   "body": {...} or "raw text", "client_id": "...", "private_key": "<base64 PKCS#8>",
   "alipay_public_key": "<base64 SPKI>", "key_version": null, "indent": 3}
Writes JSON on stdout: {"status", "headers", "body", "raw_body", "error", "returned", "request"}.
`error` is the SDK's own exception text (for example a response it refused to accept), else null.
"""

from __future__ import annotations

import json
import sys

import plain_http
from com.alipay.ams.api.default_alipay_client import DefaultAlipayClient
from com.alipay.ams.api.request.alipay_request import AlipayRequest


class GenericRequest(AlipayRequest):
    """Any Alipay+ path: the SDK only ships /ams request classes, so give it the path and body."""

    def __init__(self, path, body, indent, key_version=None):
        super().__init__(path, key_version=key_version)
        self.__body = body
        self.__indent = indent

    def to_ams_json(self):
        """The body as the SDK's own request classes write it: json.dumps(..., indent=3)."""
        if isinstance(self.__body, str):
            return self.__body
        return json.dumps(self.__body, indent=self.__indent)


def main() -> int:
    """Run the call described on stdin and print what came back."""
    job = json.load(sys.stdin)
    plain_http.install()
    client = DefaultAlipayClient(
        job["base_url"], job["client_id"], job["private_key"], job["alipay_public_key"]
    )
    request = GenericRequest(
        job["path"], job["body"], job.get("indent", 3), key_version=job.get("key_version")
    )
    out = {
        "status": None,
        "headers": {},
        "body": None,
        "raw_body": None,
        "error": None,
        "returned": None,
        "request": None,
    }
    try:
        out["returned"] = client.execute(request)
    except Exception as exc:  # the SDK raises AlipayApiException; report any failure as data
        out["error"] = type(exc).__name__ + ": " + str(exc)
    if plain_http.EXCHANGES:
        exchange = plain_http.EXCHANGES[-1]
        out["request"] = {
            "url": exchange["url"],
            "headers": exchange["request_headers"],
            "body": exchange["request_body"],
        }
        if "status" in exchange:
            raw = exchange["body"].decode("utf-8", errors="replace")
            out["status"] = exchange["status"]
            out["headers"] = dict(exchange["headers"])
            out["raw_body"] = raw
            try:
                out["body"] = json.loads(raw)
            except ValueError:
                out["body"] = raw
    json.dump(out, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
