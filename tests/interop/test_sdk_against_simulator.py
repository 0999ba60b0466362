"""The official Python SDK client pays an order end to end against a running simulator.

userInitiatedPay and notifyPayment go through the SDK's DefaultAlipayClient (its signing, its
headers, its response verification); only the transport is plain HTTP on loopback. In the
other direction, the simulator's calls to a wallet pass the SDK's webhook_tool.check_signature.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask import Flask, Response, request

from contracts import signing
from simulator import create_app
from tests.support.live_server import live_server
from tests.support.sdk import sdk_call, sdk_signature_ops

pytestmark = pytest.mark.sdk

UIP = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY = "/aps/api/v1/payments/notifyPayment"


@dataclass
class Simulator:
    """A running simulator and what a wallet developer gets from its control plane."""

    url: str
    public_key: str  # bare base64 SPKI, from GET /_sim/keys
    default_client_id: str
    default_private_key: str  # bare base64 PKCS#8, from the key files the simulator wrote

    def order(self, **fields) -> dict:
        """POST /_sim/orders (the merchant side) and return the order."""
        body = {"amount": {"currency": "SGD", "value": "1250"}, **fields}
        answer = requests.post(f"{self.url}/_sim/orders", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def payment(self, payment_request_id: str) -> dict:
        """GET /_sim/payments/<id>."""
        answer = requests.get(f"{self.url}/_sim/payments/{payment_request_id}", timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    data_dir = tmp_path_factory.mktemp("sim")
    app = create_app({"data_dir": data_dir, "clock": "virtual", "run_scheduler": False})
    with live_server(app) as server:
        app.extensions["aplus_sim"].config.base_url = server.url
        keys = requests.get(f"{server.url}/_sim/keys", timeout=10).json()
        private_key = (Path(keys["defaultMppKeyDir"]) / "private_key.txt").read_text().strip()
        yield Simulator(server.url, keys["publicKey"], keys["defaultClientId"], private_key)


def _pay(simulator: Simulator, client_id: str, private_key: str, order: dict) -> tuple[dict, dict]:
    """Decode the order's code and notify success, both through the SDK client."""
    decoded = sdk_call(
        simulator.url,
        UIP,
        {"codeValue": order["codeValue"], "customerId": "cust-sdk-001"},
        client_id,
        private_key,
        simulator.public_key,
    )
    assert decoded["error"] is None, decoded
    decode_body = decoded["body"]
    assert decode_body["result"]["resultStatus"] == "S", decode_body
    notified = sdk_call(
        simulator.url,
        NOTIFY,
        {
            "paymentRequestId": decode_body["paymentRequestId"],
            "paymentId": "SDKPAY0000000001",
            "paymentResult": {
                "resultCode": "SUCCESS",
                "resultStatus": "S",
                "resultMessage": "success",
            },
            "paymentTime": "2026-11-28T13:23:44+08:00",
            "paymentAmount": decode_body["paymentAmount"],
            "payToAmount": decode_body["payToAmount"],
            "customerId": "cust-sdk-001",
        },
        client_id,
        private_key,
        simulator.public_key,
    )
    return decoded, notified


def test_default_wallet_pays_through_the_official_client(simulator: Simulator) -> None:
    order = simulator.order()
    decoded, notified = _pay(
        simulator, simulator.default_client_id, simulator.default_private_key, order
    )
    assert decoded["body"]["paymentRequestId"] == order["paymentRequestId"]
    assert decoded["body"]["codeType"] == "ORDER_CODE"
    # the simulator answers as the Python SDK needs: lower-case, URL-encoded, signed
    headers = decoded["headers"]
    assert {"signature", "response-time", "client-id"} <= set(headers)
    assert "%" in headers["signature"].split("signature=")[1]
    signing.verify_headers(
        simulator.public_key,
        UIP,
        headers,
        decoded["raw_body"].encode(),
        time_header="Response-Time",
    )
    assert notified["error"] is None, notified
    assert notified["body"]["result"]["resultStatus"] == "S", notified["body"]
    assert simulator.payment(order["paymentRequestId"])["status"] == "SUCCESS"


def test_own_registered_key_works_with_the_official_client(simulator: Simulator) -> None:
    key = signing.generate_private_key()
    client_id = "SANDBOX_SDK_INTEROP_02"
    registered = requests.put(
        f"{simulator.url}/_sim/participants/{client_id}",
        json={"publicKey": signing.public_key_pem(key), "walletCurrency": "SGD"},
        timeout=10,
    )
    assert registered.status_code == 200, registered.text
    order = simulator.order(clientId=client_id)
    _, notified = _pay(simulator, client_id, signing.private_key_base64(key), order)
    assert notified["error"] is None, notified
    assert notified["body"]["result"]["resultStatus"] == "S"
    assert simulator.payment(order["paymentRequestId"])["status"] == "SUCCESS"


