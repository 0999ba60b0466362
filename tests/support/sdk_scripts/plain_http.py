"""Plain-HTTP transport for the official Python SDK (runs inside .venv-sdk, never in .venv).

global-open-sdk-python 1.7.1 always opens HTTPS to <host>:443 and ignores the gateway URL's scheme
and port. `install()` swaps only its transport (sdk-interop.md section 6, option 2): the SDK still
builds the request, signs it, sends the same method, request target, headers and body, and
verifies the response with its own code. Every exchange is kept in `EXCHANGES` for the caller.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXCHANGES: list[dict] = []


def http_do_post(url, headers=None, req_body=None, charset="UTF-8"):
    """Drop-in for default_http_rpc.do_post that talks plain HTTP to a loopback host:port."""
    from com.alipay.ams.api.exception.exception import AlipayApiException

    target = urlsplit(url)
    if target.hostname not in LOOPBACK:
        raise AlipayApiException(
            "plain-HTTP shim only talks to loopback, not " + str(target.hostname)
        )
    body = req_body.encode(charset)
    exchange = {"url": url, "request_headers": dict(headers or {}), "request_body": req_body}
    EXCHANGES.append(exchange)
    connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=15)
    try:
        # Absolute-form request target, exactly as the SDK's HTTPS transport sends it.
        connection.request("POST", url, body=body, headers=headers or {})
        response = connection.getresponse()
        result = response.read()
    except OSError as exc:
        raise AlipayApiException("connect failed. " + str(exc)) from exc
    finally:
        connection.close()
    exchange.update(status=response.status, headers=response.getheaders(), body=result)
    if response.status != 200:
        raise AlipayApiException("invalid http status " + str(response.status))
    return response.getheaders(), result


def install() -> None:
    """Point DefaultAlipayClient at http_do_post (the name it imported from default_http_rpc)."""
    from com.alipay.ams.api import default_alipay_client

    default_alipay_client.do_post = http_do_post
