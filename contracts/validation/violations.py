"""Violation, and turning jsonschema errors into violations with sentences a developer can act on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One problem in a message: where (RFC 6901 pointer), which rule, and a readable sentence."""

    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


_SCHEMA_RULES = {
    "required": "schema.required",
    "type": "schema.type",
    "enum": "schema.enum",
    "const": "schema.const",
    "pattern": "schema.pattern",
    "maxLength": "schema.max-length",
    "minLength": "schema.min-length",
    "minItems": "schema.min-items",
    "maxItems": "schema.max-items",
    "not": "schema.pattern",
    "additionalProperties": "schema.additional-properties",
}


def from_schema_error(error: Any) -> Iterator[Violation]:
    where = pointer(error.absolute_path)
    keyword = error.validator
    value = error.instance
    sub = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "required":
        conditional = "then" in error.absolute_schema_path
        rule = "schema.required-if" if conditional else "schema.required"
        note = (
            f" ({_lower_first(sub['description'])})" if conditional and "description" in sub else ""
        )
        for name in error.validator_value:
            if isinstance(value, dict) and name not in value:
                yield Violation(
                    f"{where}/{escape(name)}",
                    rule,
                    f"{where}/{escape(name)}: required field {name!r} is missing{note}",
                )
        return
    rule = _SCHEMA_RULES.get(keyword, f"schema.{keyword}")
    label = where or "the message"
    if keyword == "type":
        expected = error.validator_value
        text = f"{label}: expected a JSON {expected}, got {json_type(value)} {_show(value)}"
        if expected == "string" and isinstance(value, (int, float, bool)):
            text += ' (Alipay+ sends every non-array value as a JSON string, e.g. "100", "true")'
    elif keyword == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        text = f"{label}: {_show(value)} is not one of {allowed}"
    elif keyword == "const":
        text = f"{label}: must be {_show(error.validator_value)}, got {_show(value)}"
    elif keyword in ("pattern", "not"):
        text = f"{label}: {_show(value)} is not valid"
        if sub.get("description"):
            text += f"; expected {_lower_first(sub['description'])}"
    elif keyword == "maxLength":
        text = f"{label}: {len(value)} characters, more than the maximum of {error.validator_value}"
    elif keyword == "minLength":
        if value == "":
            rule = "string.empty"
            text = f'{label}: empty string; leave an optional field out (or null) instead of ""'
        else:
            text = f"{label}: {_show(value)} is shorter than {error.validator_value} characters"
    elif keyword == "minItems":
        text = f"{label}: needs at least {error.validator_value} item(s)"
    elif keyword == "maxItems":
        text = f"{label}: has more than {error.validator_value} items"
    else:
        text = f"{label}: {error.message}"
    yield Violation(where, rule, text)


def pointer(parts: Any) -> str:
    """An RFC 6901 JSON pointer from path parts: ["a", 0, "b/c"] -> "/a/0/b~1c"."""
    return "".join(f"/{escape(p)}" for p in parts)


def escape(part: Any) -> str:
    if isinstance(part, str) and "~" not in part and "/" not in part:
        return part
    return str(part).replace("~", "~0").replace("/", "~1")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _lower_first(text: str) -> str:
    text = text.rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
