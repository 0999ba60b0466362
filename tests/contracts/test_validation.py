"""contracts.validate: schema violations and domain rules, reported at the right JSON pointer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from contracts import Violation, validate
from contracts.validation import APIS, KINDS, fast_check, registry, schema

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of a fixture sample message."""
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def found(api: str, kind: str, message: Any) -> set[tuple[str, str]]:
    """The (pointer, rule) pairs `validate` reports."""
    return {(v.pointer, v.rule) for v in validate(api, kind, message)}


DECODE = "userInitiatedPay.response.success"
NOTIFY = "notifyPayment.request.official-sample"


# -- the acceptance case ----------------------------------------------------------------


def test_spec_sample_decode_response_validates() -> None:
    assert validate("userInitiatedPay", "response", sample(DECODE)) == []


def test_decimal_amount_is_rejected_naming_the_pointer() -> None:
    message = sample(DECODE)
    message["paymentAmount"] = {"currency": "USD", "value": "100.00"}
    message["paymentQuote"]["quoteCurrencyPair"] = "USD/KRW"
    message["paymentQuote"]["quotePrice"] = "0.0905"
    violations = validate("userInitiatedPay", "response", message)
    at = [v for v in violations if v.pointer == "/paymentAmount/value"]
    assert [v.rule for v in at] == ["amount.minor-units"]
    assert at[0].message.startswith("/paymentAmount/value: '100.00' is not an integer number")
    assert "cents" in at[0].message and '"10000" for 100.00 USD' in at[0].message


def test_violation_is_a_frozen_value() -> None:
    v = Violation("/a", "r", "m")
    assert v == Violation("/a", "r", "m") and str(v) == "m"
    with pytest.raises(AttributeError):
        v.pointer = "/b"  # type: ignore[misc]


# -- names and shapes ---------------------------------------------------------------------------


def test_unknown_api_or_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="userInitiatedPay"):
        validate("pay", "request", {})
    with pytest.raises(ValueError, match="request, response"):
        validate("refund", "answer", {})


@pytest.mark.parametrize("message", [[], "x", 1, None])
def test_a_message_must_be_an_object(message: Any) -> None:
    assert found("cancelPayment", "request", message) == {("", "schema.type")}


def test_missing_required_field_points_where_it_should_be() -> None:
    violations = validate("userInitiatedPay", "request", {"codeValue": "28166604abc"})
    assert [(v.pointer, v.rule) for v in violations] == [("/customerId", "schema.required")]
    assert "customerId" in violations[0].message


def test_null_means_absent() -> None:
    message = {"codeValue": "28166604abc", "customerId": "u1", "passThroughInfo": None}
    assert validate("userInitiatedPay", "request", message) == []
    message["customerId"] = None
    assert found("userInitiatedPay", "request", message) == {("/customerId", "schema.required")}


def test_number_instead_of_string_says_values_are_strings() -> None:
    message = sample(DECODE)
    message["paymentFactor"]["isCashierPayment"] = True
    violations = validate("userInitiatedPay", "response", message)
    assert [(v.pointer, v.rule) for v in violations] == [
        ("/paymentFactor/isCashierPayment", "schema.type")
    ]
    assert "JSON string" in violations[0].message


def test_too_long_value() -> None:
    message = {"codeValue": "28166604abc", "customerId": "u" * 65}
    violations = validate("userInitiatedPay", "request", message)
    assert [(v.pointer, v.rule) for v in violations] == [("/customerId", "schema.max-length")]
    assert "65 characters" in violations[0].message


def test_unknown_extra_fields_are_allowed() -> None:
    message = sample(NOTIFY)
    message["someFutureField"] = {"nested": "x"}
    assert validate("notifyPayment", "request", message) == []


def test_pointer_escapes_slash_and_tilde() -> None:
    message = sample(NOTIFY)
    message["a/b~c"] = ""
    assert found("notifyPayment", "request", message) == {("/a~1b~0c", "string.empty")}


# -- conditionals in the schemas ----------------------------------------------------------------


def test_notify_may_not_report_unknown() -> None:
    message = sample(NOTIFY)
    message["paymentResult"] = {"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"}
    assert ("/paymentResult/resultStatus", "notify.final-result") in found(
        "notifyPayment", "request", message
    )


