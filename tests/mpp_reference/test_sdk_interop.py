"""The official global-open-sdk-python, playing Alipay+, calls the wallet and accepts its answers."""

from __future__ import annotations

import json

import pytest

from contracts import signing
from tests.support.live_server import live_server
from tests.support.sdk import sdk_call

pytestmark = pytest.mark.sdk


def test_the_official_sdk_calls_inquiry_payment_and_verifies_the_signed_answer(env):
    order = env.alipay.add_order()
    state = env.driver(order["codeValue"], env.rich_user())
    body = {
        "acquirerId": "1022188000000000001",
        "pspId": "1022172000000000001",
        "paymentRequestId": state["paymentRequestId"],
    }
    with live_server(env.app) as wallet:
        answer = sdk_call(
            wallet.url,
            "/aps/api/v1/payments/inquiryPayment",
            body,
            env.wallet.config.client_id,
            signing.private_key_base64(env.alipay.private_key),
            signing.public_key_base64(env.wallet.private_key),
        )
        tampered = sdk_call(
            wallet.url,
            "/aps/api/v1/payments/inquiryPayment",
            body,
            env.wallet.config.client_id,
            signing.private_key_base64(signing.generate_private_key()),  # not Alipay+'s key
            signing.public_key_base64(env.wallet.private_key),
        )
    assert answer["error"] is None, answer
    returned = json.loads(answer["returned"])
    assert returned["paymentResult"]["resultCode"] == "SUCCESS"
    assert returned["paymentId"] == state["paymentId"]
    rejected = json.loads(tampered["raw_body"])
    assert rejected["result"]["resultCode"] == "INVALID_SIGNATURE"
