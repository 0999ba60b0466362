"""The JSON Schemas: valid draft 2020-12, the agreed layout, and every official sample passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts import validate
from contracts.validation import APIS, KINDS, SCHEMA_DIR, registry, schema

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "fixtures" / "samples").glob("*.json"))
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.json"))
ALLOWED = {
    *("type", "properties", "required", "additionalProperties", "items", "minItems"),
    *("maxItems", "enum", "const", "pattern", "maxLength", "minLength", "$ref", "allOf"),
    *("if", "then", "else", "not", "description", "title", "$id", "$schema", "$defs"),
    "examples",
}
DEFS = {
    *("Result", "Amount", "Order", "Merchant", "Store", "Address", "Env", "Goods", "Buyer"),
    *("UserName", "Shipping", "Quote", "PaymentFactor", "PaymentPromoInfo"),
    *("PaymentPromoDetail", "SurchargeInfo", "SettlementStrategy", "ActionForm", "CodeRule"),
    *("CodeMatchPattern", "EMVMatchRule", "PostCodeMatchAction", "Id64", "DateTime"),
    *("BooleanString", "IntegerString", "CurrencyCode"),
}


def _keywords(node: object, found: set[str]) -> None:
    """Collect schema keywords, skipping names that are property names or $defs names."""
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    _keywords(sub, found)
            elif key not in ("enum", "const", "examples", "required"):
                _keywords(value, found)
    elif isinstance(node, list):
        for value in node:
            _keywords(value, found)


def test_one_schema_per_message_plus_defs() -> None:
    expected = {f"{api}.{kind}.json" for api in APIS for kind in KINDS} | {"defs.json"}
    assert {p.name for p in SCHEMA_FILES} == expected


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"https://aplus-sim.dev/schemas/{path.name}"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_uses_only_the_agreed_keywords(path: Path) -> None:
    found: set[str] = set()
    _keywords(json.loads(path.read_text(encoding="utf-8")), found)
    assert found <= ALLOWED, found - ALLOWED


def _refs_with_assertions(node: object, where: str = "") -> list[str]:
    """Pointers of `$ref` nodes that carry other assertions beside the reference."""
    found: list[str] = []
    if isinstance(node, dict):
        if "$ref" in node and set(node) - {"$ref", "description", "title", "examples"}:
            found.append(where or "/")
        for key, value in node.items():
            found.extend(_refs_with_assertions(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_refs_with_assertions(value, f"{where}/{index}"))
    return found


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_no_ref_carries_other_assertions(path: Path) -> None:
    # Draft 2020-12 applies assertions beside a $ref; draft-07, which the compiled fast check
    # (fastjsonschema) implements, ignores them. Keeping refs bare keeps both readings equal.
    assert _refs_with_assertions(json.loads(path.read_text(encoding="utf-8"))) == []


def test_defs_has_the_shared_definitions() -> None:
    defs = json.loads((SCHEMA_DIR / "defs.json").read_text(encoding="utf-8"))["$defs"]
    assert set(defs) >= DEFS


def _properties(node: object) -> list[tuple[str, dict]]:
    """(name, schema) of every declared property, except selectors inside if-conditions."""
    out: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            out.append((name, sub))
        for key, value in node.items():
            if key != "if":
                out.extend(_properties(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_properties(value))
    return out


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_property_has_a_description(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    missing = [name for name, sub in _properties(document) if "description" not in sub]
    assert missing == []


def test_refs_resolve_through_the_registry_without_network() -> None:
    resolver = registry().resolver()
    for name in DEFS:
        resolved = resolver.lookup(f"https://aplus-sim.dev/schemas/defs.json#/$defs/{name}")
        assert isinstance(resolved.contents, dict)


def test_wire_values_are_strings() -> None:
    """Every non-array, non-object leaf of a wire message is a JSON string (spec §2.4)."""
    defs = schema("userInitiatedPay", "response")  # loads all
    assert defs["properties"]["paymentAmount"] == {
        "$ref": "defs.json#/$defs/Amount",
        "description": defs["properties"]["paymentAmount"]["description"],
    }
    document = json.loads((SCHEMA_DIR / "defs.json").read_text(encoding="utf-8"))
    leaf_types = {
        sub.get("type")
        for name, sub in _properties(document)
        if sub.get("type") not in (None, "object", "array")
    }
    # Only code rules carry real numbers/booleans, as Alipay+ really sends them (spec §4.1).
    assert leaf_types == {"string", "integer", "boolean"}
    code_rule_numbers = {
        name for name, sub in _properties(document) if sub.get("type") in ("integer", "boolean")
    }
    assert code_rule_numbers == {"priority", "primitiveMerchant"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_message_validates(path: Path) -> None:
    api, kind, _name, _ext = path.name.split(".")
    message = json.loads(path.read_text(encoding="utf-8"))
    assert validate(api, kind, message) == []


def _with_unknown_fields(node: Any) -> Any:
    """A copy with an unknown member added to every object (a later Alipay+ release)."""
    if isinstance(node, dict):
        return {**{k: _with_unknown_fields(v) for k, v in node.items()}, "zzFutureField": "x"}
    if isinstance(node, list):
        return [_with_unknown_fields(v) for v in node]
    return node


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_unknown_fields_anywhere_are_accepted(path: Path) -> None:
    # Forward compatibility: no schema closes its objects (no additionalProperties: false).
    api, kind, _name, _ext = path.name.split(".")
    message = _with_unknown_fields(json.loads(path.read_text(encoding="utf-8")))
    assert validate(api, kind, message) == []


def test_every_message_has_at_least_one_sample() -> None:
    covered = {tuple(p.name.split(".")[:2]) for p in SAMPLES}
    assert covered == {(api, kind) for api in APIS for kind in KINDS}