def test_notify_success_needs_payment_id_and_amount_but_not_time() -> None:
    message = sample(NOTIFY)
    del message["paymentTime"]  # optional in the API table (spec section 10)
    assert validate("notifyPayment", "request", message) == []
    for name in ("paymentId", "paymentAmount"):
        del message[name]
    assert found("notifyPayment", "request", message) == {
        ("/paymentId", "schema.required-if"),
        ("/paymentAmount", "schema.required-if"),
    }


def test_notify_failure_needs_only_result_and_request_id() -> None:
    message = sample("notifyPayment.request.order-closed")
    assert set(message) == {"paymentResult", "paymentRequestId"}
    assert validate("notifyPayment", "request", message) == []


def test_inquiry_success_needs_payment_result() -> None:
    message = sample("inquiryPayment.response.in-process")
    del message["paymentResult"]
    assert found("inquiryPayment", "response", message) == {
        ("/paymentResult", "schema.required-if")
    }
    assert (
        validate("inquiryPayment", "response", sample("inquiryPayment.response.order-not-exist"))
        == []
    )


def test_decode_success_needs_the_decoded_fields() -> None:
    message = {"result": {"resultCode": "SUCCESS", "resultStatus": "S"}}
    expected = {
        *("acquirerId", "pspId", "paymentRequestId", "order", "paymentAmount", "payToAmount"),
    }
    assert found("userInitiatedPay", "response", message) == {
        (f"/{name}", "schema.required-if") for name in expected
    }
    failed = {"result": {"resultCode": "EXPIRED_CODE", "resultStatus": "F"}}
    assert validate("userInitiatedPay", "response", failed) == []


@pytest.mark.parametrize(
    "absent",
    [
        ("paymentExpiryTime",),
        ("paymentNotifyUrl",),
        ("paymentRedirectUrl",),
        ("codeType", "paymentFactor"),
        ("paymentExpiryTime", "paymentNotifyUrl", "paymentRedirectUrl", "codeType"),
    ],
)
def test_decode_success_without_inferred_fields_is_valid(absent: tuple[str, ...]) -> None:
    message = sample("userInitiatedPay.response.success")
    for name in absent:
        message.pop(name, None)
    assert validate("userInitiatedPay", "response", message) == []


def test_refund_success_without_id_or_time_is_valid() -> None:
    # refundId / refundTime are expected on S, but no source says they are required
    message = {"result": {"resultCode": "SUCCESS", "resultStatus": "S"}}
    assert validate("refund", "response", message) == []


def test_identify_code_supported_needs_an_action() -> None:
    message = {"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "isSupported": True}
    assert found("identifyCode", "response", message) == {
        ("/postCodeMatchActionType", "schema.required-if")
    }
    message["postCodeMatchActionType"] = "OPEN_URL"
    assert found("identifyCode", "response", message) == {("/redirectUrl", "schema.required-if")}


def test_identify_code_booleans_are_real_booleans() -> None:
    message = sample("identifyCode.response.sandbox-decode")
    message["isSupported"] = "true"
    assert found("identifyCode", "response", message) == {("/isSupported", "schema.type")}


def test_code_rule_prefix_needs_a_prefix() -> None:
    message = sample("inquiryCodeRules.response.real-rules")
    del message["codeRules"][0]["codeMatchPattern"]["prefix"]
    assert found("inquiryCodeRules", "response", message) == {
        ("/codeRules/0/codeMatchPattern/prefix", "schema.required-if")
    }


# -- domain rules: amounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "not positive"),
        ("-5", "not positive"),
        ("007", "leading zeros"),
        ("12345678901234567", "longer than 16"),
        ("abc", "not a number"),
        ("1e3", "not an integer"),
        ("1000.5", "more decimals"),
    ],
)
def test_bad_amount_values(value: str, words: str) -> None:
    message = sample(NOTIFY)
    message["paymentAmount"]["value"] = value
    violations = [
        v
        for v in validate("notifyPayment", "request", message)
        if v.pointer == "/paymentAmount/value"
    ]
    assert [v.rule for v in violations] == ["amount.minor-units"]
    assert words in violations[0].message


def test_amount_as_json_number() -> None:
    message = sample(NOTIFY)
    message["paymentAmount"]["value"] = 100
    violations = validate("notifyPayment", "request", message)
    assert [(v.pointer, v.rule) for v in violations] == [
        ("/paymentAmount/value", "amount.minor-units")
    ]
    assert '"100"' in violations[0].message