def test_wrong_key_gets_invalid_signature_the_sdk_can_read(simulator: Simulator) -> None:
    order = simulator.order()
    stranger = signing.private_key_base64(signing.generate_private_key())
    out = sdk_call(
        simulator.url,
        UIP,
        {"codeValue": order["codeValue"], "customerId": "cust-sdk-001"},
        simulator.default_client_id,
        stranger,
        simulator.public_key,
    )
    # HTTP 200 with a result the SDK accepts (an F may be unsigned; signed is checked if present)
    assert out["error"] is None, out
    assert out["status"] == 200
    assert out["body"]["result"]["resultCode"] == "INVALID_SIGNATURE"
    assert out["body"]["result"]["resultStatus"] == "F"
    assert simulator.payment(order["paymentRequestId"])["status"] == "CREATED"


def test_unknown_code_is_a_signed_failure_the_sdk_accepts(simulator: Simulator) -> None:
    out = sdk_call(
        simulator.url,
        UIP,
        {"codeValue": "281666040000NOT-A-REAL-CODE", "customerId": "cust-sdk-001"},
        simulator.default_client_id,
        simulator.default_private_key,
        simulator.public_key,
    )
    assert out["error"] is None, out
    assert out["body"]["result"]["resultStatus"] == "F", json.dumps(out["body"])
    assert "signature" in out["headers"]  # failures are signed too, so the SDK verified it


@dataclass
class StubWallet:
    """A wallet's endpoints: records what the simulator sends and answers signed, as a wallet."""

    key: signing.RSAPrivateKey
    client_id: str
    received: list[dict]

    def app(self) -> Flask:
        app = Flask("stub-wallet")

        @app.post("/aps/api/v1/payments/<name>")
        def answer(name: str) -> Response:
            raw = request.get_data()
            self.received.append(
                {"api": name, "path": request.path, "headers": dict(request.headers), "body": raw}
            )
            reply: dict = {
                "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
            }
            if name == "inquiryPayment":
                reply["paymentResult"] = {
                    "resultCode": "PAYMENT_IN_PROCESS",
                    "resultStatus": "U",
                    "resultMessage": "in process",
                }
            body = json.dumps(reply).encode()
            headers = signing.signed_response_headers(
                self.key, self.client_id, request.path, body, datetime.now(UTC)
            )
            return Response(body, headers=headers)

        return app


def test_simulator_calls_to_the_wallet_pass_the_sdk_webhook_check(simulator: Simulator) -> None:
    """What the simulator sends a wallet (inquiryPayment, cancelPayment) checks out with Ant's code."""
    key = signing.generate_private_key()
    client_id = "SANDBOX_SDK_INTEROP_03"
    wallet = StubWallet(key, client_id, [])
    with live_server(wallet.app()) as stub:
        urls = {
            "inquiryPaymentUrl": f"{stub.url}/aps/api/v1/payments/inquiryPayment",
            "cancelPaymentUrl": f"{stub.url}/aps/api/v1/payments/cancelPayment",
            "refundUrl": f"{stub.url}/aps/api/v1/payments/refund",
        }
        registered = requests.put(
            f"{simulator.url}/_sim/participants/{client_id}",
            json={"publicKey": signing.public_key_base64(key), **urls},
            timeout=10,
        )
        assert registered.status_code == 200, registered.text
        order = simulator.order(clientId=client_id)
        decoded = sdk_call(
            simulator.url,
            UIP,
            {"codeValue": order["codeValue"], "customerId": "cust-sdk-003"},
            client_id,
            signing.private_key_base64(key),
            simulator.public_key,
        )
        assert decoded["error"] is None, decoded
        closed = requests.post(
            f"{simulator.url}/_sim/payments/{order['paymentRequestId']}/cancel",
            json={"reason": "merchant closed the order"},
            timeout=10,
        )
        assert closed.status_code == 202, closed.text
        moved = requests.post(
            f"{simulator.url}/_sim/clock/advance", json={"seconds": 10}, timeout=30
        )
        assert moved.status_code == 200, moved.text
    apis = {item["api"] for item in wallet.received}
    assert "cancelPayment" in apis, wallet.received
    ops = []
    for item in wallet.received:
        headers = item["headers"]
        args = [
            "POST",
            item["path"],
            headers["Client-Id"],
            headers["Request-Time"],
            item["body"].decode("utf-8"),
        ]
        ops.append(("check_signature", [*args, headers["Signature"], simulator.public_key]))
        ops.append(
            (
                "check_signature",
                [*args[:4], args[4] + " ", headers["Signature"], simulator.public_key],
            )
        )
    results = sdk_signature_ops(ops)
    for item, good, tampered in zip(wallet.received, results[::2], results[1::2], strict=True):
        assert good == {"value": True}, (item["api"], good)
        assert "error" in tampered, (item["api"], tampered)
