"""The SDK's DefaultAlipayClient against a loopback gateway of ours, over the plain-HTTP shim.

Its request signature verifies with our parser and verifier; it accepts responses signed by
signed_response_headers and refuses tampered, wrongly keyed or Title-Case-headed ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from flask import Flask, Response, request

from contracts import signing
from tests.support.live_server import live_server
from tests.support.sdk import sdk_call

pytestmark = pytest.mark.sdk

UIP = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY = "/aps/api/v1/payments/notifyPayment"
MPP_CLIENT = "TEST_MPP_CLIENT_001"
RESPONSE_TIME = datetime(2026, 11, 28, 5, 23, 45, tzinfo=UTC)
SUCCESS = {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}


@dataclass
class Gateway:
    """A stand-in Alipay+ gateway: records requests, answers in the mode the test picks."""

    key: signing.RSAPrivateKey
    wrong_key: signing.RSAPrivateKey
    mode: str = "signed"
    reply: dict = field(default_factory=lambda: {"result": SUCCESS})
    received: list[dict] = field(default_factory=list)
    url: str = ""

    def app(self) -> Flask:
        app = Flask("stub-gateway")

        @app.post("/aps/api/v1/payments/<name>")
        def answer(name: str) -> Response:
            self.received.append(
                {
                    "path": request.path,
                    "target": request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI"),
                    "headers": dict(request.headers),
                    "body": request.get_data(),
                }
            )
            body = json.dumps(self.reply, ensure_ascii=False).encode()
            client_id = request.headers.get("Client-Id", "")
            key = self.wrong_key if self.mode == "wrong-key" else self.key
            headers = signing.signed_response_headers(
                key, client_id, request.path, body, RESPONSE_TIME
            )
            if self.mode == "tampered-signature":
                parsed = signing.parse_signature_header(headers["signature"])
                flipped = ("B" if parsed.signature[5] == "A" else "A").join(
                    (parsed.signature[:5], parsed.signature[6:])
                )
                headers["signature"] = signing.format_signature_header(flipped)
            elif self.mode == "tampered-body":
                body = body.replace(b'"S"', b'"F"')
            elif self.mode == "title-case":
                headers = {name.title(): value for name, value in headers.items()}
            elif self.mode == "unsigned":
                headers = {"content-type": headers["content-type"]}
            elif self.mode == "http-500":
                return Response(body, status=500, headers=headers)
            return Response(body, status=200, headers=headers)

        return app


@pytest.fixture(scope="module")
def keys() -> dict[str, signing.RSAPrivateKey]:
    return {name: signing.generate_private_key() for name in ("mpp", "alipay", "wrong")}


@pytest.fixture(scope="module")
def gateway(keys: dict[str, signing.RSAPrivateKey]) -> Iterator[Gateway]:
    gw = Gateway(key=keys["alipay"], wrong_key=keys["wrong"])
    with live_server(gw.app()) as server:
        gw.url = server.url
        yield gw


@pytest.fixture
def call(gateway: Gateway, keys: dict[str, signing.RSAPrivateKey]):
    def run(path: str, body: dict, mode: str = "signed", **kwargs) -> dict:
        gateway.mode = mode
        gateway.reply = kwargs.pop("reply", {"result": SUCCESS})
        gateway.received.clear()
        return sdk_call(
            gateway.url,
            path,
            body,
            MPP_CLIENT,
            signing.private_key_base64(keys["mpp"]),
            signing.public_key_base64(keys["alipay"]),
            **kwargs,
        )

    return run


def test_sdk_request_signature_verifies_with_ours(
    call, gateway: Gateway, keys: dict[str, signing.RSAPrivateKey]
) -> None:
    body = {"codeValue": "281666040000000000000000TEST", "customerId": "顧客-001"}
    out = call(UIP, body)
    assert out["error"] is None, out
    (seen,) = gateway.received
    # the SDK's own wire form: absolute-form target, indent=3 JSON, its exact header names
    assert seen["path"] == UIP
    assert seen["target"] == gateway.url + UIP  # absolute form, as its HTTPS transport sends
    assert "client-id" in out["request"]["headers"]  # lower-case, as the SDK writes it
    assert seen["body"] == json.dumps(body, indent=3).encode()
    assert seen["body"].startswith(b'{\n   "codeValue"')
    assert seen["headers"]["User-Agent"] == "global-open-sdk-python/1.7.1"
    header = signing.parse_signature_header(seen["headers"]["Signature"])
    assert header.algorithm == "RSA256"
    assert header.key_version == "1"
    request_time = seen["headers"]["Request-Time"]
    assert signing.parse_time(request_time).utcoffset() is not None
    assert seen["headers"]["Client-Id"] == MPP_CLIENT
    mpp_public = keys["mpp"].public_key()
    assert signing.verify(
        mpp_public, "POST", UIP, MPP_CLIENT, request_time, seen["body"], header.signature
    )
    signing.verify_headers(mpp_public, UIP, seen["headers"], seen["body"])
    with pytest.raises(signing.SignatureError):
        signing.verify_headers(keys["alipay"].public_key(), UIP, seen["headers"], seen["body"])


def test_sdk_key_version_reaches_the_header(call, gateway: Gateway) -> None:
    out = call(NOTIFY, {"paymentRequestId": "P1"}, key_version="2")
    assert out["error"] is None, out
    assert (
        signing.parse_signature_header(gateway.received[0]["headers"]["Signature"]).key_version
        == "2"
    )


def test_sdk_accepts_our_signed_response(call) -> None:
    reply = {
        "result": SUCCESS,
        "paymentRequestId": "2026112800000000000001",
        "order": {"orderDescription": "Café ×2 — 北京烤鸭"},
    }
    out = call(UIP, {"codeValue": "28166604x", "customerId": "c1"}, reply=reply)
    assert out["error"] is None, out
    assert out["status"] == 200
    assert out["body"] == reply
    assert json.loads(out["returned"]) == reply
    assert set(out["headers"]) >= {"signature", "response-time", "client-id"}
    assert out["headers"]["response-time"] == "2026-11-28T05:23:45+00:00"


@pytest.mark.parametrize(
    ("mode", "sdk_says"),
    [
        ("tampered-signature", "verify failed"),
        ("tampered-body", "verify failed"),
        ("wrong-key", "verify failed"),
        # Python's SDK looks response headers up by exact lower-case name
        ("title-case", "signature not exist"),
        ("unsigned", "signature not exist"),
        ("http-500", "invalid http status 500"),
    ],
)
def test_sdk_refuses_bad_responses(call, mode: str, sdk_says: str) -> None:
    out = call(NOTIFY, {"paymentRequestId": "P1"}, mode=mode)
    assert out["error"] is not None, out
    assert sdk_says in out["error"]
    assert out["returned"] is None