@pytest.mark.parametrize(
    ("currency", "words"),
    [("ABC", "not an active ISO 4217"), ("jpy", "upper case: 'JPY'"), ("XAU", "no minor unit")],
)
def test_bad_currency(currency: str, words: str) -> None:
    message = sample(NOTIFY)
    message["paymentAmount"]["currency"] = currency
    violations = [
        v
        for v in validate("notifyPayment", "request", message)
        if v.pointer == "/paymentAmount/currency"
    ]
    assert [v.rule for v in violations] == ["amount.currency"]
    assert words in violations[0].message


def test_amounts_deep_inside_are_checked() -> None:
    message = sample(DECODE)
    message["order"]["goods"] = [
        {"goodsName": "tee", "goodsUnitAmount": {"currency": "JPY", "value": "10.0"}}
    ]
    assert found("userInitiatedPay", "response", message) == {
        ("/order/goods/0/goodsUnitAmount/value", "amount.minor-units")
    }


# -- domain rules: time and empty strings ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2020-01-01T12:01:01+08:30", "2025-02-20T08:51:49.09Z", "2024-12-30T12:00:00.123456789Z"],
)
def test_good_date_times(value: str) -> None:
    message = sample(NOTIFY)
    message["paymentTime"] = value
    assert validate("notifyPayment", "request", message) == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2020-01-01T12:01:01", "no UTC offset"),
        ("2025-02-30T12:00:00+08:00", "not a real date"),
        ("2025-01-01T25:00:00+08:00", "not a real date"),
        ("2025-01-01T12:00:00+24:00", "not a real date"),
        ("2025-01-01", "not an ISO 8601 date-time"),
        ("1735704000000", "not an ISO 8601 date-time"),
    ],
)
def test_bad_date_times(value: str, words: str) -> None:
    message = sample(NOTIFY)
    message["paymentTime"] = value
    violations = validate("notifyPayment", "request", message)
    assert [(v.pointer, v.rule) for v in violations] == [("/paymentTime", "datetime.format")]
    assert words in violations[0].message


def test_empty_string_anywhere_is_reported() -> None:
    message = sample(DECODE)
    message["order"]["orderDescription"] = ""
    message["passThroughInfo"] = ""
    assert found("userInitiatedPay", "response", message) == {
        ("/order/orderDescription", "string.empty"),
        ("/passThroughInfo", "string.empty"),
    }


def test_empty_string_in_required_field() -> None:
    message = {"codeValue": "", "customerId": "u1"}
    violations = validate("userInitiatedPay", "request", message)
    assert [(v.pointer, v.rule) for v in violations] == [("/codeValue", "string.empty")]
    assert "PARAM_ILLEGAL" in violations[0].message


def test_empty_ac_decode_config_is_fine_in_an_sdk_result() -> None:
    assert (
        validate("identifyCode", "response", sample("identifyCode.response.sandbox-decode")) == []
    )


# -- domain rules: quotes and promotions --------------------------------------------------------


def test_pay_to_amount_within_one_minor_unit_passes() -> None:
    message = sample(DECODE)
    message["payToAmount"]["value"] = "9051"
    assert validate("userInitiatedPay", "response", message) == []


def test_pay_to_amount_off_by_two_minor_units_fails() -> None:
    message = sample(DECODE)
    message["payToAmount"]["value"] = "9052"
    violations = validate("userInitiatedPay", "response", message)
    assert [(v.pointer, v.rule) for v in violations] == [("/payToAmount/value", "quote.mismatch")]
    assert "9050 KRW" in violations[0].message and "9052 KRW" in violations[0].message


def test_pair_may_be_written_either_way_round() -> None:
    message = sample(DECODE)
    message["paymentQuote"]["quoteCurrencyPair"] = "KRW/JPY"
    message["paymentQuote"]["quotePrice"] = "0.11049724"
    assert validate("userInitiatedPay", "response", message) == []
    # the same price read with the wrong base is far off
    message["paymentQuote"]["quotePrice"] = "9.05"
    assert found("userInitiatedPay", "response", message) == {
        ("/payToAmount/value", "quote.mismatch")
    }


def test_pair_must_name_both_currencies() -> None:
    message = sample(DECODE)
    message["paymentQuote"]["quoteCurrencyPair"] = "USD/KRW"
    assert found("userInitiatedPay", "response", message) == {
        ("/paymentQuote/quoteCurrencyPair", "quote.pair")
    }


