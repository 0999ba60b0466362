"""validate(api, kind, message): the schema check plus every registered domain rule."""

from __future__ import annotations

from typing import Any

# The rule modules are imported for their side effect: each registers its domain rules.
import contracts.validation.conversion
import contracts.validation.fields
import contracts.validation.results  # noqa: F401
from contracts.validation.domain import COMMON_RULES, RULES, Scan
from contracts.validation.schemas import (
    check_name,
    datetime_fields,
    fast_checks,
    validator,
)
from contracts.validation.violations import Violation, from_schema_error, json_type


def validate(api: str, kind: str, message: Any) -> list[Violation]:
    """Check `message` against the schema and the domain rules; [] when it is valid."""
    check_name(api, kind)
    if not isinstance(message, dict):
        return [
            Violation(
                "",
                "schema.type",
                f"the {api} {kind} must be a JSON object, got {json_type(message)}",
            )
        ]
    schema_check = fast_checks()[f"{api}.{kind}.json"]
    cleaned = message
    schema_ok = schema_check(message)
    if not schema_ok:  # perhaps only because of nulls, which mean "absent"
        cleaned = _drop_nulls(message)
        schema_ok = schema_check(cleaned)
    found: dict[tuple[str, str], Violation] = {}
    if not schema_ok:
        for error in validator(api, kind).iter_errors(cleaned):
            for violation in from_schema_error(error):
                found.setdefault((violation.pointer, violation.rule), violation)
        # A wrong type at a place says it all; drop the enum/pattern noise at the same place.
        mistyped = {p for p, r in found if r == "schema.type"}
        found = {
            (p, r): v for (p, r), v in found.items() if p not in mistyped or r == "schema.type"
        }
    scan = Scan()
    scan.run(cleaned, "", datetime_fields())
    domain: list[Violation] = []
    for check in COMMON_RULES + RULES.get((api, kind), []):
        domain.extend(check(api, kind, cleaned, scan))
    # A domain rule says the same thing better than the schema keyword at the same place.
    covered = {v.pointer for v in domain}
    result = [v for v in found.values() if v.pointer not in covered]
    seen: set[tuple[str, str]] = set()
    for v in domain:
        if (v.pointer, v.rule) not in seen:
            seen.add((v.pointer, v.rule))
            result.append(v)
    result.sort(key=lambda v: v.pointer)
    return result


def is_valid(api: str, kind: str, message: Any) -> bool:
    """True when `validate` finds nothing."""
    return not validate(api, kind, message)


def _drop_nulls(node: Any) -> Any:
    """A copy without null members: null means the same as leaving the field out (spec §2.4)."""
    if isinstance(node, dict):
        return {k: _drop_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_drop_nulls(v) for v in node]
    return node
