"""Hypothesis strategies: valid messages validate, planted defects are reported where promised."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import money, validate
from contracts import strategies as strategies_module
from contracts.strategies import defects, from_schema, invalid_message, valid_message

MESSAGES = [(api, kind) for api in strategies_module.APIS for kind in ("request", "response")]
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For "this case can be generated": the first hit is enough, shrinking it would only cost time.
REACH = settings(max_examples=500, deadline=None, database=None, phases=[Phase.generate])


def _at(message: Any, pointer: str) -> Any:
    node = message
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _rules_at(api: str, kind: str, message: dict, pointer: str) -> set[str]:
    return {v.rule for v in validate(api, kind, message) if v.pointer == pointer}


@pytest.mark.parametrize("api, kind", MESSAGES)
def test_generated_messages_pass_the_validator(api: str, kind: str) -> None:
    @FAST
    @given(valid_message(api, kind))
    def check(message: dict) -> None:
        assert validate(api, kind, message) == []
        assert json.loads(json.dumps(message, allow_nan=False)) == message

    check()


@pytest.mark.parametrize("api, kind", MESSAGES)
def test_each_planted_defect_is_reported_at_its_pointer(api: str, kind: str) -> None:
    @FAST
    @given(invalid_message(api, kind))
    def check(case: tuple[dict, str]) -> None:
        message, pointer = case
        reported = [v.pointer for v in validate(api, kind, message)]
        assert pointer in reported, f"{pointer} not in {reported}"

    check()


# (defect, api, kind, rule the validator must report at the pointer, check on the planted value)
DEFECT_CASES = [
    ("missing-required", "notifyPayment", "request", {"schema.required", "schema.required-if"}),
    ("wrong-type", "userInitiatedPay", "request", {"schema.type"}),
    ("too-long", "userInitiatedPay", "request", {"schema.max-length"}),
    ("empty-optional", "userInitiatedPay", "request", {"string.empty"}),
    ("bad-amount", "refund", "request", {"amount.minor-units"}),
    ("bad-time", "notifyPayment", "request", {"datetime.format"}),
]


@pytest.mark.parametrize("defect, api, kind, rules", DEFECT_CASES)
def test_every_defect_kind_plants_what_it_says(
    defect: str, api: str, kind: str, rules: set[str]
) -> None:
    @FAST
    @given(invalid_message(api, kind, kinds=[defect]))
    def check(case: tuple[dict, str]) -> None:
        message, pointer = case
        parent, _, key = pointer.rpartition("/")
        if defect == "missing-required":
            assert key not in _at(message, parent)
        else:
            value = _at(message, pointer)
            if defect == "wrong-type":
                assert isinstance(value, (int, float))
            elif defect == "too-long":
                assert isinstance(value, str) and len(value) > 1
            elif defect == "empty-optional":
                assert value == ""
            elif defect == "bad-amount":
                assert value in strategies_module.BAD_AMOUNT_VALUES
            elif defect == "bad-time":
                assert value in strategies_module.BAD_TIME_VALUES
        assert _rules_at(api, kind, message, pointer) & rules, validate(api, kind, message)

    check()


def test_defects_lists_every_kind_the_brief_names() -> None:
    assert defects() == [
        "missing-required",
        "wrong-type",
        "too-long",
        "empty-optional",
        "bad-amount",
        "bad-time",
    ]


def test_cross_currency_decodes_with_promotions_are_generated_consistently() -> None:
    """payToAmount = paymentAmount x quotePrice; savings in the payTo currency, not above it."""
    message = find(
        valid_message("userInitiatedPay", "response"),
        lambda m: (
            m["result"]["resultStatus"] == "S" and {"paymentQuote", "paymentPromoInfo"} <= m.keys()
        ),
        settings=REACH,
    )
    paid, pay_to, quote = message["paymentAmount"], message["payToAmount"], message["paymentQuote"]
    details = message["paymentPromoInfo"]["paymentPromoDetails"]
    assert paid["currency"] != pay_to["currency"]
    assert {d["savingsAmount"]["currency"] for d in details} == {pay_to["currency"]}
    savings = sum(int(d["savingsAmount"]["value"]) for d in details)
    converted = money.convert(
        int(paid["value"]),
        paid["currency"],
        pay_to["currency"],
        Decimal(quote["quotePrice"]),
        quote["quoteCurrencyPair"],
    )
    assert int(pay_to["value"]) == converted
    assert 1 <= savings <= converted
    assert validate("userInitiatedPay", "response", message) == []


@FAST
@given(valid_message("notifyPayment", "request"))
def test_notifications_carry_catalogue_codes_and_final_results(message: dict) -> None:
    result = message["paymentResult"]
    assert result["resultStatus"] in ("S", "F")
    if result["resultStatus"] == "S":
        assert result["resultCode"] == "SUCCESS"
        assert {"paymentId", "paymentAmount"} <= message.keys()


def test_the_interesting_cases_are_reachable() -> None:
    reach = REACH
    failed = find(
        valid_message("userInitiatedPay", "response"),
        lambda m: m["result"]["resultStatus"] == "F",
        settings=reach,
    )
    assert "paymentRequestId" not in failed or failed["result"]["resultCode"] != "SUCCESS"
    find(
        valid_message("inquiryPayment", "response"),
        lambda m: m.get("paymentResult", {}).get("resultCode") == "PAYMENT_IN_PROCESS",
        settings=reach,
    )
    find(
        valid_message("inquiryCodeRules", "response"),
        lambda m: any(
            r["codeMatchPattern"]["matchMethod"] == "EMVCO" for r in m.get("codeRules", [])
        ),
        settings=reach,
    )


def test_unknown_names_are_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="userInitiatedPay"):
        valid_message("pay", "request")
    with pytest.raises(ValueError, match="request, response"):
        valid_message("refund", "reply")
    with pytest.raises(ValueError, match="bad-amount"):
        invalid_message("refund", "request", kinds=["typo"])


# --- the compiler on small local schemas ---------------------------------------------------------

LOCAL_DEFS = {
    "$id": "https://example.test/defs.json",
    "$defs": {
        "Code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$", "maxLength": 6},
        "Status": {"type": "string", "enum": ["S", "F", "U"]},
    },
}
LOCAL_SCHEMA = {
    "$id": "https://example.test/payment.json",
    "type": "object",
    "properties": {
        "code": {"$ref": "defs.json#/$defs/Code"},
        "status": {"allOf": [{"$ref": "defs.json#/$defs/Status"}, {"not": {"const": "U"}}]},
        "kind": {"const": "card"},
        "note": {"type": "string", "minLength": 1, "maxLength": 5},
        "tags": {"type": "array", "items": {"$ref": "defs.json#/$defs/Code"}, "minItems": 1},
        "paidAt": {"type": "string"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 10},
    },
    "required": ["code", "status", "kind"],
    "allOf": [
        {
            "if": {"properties": {"status": {"const": "S"}}, "required": ["status"]},
            "then": {"required": ["paidAt"]},
            "else": {"required": ["reason"], "properties": {"reason": {"enum": ["LIMIT", "RISK"]}}},
        }
    ],
}


def _local_registry() -> Registry:
    resource = Resource.from_contents(LOCAL_DEFS, default_specification=DRAFT202012)
    return Registry().with_resource(LOCAL_DEFS["$id"], resource)


@FAST
@given(from_schema(LOCAL_SCHEMA, _local_registry()))
def test_from_schema_honours_refs_allof_not_and_conditionals(instance: dict) -> None:
    registry = _local_registry().with_resource(
        LOCAL_SCHEMA["$id"], Resource.from_contents(LOCAL_SCHEMA, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(LOCAL_SCHEMA, registry=registry)
    assert list(validator.iter_errors(instance)) == []
    assert instance["status"] in ("S", "F")
    if instance["status"] == "F":
        assert instance["reason"] in ("LIMIT", "RISK")
    else:
        assert instance["paidAt"]


def test_from_schema_reaches_both_branches_of_a_conditional() -> None:
    strategy = from_schema(LOCAL_SCHEMA, _local_registry())
    reach = REACH
    assert find(strategy, lambda i: i["status"] == "S", settings=reach)["paidAt"]
    assert find(strategy, lambda i: i["status"] == "F", settings=reach)["reason"] in (
        "LIMIT",
        "RISK",
    )


@FAST
@given(st.data())
def test_strings_never_come_out_empty(data: st.DataObject) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
    assert data.draw(from_schema(schema))["x"].strip()