def test_pair_with_an_unknown_currency() -> None:
    message = sample(DECODE)
    message["paymentQuote"]["quoteCurrencyPair"] = "JPY/ZZZ"
    assert ("/paymentQuote/quoteCurrencyPair", "quote.pair") in found(
        "userInitiatedPay", "response", message
    )


def test_cross_currency_without_a_quote() -> None:
    message = sample(DECODE)
    del message["paymentQuote"]
    assert found("userInitiatedPay", "response", message) == {("/paymentQuote", "quote.missing")}


def test_same_currency_amounts_must_match() -> None:
    message = sample(DECODE)
    del message["paymentQuote"]
    message["payToAmount"] = {"currency": "JPY", "value": "1001"}
    assert found("userInitiatedPay", "response", message) == {
        ("/payToAmount/value", "quote.same-currency")
    }
    message["payToAmount"]["value"] = "1000"
    assert validate("userInitiatedPay", "response", message) == []


def test_promotion_sample_follows_the_official_amount_rules() -> None:
    # paymentAmount excludes the promotion; payToAmount = paymentAmount x quotePrice
    message = sample("userInitiatedPay.response.promotion")
    assert message["order"]["orderAmount"]["value"] == "1000"
    assert (message["paymentAmount"]["value"], message["payToAmount"]["value"]) == ("900", "8145")
    assert validate("userInitiatedPay", "response", message) == []


def test_promotion_savings_may_also_be_deducted_from_the_converted_amount() -> None:
    # the other reading: paymentAmount still includes the promotion, payToAmount is net of it
    message = sample("userInitiatedPay.response.promotion")
    message["paymentAmount"]["value"] = "1000"
    message["payToAmount"]["value"] = "8145"  # 9050 - 905
    assert validate("userInitiatedPay", "response", message) == []
    message["payToAmount"]["value"] = "8500"  # neither reading
    violations = validate("userInitiatedPay", "response", message)
    assert [(v.pointer, v.rule) for v in violations] == [("/payToAmount/value", "quote.mismatch")]
    assert "9050 KRW" in violations[0].message and "savings added back" in violations[0].message


def test_savings_must_be_in_the_pay_to_currency() -> None:
    message = sample("userInitiatedPay.response.promotion")
    detail = message["paymentPromoInfo"]["paymentPromoDetails"][0]
    detail["savingsAmount"] = {"currency": "JPY", "value": "300"}
    assert (
        "/paymentPromoInfo/paymentPromoDetails/0/savingsAmount/currency",
        "promo.currency",
    ) in found("userInitiatedPay", "response", message)


def test_savings_may_not_exceed_pay_to_amount() -> None:
    message = sample(DECODE)
    message["payToAmount"]["value"] = "50"
    message["paymentPromoInfo"] = {
        "paymentPromoDetails": [{"savingsAmount": {"currency": "KRW", "value": "9000"}}]
    }
    assert found("userInitiatedPay", "response", message) == {
        ("/paymentPromoInfo/paymentPromoDetails/0/savingsAmount/value", "promo.savings-exceed")
    }


def test_notify_same_currency_with_promotion() -> None:
    message = sample(NOTIFY)
    message["paymentAmount"] = {"currency": "KRW", "value": "10000"}
    message["payToAmount"] = {"currency": "KRW", "value": "7000"}
    message["paymentPromoInfo"] = {
        "paymentPromoDetails": [
            {"promoId": "P", "savingsAmount": {"currency": "KRW", "value": "3000"}}
        ]
    }
    assert validate("notifyPayment", "request", message) == []
    message["payToAmount"]["value"] = "7500"
    assert found("notifyPayment", "request", message) == {
        ("/payToAmount/value", "quote.same-currency")
    }


def test_notify_cross_currency_needs_no_quote() -> None:
    assert validate("notifyPayment", "request", sample(NOTIFY)) == []


def test_refund_from_amount_follows_the_refund_quote() -> None:
    message = sample("refund.request.cross-currency")
    assert validate("refund", "request", message) == []
    message["refundFromAmount"]["value"] = "3700"
    violations = validate("refund", "request", message)
    assert [(v.pointer, v.rule) for v in violations] == [
        ("/refundFromAmount/value", "refund.mismatch")
    ]


