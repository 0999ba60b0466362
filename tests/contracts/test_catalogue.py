"""contracts.catalogue: the result codes per API, from contracts/data/result_codes.json."""

from __future__ import annotations

import dataclasses

import pytest

from contracts import catalogue, validate
from contracts.validation import APIS


def test_every_api_and_payment_result_are_catalogued() -> None:
    assert set(catalogue.apis()) == {*APIS, "paymentResult"}


@pytest.mark.parametrize("api", [*APIS, "paymentResult"])
def test_every_api_has_success_and_well_formed_entries(api: str) -> None:
    entries = catalogue.codes(api)
    assert catalogue.lookup(api, "SUCCESS").status == "S"
    for entry in entries:
        assert entry.api == api
        assert entry.status in ("S", "F", "U")
        assert entry.confidence in ("confirmed", "inferred")
        assert entry.meaning and entry.action
        assert len(entry.code) <= 64 and len(entry.meaning) <= 256


def test_lookup_returns_a_frozen_record() -> None:
    entry = catalogue.lookup("userInitiatedPay", "REPEAT_REQ_INCONSISTENT")
    assert (entry.status, entry.confidence) == ("F", "confirmed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.status = "S"  # type: ignore[misc]


def test_spec_codes_are_where_the_spec_puts_them() -> None:
    assert catalogue.lookup("userInitiatedPay", "EXPIRED_CODE").status == "F"
    assert catalogue.lookup("notifyPayment", "UNKNOWN_EXCEPTION").status == "U"
    assert catalogue.lookup("inquiryPayment", "ORDER_NOT_EXIST").status == "F"
    # named only by the ACQP edition of refund and by AlipayHK: inferred for the wallet's refund
    assert catalogue.lookup("refund", "REFUND_AMOUNT_EXCEED").confidence == "inferred"
    assert catalogue.lookup("paymentResult", "PAYMENT_IN_PROCESS").status == "U"
    assert catalogue.lookup("paymentResult", "USER_BALANCE_NOT_ENOUGH").status == "F"
    assert catalogue.lookup("identifyCode", "PARAM_ILLEGAL").status == "F"
    # inquiryCodeRules has no idempotency key, so no REPEAT_REQ_INCONSISTENT
    assert "REPEAT_REQ_INCONSISTENT" not in {c.code for c in catalogue.codes("inquiryCodeRules")}


def test_unknown_code_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        catalogue.lookup("refund", "NOPE")
    assert "NOPE" in str(info.value) and "REFUND_AMOUNT_EXCEED" in str(info.value)


def test_unknown_api_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        catalogue.codes("pay")
    assert "userInitiatedPay" in str(info.value)


def test_result_builds_a_result_object() -> None:
    assert catalogue.result("cancelPayment", "SUCCESS", "ok") == {
        "resultCode": "SUCCESS",
        "resultStatus": "S",
        "resultMessage": "ok",
    }
    default = catalogue.result("notifyPayment", "PARAM_ILLEGAL")
    assert default["resultStatus"] == "F"
    assert default["resultMessage"] == catalogue.lookup("notifyPayment", "PARAM_ILLEGAL").meaning


def test_result_objects_are_valid_results() -> None:
    from contracts import validate

    for api in ("notifyPayment", "cancelPayment"):
        for entry in catalogue.codes(api):
            assert validate(api, "response", {"result": catalogue.result(api, entry.code)}) == []


def test_the_seed_decode_failures_are_catalogued_and_confirmed() -> None:
    # "Make a payment", Step 2: F ACCESS_DENIED, BUSINESS_NOT_SUPPORT; U REQUEST_TRAFFIC_...
    for code, status in (
        ("ACCESS_DENIED", "F"),
        ("BUSINESS_NOT_SUPPORT", "F"),
        ("REQUEST_TRAFFIC_EXCEED_LIMIT", "U"),
        ("UNKNOWN_EXCEPTION", "U"),
    ):
        entry = catalogue.lookup("userInitiatedPay", code)
        assert (entry.status, entry.confidence) == (status, "confirmed")
        assert "Make a payment" in entry.source


@pytest.mark.parametrize("api", [*APIS, "paymentResult"])
def test_every_entry_names_its_source(api: str) -> None:
    for entry in catalogue.codes(api):
        assert entry.source, (api, entry.code)


def test_common_codes_from_the_acqp_page_are_not_called_confirmed() -> None:
    # The common error-code page seen is the ACQP edition (spec section 2.6).
    for api in ("inquiryCodeRules", "notifyPayment", "cancelPayment", "refund"):
        entry = catalogue.lookup(api, "INVALID_SIGNATURE")
        assert entry.confidence == "inferred" and "ACQP edition" in entry.source


def test_known_tells_catalogued_codes_apart() -> None:
    assert catalogue.known("userInitiatedPay", "BUSINESS_NOT_SUPPORT")
    assert not catalogue.known("userInitiatedPay", "SOME_NEW_CODE")
    assert not catalogue.known("cancelPayment", "REFUND_AMOUNT_EXCEED")
    with pytest.raises(KeyError, match="not in the result-code catalogue"):
        catalogue.known("pay", "SUCCESS")


def test_a_code_outside_the_catalogue_is_built_with_an_explicit_status() -> None:
    built = catalogue.result("userInitiatedPay", "SOME_NEW_CODE", status="F")
    assert built == {
        "resultCode": "SOME_NEW_CODE",
        "resultStatus": "F",
        "resultMessage": "SOME_NEW_CODE (outside the catalogue of userInitiatedPay)",
    }
    assert catalogue.outside("refund", "LATER_CODE", "U", "try again") == {
        "resultCode": "LATER_CODE",
        "resultStatus": "U",
        "resultMessage": "try again",
    }
    # it is a valid result on the wire: an unknown code is not a contract violation
    assert validate("refund", "response", {"result": built}) == []
    with pytest.raises(KeyError, match="needs an explicit status"):
        catalogue.result("userInitiatedPay", "SOME_NEW_CODE")


def test_explicit_status_must_agree_with_the_catalogue() -> None:
    assert catalogue.result("notifyPayment", "UNKNOWN_EXCEPTION", status="U")["resultStatus"] == "U"
    with pytest.raises(ValueError, match="documented with status U"):
        catalogue.result("notifyPayment", "UNKNOWN_EXCEPTION", status="F")


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("SUCCESS", "S", "in the catalogue"),
        ("NEW_CODE", "X", "not one of S, F, U"),
        ("lower_case", "F", "upper-case"),
        ("A" * 65, "F", "upper-case"),
        ("", "F", "upper-case"),
    ],
)
def test_outside_refuses_what_is_not_a_new_code(code: str, status: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        catalogue.outside("cancelPayment", code, status)
