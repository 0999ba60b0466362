"""The JSON Schemas of every message: names, loading, the $ref registry, compiled checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

APIS: tuple[str, ...] = (
    "inquiryCodeRules",
    "userInitiatedPay",
    "notifyPayment",
    "inquiryPayment",
    "cancelPayment",
    "refund",
    "identifyCode",
)
KINDS: tuple[str, ...] = ("request", "response")
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMA_BASE = "https://aplus-sim.dev/schemas/"


def schema_path(api: str, kind: str) -> Path:
    """The schema file of a message; ValueError listing the valid names if unknown."""
    check_name(api, kind)
    return SCHEMA_DIR / f"{api}.{kind}.json"


@cache
def _load_all() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMA_DIR.glob("*.json"))
    }


def schema(api: str, kind: str) -> dict[str, Any]:
    """The JSON Schema (a dict, shared: do not mutate) of a message."""
    return _load_all()[schema_path(api, kind).name]


@cache
def registry() -> Any:
    """A `referencing.Registry` holding every schema under its $id (no network access)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resources(
        (s["$id"], Resource.from_contents(s, default_specification=DRAFT202012))
        for s in _load_all().values()
    )


@cache
def validator(api: str, kind: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(api, kind), registry=registry())


# A compiled yes/no check: jsonschema takes milliseconds on a decoded order because it resolves
# and re-wraps every subschema; fastjsonschema turns each schema into Python source once, and the
# check then takes tens of microseconds. Valid messages (the common case) stop there; a failing
# message is re-run through jsonschema, which stays the authority for reported errors.
# fastjsonschema implements draft-07: the schemas use only keywords that mean the same there (no
# `$ref` beside other assertions; tests/contracts/test_schemas.py keeps it so), and
# tests/contracts/test_validation.py checks that both validators always agree.
@cache
def fast_checks() -> dict[str, Callable[[Any], bool]]:
    """A compiled predicate per schema file name."""
    import fastjsonschema

    # fastjsonschema rewrites the $refs of what it compiles: give it copies, never the cache.
    documents = copy.deepcopy(_load_all())
    by_id = {document["$id"]: document for document in documents.values()}
    missing = {ref.partition("#")[0] for ref in _refs_in(documents)} - {name for name in documents}
    if missing:
        raise ValueError(f"unresolvable $ref(s) to {sorted(missing)}")

    def predicate(document: dict[str, Any]) -> Callable[[Any], bool]:
        check = fastjsonschema.compile(
            document, handlers={"https": by_id.__getitem__}, use_default=False
        )

        def run(message: Any) -> bool:
            try:
                check(message)
            except fastjsonschema.JsonSchemaValueException:
                return False
            return True

        return run

    return {name: predicate(document) for name, document in documents.items()}


def _refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs_in(value)


def fast_check(api: str, kind: str, message: Any) -> bool:
    """True if `message` satisfies the schema (no domain rules); a quick yes/no, no details."""
    return fast_checks()[schema_path(api, kind).name](message)


@cache
def datetime_fields() -> frozenset[str]:
    """Names of properties whose schema is the DateTime primitive, in any schema."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and sub.get("$ref", "").endswith("/$defs/DateTime"):
                    names.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for s in _load_all().values():
        walk(s)
    return frozenset(names)


def check_name(api: str, kind: str) -> None:
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; valid apis: {', '.join(APIS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
