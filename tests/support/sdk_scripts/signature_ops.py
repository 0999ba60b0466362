"""Run the SDK's pure signing functions in a batch (inside .venv-sdk).

stdin:  {"ops": [{"op": "sign" | "verify" | "check_signature", "args": [...positional...]}]}
stdout: {"results": [{"value": ...} or {"error": "ExceptionType: message"}]}
  sign            signature_tool.sign(http_method, path, client_id, req_time_str, req_body, private_key)
                  -> URL-encoded base64, as the SDK puts it in the header
  verify          signature_tool.verify(http_method, path, client_id, time_str, body, signature, public_key)
  check_signature webhook_tool.check_signature(http_method, path, client_id, time_str, body,
                                               signature_header, public_key)
"""

from __future__ import annotations

import json
import sys

from com.alipay.ams.api.tools import signature_tool, webhook_tool

OPS = {
    "sign": signature_tool.sign,
    "verify": signature_tool.verify,
    "check_signature": webhook_tool.check_signature,
}


def main() -> int:
    """Apply every op in order; an exception is a result, not a crash."""
    job = json.load(sys.stdin)
    results = []
    for item in job["ops"]:
        try:
            value = OPS[item["op"]](*item["args"])
            results.append({"value": bool(value) if item["op"] != "sign" else value})
        except Exception as exc:
            results.append({"error": type(exc).__name__ + ": " + str(exc)})
    json.dump({"results": results}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
