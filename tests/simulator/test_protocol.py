"""The inbound pipeline: methods, media types, clients, times, signatures, bodies, bugs."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from contracts import signing
from simulator.apis import user_initiated_pay
from tests.simulator.conftest import PATHS, notify_body

DECODE = PATHS["userInitiatedPay"]
NOTIFY = PATHS["notifyPayment"]


def body_bytes(**fields) -> bytes:
    return json.dumps(fields or {"codeValue": "28166604abc", "customerId": "u1"}).encode()


def test_answers_are_signed_with_lower_case_headers(wallet):
    answer = wallet.call("inquiryCodeRules", {})
    assert answer.headers["client-id"] == wallet.client_id
    assert answer.headers["signature"].startswith("algorithm=RSA256,keyVersion=1,signature=")
    # URL-encoded base64: no raw '+', '/' or '=' after "signature="
    value = answer.headers["signature"].split("signature=", 1)[1]
    assert not set("+/=") & set(value)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_method_not_supported(wallet, method):
    raw = body_bytes()
    answer = wallet.send(DECODE, raw, wallet.headers(DECODE, raw), method=method)
    assert answer.code == "METHOD_NOT_SUPPORTED"


def test_unknown_api_is_invalid_api(wallet):
    path = "/aps/api/v1/payments/pay"
    raw = body_bytes()
    answer = wallet.send(path, raw, wallet.headers(path, raw))
    assert answer.code == "INVALID_API" and answer.result["resultStatus"] == "F"
    assert answer.headers["client-id"] == wallet.client_id


def test_form_body_is_media_type_not_acceptable(wallet):
    raw = b"codeValue=1&customerId=2"
    headers = wallet.headers(DECODE, raw) | {"Content-Type": "application/x-www-form-urlencoded"}
    answer = wallet.send(DECODE, raw, headers)
    assert answer.code == "MEDIA_TYPE_NOT_ACCEPTABLE"


def test_not_json_is_param_illegal(wallet):
    raw = b"{not json"
    answer = wallet.send(DECODE, raw, wallet.headers(DECODE, raw))
    assert answer.code == "PARAM_ILLEGAL" and "JSON" in answer.result["resultMessage"]


def test_json_array_is_param_illegal(wallet):
    raw = b"[1, 2]"
    answer = wallet.send(DECODE, raw, wallet.headers(DECODE, raw))
    assert answer.code == "PARAM_ILLEGAL"


def test_missing_client_id(wallet):
    raw = body_bytes()
    headers = wallet.headers(DECODE, raw)
    del headers["Client-Id"]
    answer = wallet.send(DECODE, raw, headers)
    assert answer.code == "PARAM_ILLEGAL" and "Client-Id" in answer.result["resultMessage"]


def test_unknown_client_is_invalid_client(app, sim):
    from tests.simulator.conftest import Wallet

    stranger = Wallet(app, "SANDBOX_NOBODY", signing.generate_private_key())
    answer = stranger.decode("28166604abc")
    assert answer.code == "INVALID_CLIENT" and "SANDBOX_NOBODY" in answer.result["resultMessage"]


def test_unparseable_request_time_names_the_header(wallet):
    raw = body_bytes()
    headers = wallet.headers(DECODE, raw) | {"Request-Time": "yesterday"}
    answer = wallet.send(DECODE, raw, headers)
    assert answer.code == "PARAM_ILLEGAL" and "Request-Time" in answer.result["resultMessage"]


@pytest.mark.parametrize(
    "request_time",
    ["1735704000000", "2025-01-01T04:00:00.1234567Z", "2025-01-01T12:00:00+0800"],
)
def test_every_sdk_time_form_is_accepted(wallet, make_order, request_time):
    order = make_order()
    raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u1"}).encode()
    value = signing.sign(wallet.private_key, "POST", DECODE, wallet.client_id, request_time, raw)
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "Client-Id": wallet.client_id,
        "Request-Time": request_time,
        # Spaces after the commas are tolerated; the value itself is URL-encoded, as the SDKs send
        # it (a raw base64 value with '+' is refused: see test_signing in tests/contracts).
        "Signature": f"algorithm=RSA256, keyVersion=1, signature={quote(value, safe='')}",
    }
    assert wallet.send(DECODE, raw, headers).code == "SUCCESS"


def test_missing_signature(wallet, sim):
    raw = body_bytes()
    headers = wallet.headers(DECODE, raw)
    del headers["Signature"]
    answer = wallet.send(DECODE, raw, headers)
    assert answer.code == "INVALID_SIGNATURE"
    assert sim.journal.query(limit=1)[0]["signature"] == "missing"


def test_tampered_body_is_invalid_signature(wallet, sim):
    raw = body_bytes()
    headers = wallet.headers(DECODE, raw)
    answer = wallet.send(DECODE, raw.replace(b"u1", b"u2"), headers)
    assert answer.code == "INVALID_SIGNATURE"
    assert sim.journal.query(limit=1)[0]["signature"] == "invalid"


def test_a_refused_notification_is_on_its_payments_timeline(wallet, sim, make_order):
    order = make_order()
    decoded = wallet.decode(order["codeValue"]).body
    raw = json.dumps(notify_body(decoded)).encode()
    headers = wallet.headers(NOTIFY, raw)
    answer = wallet.send(NOTIFY, raw.replace(b'"S"', b'"F"', 1), headers)
    assert answer.code == "INVALID_SIGNATURE"
    entries = sim.journal.query(payment_request_id=decoded["paymentRequestId"])
    assert [e["signature"] for e in entries if e["api"] == "notifyPayment"] == ["invalid"]


def test_reserialised_body_is_invalid_signature(wallet):
    """Signing a re-serialised body instead of the bytes sent is the classic bug."""
    data = {"codeValue": "28166604abc", "customerId": "u1"}
    headers = wallet.headers(DECODE, json.dumps(data).encode())
    answer = wallet.send(DECODE, json.dumps(data, indent=3).encode(), headers)
    assert answer.code == "INVALID_SIGNATURE"


def test_wrong_key_is_invalid_signature(app):
    from tests.simulator.conftest import Wallet

    impostor = Wallet(app, private_key=signing.generate_private_key())
    assert impostor.decode("28166604abc").code == "INVALID_SIGNATURE"


def test_malformed_signature_header(wallet):
    raw = body_bytes()
    headers = wallet.headers(DECODE, raw) | {"Signature": "RSA256 please"}
    answer = wallet.send(DECODE, raw, headers)
    assert answer.code == "INVALID_SIGNATURE" and "malformed" in answer.result["resultMessage"]


def test_participant_without_key_is_key_not_found(app, client):
    from tests.simulator.conftest import Wallet

    assert client.put("/_sim/participants/KEYLESS", json={}).status_code == 200
    answer = Wallet(app, "KEYLESS", signing.generate_private_key()).decode("28166604abc")
    assert answer.code == "KEY_NOT_FOUND"


def test_signature_mode_off_skips_the_check(app, client, sim, make_order):
    from tests.simulator.conftest import Wallet

    client.put(f"/_sim/participants/{sim.config.default_client_id}", json={"signatureMode": "off"})
    order = make_order()
    unsigned = Wallet(app)
    raw = json.dumps({"codeValue": order["codeValue"], "customerId": "u1"}).encode()
    answer = unsigned.send(
        DECODE, raw, {"Content-Type": "application/json", "Client-Id": unsigned.client_id}
    )
    assert answer.code == "SUCCESS"
    assert sim.journal.query(limit=1)[0]["signature"] == "not-checked"


def test_placeholder_signature_only_for_inquiry_code_rules(wallet, sim):
    """The official server SDK fetches rules with 'signature=testing_signature' (spec §2.3)."""
    path = PATHS["inquiryCodeRules"]
    raw = b'{"jarVersion":"1.2.1.20240506"}'
    headers = {
        "client-id": wallet.client_id,
        "request-time": "2025-01-01T12:00:00.000+08:00",
        "signature": "algorithm=RSA256, keyVersion=2, signature=testing_signature",
        "Content-Type": "application/json",
    }
    answer = wallet.send(path, raw, headers)
    assert answer.code == "SUCCESS" and answer.body["codeRules"]
    assert sim.journal.query(limit=1)[0]["signature"] == "placeholder"
    answer = wallet.send(DECODE, raw, headers)
    assert answer.code == "INVALID_SIGNATURE"


def test_internal_bug_answers_unknown_exception_and_journals_the_traceback(
    wallet, sim, monkeypatch
):
    def broken(inbound):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(user_initiated_pay, "handle", broken)
    answer = wallet.decode("28166604abc")
    assert answer.code == "UNKNOWN_EXCEPTION" and answer.result["resultStatus"] == "U"
    entry = sim.journal.query(limit=1)[0]
    assert "ZeroDivisionError" in entry["error"]
    assert "Traceback" in entry["error"]


def test_no_answer_is_ever_html(client):
    for method in ("GET", "POST", "PUT"):
        response = client.open("/aps/whatever", method=method, data=b"<xml/>")
        assert response.status_code == 200
        assert response.get_json()["result"]["resultCode"] in (
            "INVALID_API",
            "METHOD_NOT_SUPPORTED",
        )


def test_a_failure_while_answering_is_still_a_protocol_answer(client, monkeypatch):
    from simulator import protocol

    def broken(*args, **kwargs):
        raise RuntimeError("signing exploded")

    monkeypatch.setattr(protocol.signing, "signed_response_headers", broken)
    response = client.post(DECODE, data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["result"] == {
        "resultCode": "UNKNOWN_EXCEPTION",
        "resultStatus": "U",
        "resultMessage": "internal error",
    }


def test_identical_requests_get_the_same_verdicts_and_odd_encodings_do_not_crash(wallet, sim):
    path = PATHS["inquiryCodeRules"]
    for _ in range(2):  # the second time the verdicts come from the cache: same result
        raw = b'{"jarVersion": ""}'
        answer = wallet.send(path, raw, wallet.headers(path, raw))
        assert answer.code == "PARAM_ILLEGAL" and "jarVersion" in answer.result["resultMessage"]
        assert sim.journal.query(limit=1)[0]["request_violations"][0]["pointer"] == "/jarVersion"
    raw = '{"jarVersion": "1.2.1"}'.encode("utf-16")
    assert wallet.send(path, raw, wallet.headers(path, raw)).code == "SUCCESS"
