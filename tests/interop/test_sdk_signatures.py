"""Our signatures and the official SDK's signature_tool / webhook_tool agree, both ways."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization

from contracts import signing
from tests.support.sdk import sdk_sign, sdk_signature_ops

pytestmark = pytest.mark.sdk

UIP = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY = "/aps/api/v1/payments/notifyPayment"
INQUIRY = "/aps/api/v1/payments/inquiryPayment"
CLIENT = "SANDBOX_5YC2222ZME3Z08358"

ORDER = {
    "paymentRequestId": "2026112800000000000001",
    "order": {
        "orderDescription": "Café au lait ×2 — 北京烤鸭 🦆",
        "orderAmount": {"currency": "SGD", "value": "1250"},
        "merchant": {"merchantName": "Kōhī Ya", "merchantMCC": "5814"},
    },
    "paymentAmount": {"currency": "SGD", "value": "1250"},
}

BODIES = {
    "compact": '{"paymentRequestId":"P1"}',
    "indent-3-ascii-escaped (what the SDK's request classes write)": json.dumps(ORDER, indent=3),
    "indent-3-raw-utf8": json.dumps(ORDER, indent=3, ensure_ascii=False),
    "trailing newline and tabs": '{\n\t"customerId": "cust-001"\n}\n',
    "empty": "",
}

TIMES = [
    "2026-11-28T05:23:44+00:00",
    "2026-11-28T13:23:44.000+08:00",
    "2026-11-28T05:23:44.1234567Z",
    "2026-11-28T05:23:44+0000",
    "1764307424000",
]


@pytest.fixture(scope="module")
def key() -> signing.RSAPrivateKey:
    return signing.generate_private_key()


def _sdk_private_key_forms(key: signing.RSAPrivateKey) -> dict[str, str]:
    """The private key encodings the Python SDK's sign() accepts."""
    pkcs1_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return {
        "pkcs8-base64 (ours)": signing.private_key_base64(key),
        "pkcs1-base64": base64.b64encode(pkcs1_der).decode(),
        "pkcs1-pem (ours)": signing.private_key_pem(key, pkcs1=True),
    }


def test_sdk_signatures_verify_with_ours(key: signing.RSAPrivateKey) -> None:
    forms = _sdk_private_key_forms(key)
    # every body with every key form, and every time format (not the full product: the
    # SDK re-reads the key text on every call, which is slow)
    cases = [
        (body_name, body, TIMES[0], key_name, key_text)
        for body_name, body in BODIES.items()
        for key_name, key_text in forms.items()
    ]
    cases += [
        (
            "indent-3-raw-utf8",
            BODIES["indent-3-raw-utf8"],
            time_str,
            "pkcs8",
            forms["pkcs8-base64 (ours)"],
        )
        for time_str in TIMES[1:]
    ]
    ops = [("sign", ["POST", UIP, CLIENT, t, body, k]) for _, body, t, _, k in cases]
    results = sdk_signature_ops(ops)
    public = key.public_key()
    for (body_name, body, time_str, key_name, _), result in zip(cases, results, strict=True):
        assert "error" not in result, (body_name, key_name, result)
        sdk_value = result["value"]
        # what the SDK produced goes into the header verbatim: parse it as a server would
        header = f"algorithm=RSA256,keyVersion=1,signature={sdk_value}"
        parsed = signing.parse_signature_header(header)
        assert signing.verify(
            public, "POST", UIP, CLIENT, time_str, body.encode(), parsed.signature
        ), (
            body_name,
            time_str,
            key_name,
        )
        assert not signing.verify(
            public, "POST", NOTIFY, CLIENT, time_str, body.encode(), parsed.signature
        )
        # PKCS#1 v1.5 is deterministic: the same message gives byte-identical signatures
        assert parsed.signature == signing.sign(key, "POST", UIP, CLIENT, time_str, body.encode())