def test_refund_same_currency_must_match() -> None:
    message = sample("refund.request.same-currency")
    message["refundFromAmount"]["value"] = "14000"
    assert found("refund", "request", message) == {
        ("/refundFromAmount/value", "refund.same-currency")
    }


# -- domain rules: results ----------------------------------------------------------------------


def test_documented_code_with_the_wrong_status() -> None:
    message = {"result": {"resultCode": "SUCCESS", "resultStatus": "F"}}
    assert found("cancelPayment", "response", message) == {
        ("/result/resultStatus", "result.status-mismatch")
    }


def test_undocumented_codes_are_allowed() -> None:
    message = {"result": {"resultCode": "SOME_NEW_CODE", "resultStatus": "F"}}
    assert validate("cancelPayment", "response", message) == []


def test_inquiry_unfinished_payment_is_payment_in_process() -> None:
    message = sample("inquiryPayment.response.in-process")
    message["paymentResult"]["resultCode"] = "PROCESSING"
    assert found("inquiryPayment", "response", message) == {
        ("/paymentResult/resultCode", "inquiry.in-process-code")
    }


# -- the compiled fast path agrees with jsonschema ------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**17),
    st.sampled_from(["", "S", "U", "F", "true", "100", "100.00", "JPY", "ORDER_CODE", "x" * 70]),
    st.text(max_size=5),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A sample message with a few random edits: delete, replace, or add a member."""
    path = draw(st.sampled_from(sorted(SAMPLES.glob("*.json"))))
    api, kind = path.name.split(".")[:2]
    message = json.loads(path.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(0, 3))):
        containers = [message]
        stack: list[Any] = [message]
        while stack:
            node = stack.pop()
            children = node.values() if isinstance(node, dict) else node
            for child in children:
                if isinstance(child, (dict, list)):
                    containers.append(child)
                    stack.append(child)
        target = draw(st.sampled_from(containers))
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "add" or not keys:
            if isinstance(target, dict):
                target[draw(st.sampled_from(["x", "resultStatus", "value", "prefix"]))] = draw(
                    SCALARS
                )
            else:
                target.append(draw(SCALARS))
        elif action == "delete":
            del target[draw(st.sampled_from(keys))]
        else:
            target[draw(st.sampled_from(keys))] = draw(SCALARS)
    return api, kind, message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_fast_check_agrees_with_jsonschema(case: tuple[str, str, Any]) -> None:
    api, kind, message = case
    reference = Draft202012Validator(schema(api, kind), registry=registry())
    assert fast_check(api, kind, message) == reference.is_valid(message)
    # and validate() reports a schema problem exactly when jsonschema sees one (nulls aside)
    if reference.is_valid(message):
        assert not any(v.rule.startswith("schema.") for v in validate(api, kind, message))


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_message_rejects_a_non_object_and_accepts_its_samples(api: str, kind: str) -> None:
    for path in SAMPLES.glob(f"{api}.{kind}.*.json"):
        message = json.loads(path.read_text(encoding="utf-8"))
        assert validate(api, kind, copy.deepcopy(message)) == []
    assert found(api, kind, []) == {("", "schema.type")}


def test_total_savings_may_not_exceed_pay_to_amount() -> None:
    message = sample(DECODE)
    message["paymentAmount"]["value"] = "500"
    message["payToAmount"]["value"] = "4525"
    saving = {"savingsAmount": {"currency": "KRW", "value": "3000"}}
    message["paymentPromoInfo"] = {"paymentPromoDetails": [saving, copy.deepcopy(saving)]}
    assert found("userInitiatedPay", "response", message) == {
        ("/paymentPromoInfo", "promo.savings-exceed")
    }


def test_refund_promotion_is_in_the_refund_from_currency() -> None:
    message = sample("refund.request.cross-currency")
    message["refundPromoInfo"] = {
        "paymentPromoDetails": [{"savingsAmount": {"currency": "JPY", "value": "10"}}]
    }
    assert found("refund", "request", message) == {
        ("/refundPromoInfo/paymentPromoDetails/0/savingsAmount/currency", "promo.currency")
    }


def test_a_result_that_is_not_an_object_is_one_type_error() -> None:
    assert found("userInitiatedPay", "response", {"result": "SUCCESS"}) == {
        ("/result", "schema.type")
    }
