"""contracts.catalogue: the result codes per API, from contracts/data/result_codes.json."""

from __future__ import annotations

import dataclasses

import pytest

from contracts import catalogue
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
    assert catalogue.lookup("refund", "REFUND_AMOUNT_EXCEED").confidence == "confirmed"
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