def test_sdk_sign_refuses_a_pkcs8_pem_as_the_spec_says(key: signing.RSAPrivateKey) -> None:
    (result,) = sdk_signature_ops(
        [("sign", ["POST", UIP, CLIENT, TIMES[0], "{}", signing.private_key_pem(key)])]
    )
    assert "error" in result  # why we hand the SDK bare base64 PKCS#8 (private_key_base64)


def test_our_signatures_verify_with_the_sdk(key: signing.RSAPrivateKey) -> None:
    public_b64 = signing.public_key_base64(key)
    ops = []
    for body in BODIES.values():
        for time_str in TIMES:
            value = signing.sign(key, "POST", INQUIRY, CLIENT, time_str, body.encode())
            header = signing.format_signature_header(value)
            sdk_value = header.split("signature=")[1]
            ops.append(("verify", ["POST", INQUIRY, CLIENT, time_str, body, sdk_value, public_b64]))
            ops.append(
                ("check_signature", ["POST", INQUIRY, CLIENT, time_str, body, header, public_b64])
            )
            # tampered body: the SDK must refuse it
            ops.append(
                ("verify", ["POST", INQUIRY, CLIENT, time_str, body + " ", sdk_value, public_b64])
            )
    results = sdk_signature_ops(ops)
    for index, result in enumerate(results):
        if index % 3 == 2:
            assert result.get("value") is not True, result
            assert "Verification" in result.get("error", ""), result
        else:
            assert result == {"value": True}, (index, result)


def test_our_signed_request_headers_pass_the_sdk_webhook_check(key: signing.RSAPrivateKey) -> None:
    """What the simulator sends to a wallet (pay/inquiry/cancel/refund) checks out with Ant's code."""
    body = json.dumps(
        {"paymentRequestId": "2026112800000000000001", "note": "Ünïcødé ✓"}, ensure_ascii=False
    )
    when = datetime(2026, 11, 28, 5, 23, 44, tzinfo=UTC)
    headers = signing.signed_request_headers(key, CLIENT, INQUIRY, body.encode(), when, "2")
    public_b64 = signing.public_key_base64(key)
    args = ["POST", INQUIRY, CLIENT, headers["Request-Time"], body]
    results = sdk_signature_ops(
        [
            ("check_signature", [*args, headers["Signature"], public_b64]),
            (
                "check_signature",
                [
                    "POST",
                    NOTIFY,
                    CLIENT,
                    headers["Request-Time"],
                    body,
                    headers["Signature"],
                    public_b64,
                ],
            ),
            ("check_signature", [*args, "algorithm=RSA256,keyVersion=2", public_b64]),
        ]
    )
    assert results[0] == {"value": True}
    assert "error" in results[1]
    assert "signature invalid" in results[2]["error"]


def test_raw_base64_breaks_the_sdk_so_we_always_url_encode(key: signing.RSAPrivateKey) -> None:
    """The SDK unquote_plus()es the value: a raw '+' becomes a space and verification fails."""
    public_b64 = signing.public_key_base64(key)
    for n in range(50):
        body = json.dumps({"paymentRequestId": f"P{n}"})
        value = signing.sign(key, "POST", NOTIFY, CLIENT, TIMES[0], body.encode())
        if "+" in value:
            break
    else:
        pytest.fail("no signature with '+' in 50 tries")
    encoded = signing.format_signature_header(value).split("signature=")[1]
    raw_result, encoded_result = sdk_signature_ops(
        [
            ("verify", ["POST", NOTIFY, CLIENT, TIMES[0], body, value, public_b64]),
            ("verify", ["POST", NOTIFY, CLIENT, TIMES[0], body, encoded, public_b64]),
        ]
    )
    assert "error" in raw_result
    assert encoded_result == {"value": True}


def test_sdk_sign_helper_matches_ours(key: signing.RSAPrivateKey) -> None:
    body = BODIES["indent-3-raw-utf8"]
    value = sdk_sign("POST", UIP, CLIENT, TIMES[1], body, signing.private_key_base64(key))
    assert (
        value
        == signing.format_signature_header(
            signing.sign(key, "POST", UIP, CLIENT, TIMES[1], body.encode())
        ).split("signature=")[1]
    )
