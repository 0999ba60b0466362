"""Hypothesis strategies for Alipay+ messages, built by walking the contract's JSON Schemas.

`valid_message(api, kind)` draws messages that pass `contracts.validate`, domain rules included;
`invalid_message(api, kind)` draws a valid message with exactly one known defect, paired with the
JSON pointer where a validator (or a wallet) must report it. See docs/strategies.md.

How it works: a small schema-to-strategy compiler handles the keywords the schemas use (type,
properties, required, items, enum, const, pattern, lengths, $ref, allOf, if/then/else, not).
Shared definitions that mean more than their schema says get their own strategies: `DateTime`
(a real calendar time with an offset), `Amount` (a known ISO 4217 currency with a positive
integer of minor units), `CurrencyCode` and `CurrencyPair` (known currencies) and `Url` (a
plausible https URL). Result codes come from the catalogue, matching their status. After drawing, the amounts that belong together are made
consistent: payToAmount = paymentAmount x quotePrice (paymentAmount already excludes the
promotion), promotion savings in the payToAmount currency and not above it, and the same for
refunds (refundFromAmount = refundAmount x quotePrice).

The package: `nodes` (the schema walker's data and merging), `values` (semantic strategies and
amount consistency), `defects` (what `invalid_message` plants), `compiler` (SchemaCompiler).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import catalogue
from contracts.strategies.compiler import SchemaCompiler
from contracts.strategies.defects import BAD_AMOUNT_VALUES, BAD_TIME_VALUES, DEFECTS, defects
from contracts.validation import APIS, KINDS

__all__ = [
    "APIS",
    "BAD_AMOUNT_VALUES",
    "BAD_TIME_VALUES",
    "DEFECTS",
    "KINDS",
    "SchemaCompiler",
    "defects",
    "from_schema",
    "invalid_message",
    "valid_message",
]

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMA_BASE = "https://aplus-sim.dev/schemas/"


@cache
def valid_message(api: str, kind: str) -> SearchStrategy[dict]:
    """Messages of `api` (request or response) that pass `contracts.validate`, domain rules too."""
    return _with_catalogue_codes(_project_compiler().message(_schema_uri(api, kind)), api)


@st.composite
def _with_catalogue_codes(draw: st.DrawFn, messages: SearchStrategy[dict], api: str) -> dict:
    """Give result and paymentResult a code the catalogue lists for their status."""
    message = draw(messages)
    for name, codes_of in (("result", api), ("paymentResult", "paymentResult")):
        result = message.get(name)
        if isinstance(result, dict):
            status = result.get("resultStatus")
            known = [c.code for c in catalogue.codes(codes_of) if c.status == status]
            if known:
                result["resultCode"] = draw(st.sampled_from(known))
    return message


def invalid_message(
    api: str, kind: str, kinds: Iterable[str] | None = None
) -> SearchStrategy[tuple[dict, str]]:
    """(message, pointer): a valid message with one defect planted at the JSON pointer.

    `kinds` limits the defects to some of `defects()`; asking only for a defect a message cannot
    carry (a bad time in cancelPayment, which has no times) makes the strategy unsatisfiable.
    """
    wanted = tuple(kinds) if kinds is not None else tuple(DEFECTS)
    unknown = sorted(set(wanted) - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown defect kind(s) {unknown}; known: {', '.join(DEFECTS)}")
    uri = _schema_uri(api, kind)
    return _project_compiler().defective(uri, wanted, valid_message(api, kind))


def from_schema(schema: dict, registry: Registry | None = None) -> SearchStrategy[Any]:
    """Instances of any JSON Schema written with the contract's keywords (refs via `registry`)."""
    uri = schema.get("$id", SCHEMA_BASE + "_anonymous.json")
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry = (registry or Registry()).with_resource(uri, resource)
    return SchemaCompiler(registry).message(uri)


def _schema_uri(api: str, kind: str) -> str:
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; known: {', '.join(APIS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: request, response")
    return f"{SCHEMA_BASE}{api}.{kind}.json"


@cache
def _project_compiler() -> SchemaCompiler:
    registry = Registry()
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        uri = contents.get("$id", SCHEMA_BASE + path.name)
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        registry = registry.with_resource(uri, resource)
    return SchemaCompiler(registry.crawl())
