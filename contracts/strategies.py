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
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import catalogue, money
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

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_BASE = "https://aplus-sim.dev/schemas/"

# Defect kinds `invalid_message` can plant, with what each one does.
DEFECTS: dict[str, str] = {
    "missing-required": "a required field is removed",
    "wrong-type": "a string field holds a JSON number instead",
    "too-long": "a string field is 1-3 characters longer than its maxLength",
    "empty-optional": 'an optional string field is sent as "" (the spec says omit it or send null)',
    "bad-amount": 'an amount value is not a positive integer of minor units ("100.00", "-5", "007")',
    "bad-time": "a date-time has no offset or names an impossible date",
}
BAD_AMOUNT_VALUES = ("100.00", "-5", "007", "0", "1e3", "12 ")
BAD_TIME_VALUES = (
    "2025-01-01T12:00:00",  # no offset
    "2025-02-30T12:00:00+08:00",  # 30 February
    "2025-13-01T00:00:00+08:00",  # month 13
    "2025-01-01T25:00:00+08:00",  # hour 25
    "yesterday",
)
# Printable text without control characters; the wire is UTF-8 JSON.
_TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
_MAX_DRAWN_TEXT = 24
_DEF_NAME = re.compile(r"^/\$defs/([^/]+)$")


def defects() -> list[str]:
    """The defect kinds `invalid_message` plants, e.g. "missing-required", "bad-amount"."""
    return list(DEFECTS)


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


# --- the schema walker -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sub:
    """A subschema and where it lives (document URI and JSON pointer), for refs and re-checks."""

    schema: Any
    uri: str
    pointer: str

    @property
    def location(self) -> str:
        """Absolute URI of this subschema, usable as a $ref."""
        return f"{self.uri}#{self.pointer}"


@dataclass(frozen=True)
class Conditional:
    """One if/then/else found while merging a schema."""

    if_: Sub
    then: Sub | None
    else_: Sub | None


@dataclass
class Node:
    """Everything the merged subschemas (refs and allOf followed) say about one value."""

    types: set[str] | None = None
    const: list[Any] = field(default_factory=list)
    enum: list[Any] | None = None
    nots: list[Sub] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    min_length: int = 0
    max_length: int | None = None
    properties: dict[str, list[Sub]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: list[Sub] = field(default_factory=list)
    min_items: int = 0
    max_items: int | None = None
    conditionals: list[Conditional] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # $defs names reached through $ref

    def is_string(self) -> bool:
        """True when the value must be a string."""
        if self.types is not None:
            return self.types == {"string"}
        if self.patterns:
            return True
        values = self.const or self.enum or []
        return bool(values) and all(isinstance(v, str) for v in values)


@dataclass(frozen=True)
class Defect:
    """A defect that can be planted: its kind, where, and for "too-long" the maxLength."""

    kind: str
    pointer: str
    limit: int = 0


@dataclass(frozen=True)
class Site:
    """A value inside a drawn message, with its pointer and what the schema says about it."""

    pointer: str
    node: Node
    value: Any


class SchemaCompiler:
    """Turns schemas in a `referencing.Registry` into Hypothesis strategies."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._strategies: dict[tuple[str, ...], SearchStrategy[Any]] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._nodes: dict[tuple[str, ...], Node] = {}
        # Shared definitions whose meaning goes beyond their schema ($defs name -> strategy).
        self._semantic: dict[str, Callable[[], SearchStrategy[Any]]] = {
            "DateTime": date_times,
            "Amount": amounts,
            "CurrencyCode": currencies,
            "CurrencyPair": currency_pairs,
            "Url": urls,
        }

    # public entry points

    def message(self, uri: str) -> SearchStrategy[dict]:
        """Valid instances of the schema at `uri`, made consistent with the domain rules."""
        root = self._root(uri)
        base = self.strategy([root])

        @st.composite
        def consistent(draw: st.DrawFn) -> Any:
            value = draw(base)
            for site in list(self.sites([root], value, "")):
                if isinstance(site.value, dict):
                    make_consistent(draw, site.value, self._quote_factory(site.node))
            return value

        return consistent()

    def defective(
        self, uri: str, kinds: Sequence[str], valid: SearchStrategy[dict] | None = None
    ) -> SearchStrategy[tuple[dict, str]]:
        """A valid instance (from `valid`, by default drawn here) with one defect of `kinds`."""
        valid = valid if valid is not None else self.message(uri)
        root = self._root(uri)

        @st.composite
        def planted(draw: st.DrawFn) -> tuple[dict, str]:
            message = draw(valid)
            options = [d for d in self.candidates(root, message) if d.kind in kinds]
            assume(options)
            # kind first, then place: a message has far more strings than amounts or times
            kind = draw(st.sampled_from(sorted({d.kind for d in options}, key=list(DEFECTS).index)))
            defect = draw(st.sampled_from([d for d in options if d.kind == kind]))
            broken = copy.deepcopy(message)
            _plant(draw, broken, defect)
            return broken, defect.pointer

        return planted()

    def _quote_factory(self, node: Node) -> QuoteFactory:
        def quote(name: str) -> SearchStrategy[dict] | None:
            subs = node.properties.get(name)
            return self.strategy(subs) if subs else None

        return quote

    def candidates(self, root: Sub, message: Any) -> list[Defect]:
        """Every defect that can be planted in `message`."""
        found: list[Defect] = []
        for site in self.sites([root], message, ""):
            node, value = site.node, site.value
            if isinstance(value, dict):
                for key in sorted(node.required & value.keys()):
                    found.append(Defect("missing-required", _join(site.pointer, key)))
                for key in sorted(node.properties.keys() - node.required):
                    # only where the schema itself rules "" out (minLength >= 1)
                    optional = self.node(node.properties[key])
                    if optional.is_string() and optional.min_length >= 1:
                        found.append(Defect("empty-optional", _join(site.pointer, key)))
                if "Amount" in node.names and isinstance(value.get("value"), str):
                    found.append(Defect("bad-amount", _join(site.pointer, "value")))
            elif isinstance(value, str) and node.is_string():
                found.append(Defect("wrong-type", site.pointer))
                if node.max_length is not None:
                    found.append(Defect("too-long", site.pointer, node.max_length))
                if "DateTime" in node.names:
                    found.append(Defect("bad-time", site.pointer))
        return found

    def sites(self, subs: list[Sub], value: Any, pointer: str) -> Iterator[Site]:
        """Walk `value` alongside its schema, yielding every value with its effective node."""
        node = self.node(subs)
        if isinstance(value, dict):
            subs = subs + self._taken_branches(node, value)
            node = self.node(subs)
        yield Site(pointer, node, value)
        if isinstance(value, dict):
            for key, child in value.items():
                yield from self.sites(node.properties.get(key, []), child, _join(pointer, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from self.sites(node.items, child, f"{pointer}/{index}")

    # merging

    def node(self, subs: Iterable[Sub]) -> Node:
        """Merge subschemas (following $ref and allOf) into one Node (cached; do not mutate)."""
        subs = tuple(subs)
        key = tuple(sub.location for sub in subs)
        node = self._nodes.get(key)
        if node is None:
            node = Node()
            for sub in subs:
                self._merge(node, sub, depth=0)
            self._nodes[key] = node
        return node

    def _merge(self, node: Node, sub: Sub, depth: int) -> None:
        schema = sub.schema
        if depth > 64:
            raise ValueError(f"$ref chain too deep at {sub.location}")
        if schema is True or schema == {}:
            return
        if schema is False:
            raise ValueError(f"schema at {sub.location} accepts nothing")
        if "$ref" in schema:
            target = self._deref(sub)
            match = _DEF_NAME.match(target.pointer)
            if match:
                node.names.add(match.group(1))
            self._merge(node, target, depth + 1)
        for index, part in enumerate(schema.get("allOf", ())):
            self._merge(node, Sub(part, sub.uri, f"{sub.pointer}/allOf/{index}"), depth + 1)
        if "if" in schema:
            node.conditionals.append(
                Conditional(
                    Sub(schema["if"], sub.uri, f"{sub.pointer}/if"),
                    Sub(schema["then"], sub.uri, f"{sub.pointer}/then")
                    if "then" in schema
                    else None,
                    Sub(schema["else"], sub.uri, f"{sub.pointer}/else")
                    if "else" in schema
                    else None,
                )
            )
        if "not" in schema:
            node.nots.append(Sub(schema["not"], sub.uri, f"{sub.pointer}/not"))
        if "type" in schema:
            types = schema["type"]
            types = {types} if isinstance(types, str) else set(types)
            node.types = types if node.types is None else node.types & types
        if "const" in schema:
            node.const.append(schema["const"])
        if "enum" in schema:
            values = list(schema["enum"])
            node.enum = values if node.enum is None else [v for v in node.enum if v in values]
        if "pattern" in schema:
            node.patterns.append(schema["pattern"])
        node.min_length = max(node.min_length, schema.get("minLength", 0))
        if "maxLength" in schema:
            node.max_length = min(node.max_length or schema["maxLength"], schema["maxLength"])
        for name, prop in schema.get("properties", {}).items():
            where = f"{sub.pointer}/properties/{_escape(name)}"
            node.properties.setdefault(name, []).append(Sub(prop, sub.uri, where))
        node.required.update(schema.get("required", ()))
        if "items" in schema:
            node.items.append(Sub(schema["items"], sub.uri, f"{sub.pointer}/items"))
        node.min_items = max(node.min_items, schema.get("minItems", 0))
        if "maxItems" in schema:
            node.max_items = min(node.max_items or schema["maxItems"], schema["maxItems"])

    def _root(self, uri: str) -> Sub:
        return Sub(self.registry.contents(uri), uri, "")

    def _deref(self, sub: Sub) -> Sub:
        target = urljoin(sub.uri, sub.schema["$ref"])
        document, fragment = urldefrag(target)
        document = document or sub.uri
        schema: Any = self.registry.contents(document)
        pointer = unquote(fragment)
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            schema = schema[int(token)] if isinstance(schema, list) else schema[token]
        return Sub(schema, document, pointer)

    def is_valid(self, sub: Sub, value: Any) -> bool:
        """Whether `value` satisfies the subschema (used for if/not)."""
        validator = self._validators.get(sub.location)
        if validator is None:
            validator = Draft202012Validator({"$ref": sub.location}, registry=self.registry)
            self._validators[sub.location] = validator
        return validator.is_valid(value)

    def _taken_branches(self, node: Node, value: dict) -> list[Sub]:
        taken: list[Sub] = []
        pending = list(node.conditionals)
        while pending:
            cond = pending.pop(0)
            branch = cond.then if self.is_valid(cond.if_, value) else cond.else_
            if branch is not None:
                taken.append(branch)
                pending.extend(self.node([branch]).conditionals)
        return taken

    # strategies

    def strategy(self, subs: list[Sub]) -> SearchStrategy[Any]:
        """The (cached) strategy for values satisfying every subschema in `subs`."""
        key = tuple(sub.location for sub in subs)
        if key not in self._strategies:
            self._strategies[key] = st.deferred(lambda: self._strategies[key])
            self._strategies[key] = self._build(self.node(subs), subs)
        return self._strategies[key]

    def _build(self, node: Node, subs: list[Sub]) -> SearchStrategy[Any]:
        for name in sorted(node.names & self._semantic.keys()):
            return self._semantic[name]()
        if node.const:
            return st.just(node.const[0])
        if node.enum is not None:
            choices = [v for v in node.enum if all(not self.is_valid(n, v) for n in node.nots)]
            if not choices:
                raise ValueError(f"no value satisfies {subs[0].location}")
            return st.sampled_from(choices)
        kind = self._pick_type(node)
        if kind == "object":
            return self._object(node, subs)
        if kind == "array":
            most = node.max_items if node.max_items is not None else node.min_items + 3
            items = self.strategy(node.items)
            return st.lists(items, min_size=node.min_items, max_size=min(most, node.min_items + 3))
        if kind == "boolean":
            return st.booleans()
        if kind in ("integer", "number"):
            return st.integers(min_value=0, max_value=10_000)
        if kind == "null":
            return st.none()
        return self._string(node)

    @staticmethod
    def _pick_type(node: Node) -> str:
        if node.types is not None:
            for kind in ("string", "object", "array", "boolean", "integer", "number", "null"):
                if kind in node.types:
                    return kind
            raise ValueError("no JSON type satisfies the merged schema")
        if node.properties or node.required:
            return "object"
        if node.items:
            return "array"
        return "string"

    def _string(self, node: Node) -> SearchStrategy[str]:
        shortest = max(1, node.min_length)  # "" is never valid on the wire
        longest = node.max_length
        if node.patterns:
            first, *others = node.patterns
            # A pattern anchored at both ends is drawn whole; "^https?://" is a prefix + free text.
            anchored = first.endswith("$") and not first.endswith("\\$")
            strings = st.from_regex(re.compile(first, re.ASCII), fullmatch=anchored)
            compiled = [re.compile(p) for p in others]

            def fits(text: str) -> bool:
                if len(text) < shortest or (longest is not None and len(text) > longest):
                    return False
                return all(p.search(text) for p in compiled)

            strings = strings.filter(fits)
        else:
            most = min(longest, shortest + _MAX_DRAWN_TEXT) if longest else shortest + 24
            strings = st.text(_TEXT, min_size=shortest, max_size=most).filter(_not_blank)
        if node.nots:
            strings = strings.filter(lambda v: all(not self.is_valid(n, v) for n in node.nots))
        return strings

    def _object(self, node: Node, subs: list[Sub]) -> SearchStrategy[dict]:
        names = sorted(node.properties)

        @st.composite
        def objects(draw: st.DrawFn) -> dict:
            value: dict[str, Any] = {}
            for name in names:
                if name in node.required or draw(st.booleans()):
                    value[name] = draw(self.strategy(node.properties[name]))
            for name in sorted(node.required - value.keys()):
                value[name] = draw(self.strategy(node.properties.get(name, [])))
            self._satisfy_conditionals(draw, node, value)
            if node.nots:
                assume(all(not self.is_valid(n, value) for n in node.nots))
            return value

        return objects()

    def _satisfy_conditionals(self, draw: st.DrawFn, node: Node, value: dict) -> None:
        """Apply each if/then/else that holds for `value`, drawing what the branch demands."""
        pending = list(node.conditionals)
        while pending:
            cond = pending.pop(0)
            branch = cond.then if self.is_valid(cond.if_, value) else cond.else_
            if branch is None:
                continue
            demands = self.node([branch])
            pending.extend(demands.conditionals)
            for name in sorted(demands.required | demands.properties.keys()):
                both = node.properties.get(name, []) + demands.properties.get(name, [])
                if name in value:
                    if all(self.is_valid(s, value[name]) for s in demands.properties.get(name, [])):
                        continue
                elif name not in demands.required:
                    continue
                value[name] = draw(self.strategy(both))


# --- values with meaning beyond their schema ---------------------------------------------------


def date_times() -> SearchStrategy[str]:
    """ISO 8601 date-times with a UTC offset, e.g. 2025-01-01T12:00:00+08:00."""
    offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: q * 15)
    moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
    return st.builds(_format_time, moments, offsets)


def _format_time(moment: datetime, offset_minutes: int) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    return moment.replace(microsecond=0, tzinfo=zone).isoformat()


@cache
def _currencies() -> tuple[str, ...]:
    return tuple(money.currencies())


def currencies() -> SearchStrategy[str]:
    """ISO 4217 codes the contract knows."""
    return st.sampled_from(_currencies())


def urls() -> SearchStrategy[str]:
    """Plausible absolute https URLs, e.g. https://shop-3.example/return/ab12."""
    label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
    path = st.lists(label, max_size=3).map("/".join)
    return st.builds("https://{}.example/{}".format, label, path)


def currency_pairs() -> SearchStrategy[str]:
    """Pairs of two different known currencies, e.g. JPY/KRW."""
    pairs = st.lists(currencies(), min_size=2, max_size=2, unique=True)
    return pairs.map("/".join)


def amounts() -> SearchStrategy[dict]:
    """Amount objects: a known currency and a positive integer of its minor units."""
    values = st.integers(min_value=1, max_value=10**9).map(str)
    return st.fixed_dictionaries({"currency": currencies(), "value": values})


def quote_prices() -> SearchStrategy[Decimal]:
    """FX prices with 8 decimals between 0.01 and 2000 (as the sandbox quotes them)."""
    return st.integers(min_value=10**6, max_value=2000 * 10**8).map(lambda n: Decimal(n) / 10**8)


# --- domain consistency ------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """Amounts that belong together: target = source converted under the quote.

    As Alipay+ documents it, the source (paymentAmount) already excludes the promotion, and the
    savings are in the target's currency and not above it.
    """

    source: str
    target: str
    quote: str
    promo: str


# As contracts.validation checks them (spec §2.9, §4.3, §4.7, §10).
CONVERSIONS = (
    Conversion("paymentAmount", "payToAmount", "paymentQuote", "paymentPromoInfo"),
    Conversion("refundAmount", "refundFromAmount", "refundQuote", "refundPromoInfo"),
)


def make_consistent(draw: st.DrawFn, obj: dict, quote_strategy: QuoteFactory) -> None:
    """Make the amounts of one object agree: currencies, FX conversion, promotion savings.

    `quote_strategy(name)` gives a strategy for a missing quote field when the object's schema
    has one (None otherwise): different currencies then travel with a quote, as on the wire.
    """
    for family in CONVERSIONS:
        source, target = obj.get(family.source), obj.get(family.target)
        details = _savings_details(obj.get(family.promo))
        needed = 2 * len(details) or 1  # each saving >= 1, all of them <= half the target
        if not _is_amount(source) or not _is_amount(target):
            if _is_amount(target) and details:
                _spread_savings(draw, details, _at_least(target, needed))
            continue
        quote = obj.get(family.quote)
        if not isinstance(quote, dict) and source["currency"] != target["currency"]:
            extra = quote_strategy(family.quote)
            if extra is not None:
                quote = obj[family.quote] = draw(extra)
        if isinstance(quote, dict):
            if target["currency"] == source["currency"]:
                others = [c for c in _currencies() if c != source["currency"]]
                target["currency"] = draw(st.sampled_from(others))
            converted = _fix_quote(draw, source, target["currency"], quote, needed)
        elif source["currency"] == target["currency"]:
            converted = int(_at_least(source, needed)["value"])
        else:  # no quote travels (notifyPayment, inquiryPayment): only savings <= target
            _spread_savings(draw, details, _at_least(target, needed))
            continue
        target["value"] = str(converted)
        _spread_savings(draw, details, target)


QuoteFactory = Callable[[str], "SearchStrategy[dict] | None"]


def _fix_quote(draw: st.DrawFn, source: dict, to_ccy: str, quote: dict, needed: int) -> int:
    """Draw a pair and price for `quote`; return source converted (at least `needed`)."""
    from_ccy = source["currency"]
    price = draw(quote_prices())
    base, counter = (from_ccy, to_ccy) if draw(st.booleans()) else (to_ccy, from_ccy)
    pair = f"{base}/{counter}"
    value = int(source["value"])
    converted = money.convert(value, from_ccy, to_ccy, price, pair)
    while converted < needed:
        value *= 10
        converted = money.convert(value, from_ccy, to_ccy, price, pair)
    source["value"] = str(value)
    quote["quoteCurrencyPair"] = pair
    quote["quotePrice"] = format(price, "f")
    if "baseCurrency" in quote:
        quote["baseCurrency"] = base
    return converted


def _savings_details(promo: Any) -> list[dict]:
    details = promo.get("paymentPromoDetails") if isinstance(promo, dict) else None
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict) and _is_amount(d.get("savingsAmount"))]


def _at_least(amount: dict, needed: int) -> dict:
    """Scale an amount by tens until it is at least `needed` minor units."""
    while int(amount["value"]) < needed:
        amount["value"] = str(int(amount["value"]) * 10)
    return amount


def _spread_savings(draw: st.DrawFn, details: list[dict], target: dict) -> int:
    """Savings in the target currency, each >= 1, adding up to at most half of it; the total."""
    room = int(target["value"]) // 2
    total = 0
    for index, detail in enumerate(details):
        left_for_others = len(details) - index - 1
        value = draw(st.integers(min_value=1, max_value=max(1, room - left_for_others)))
        room -= value
        total += value
        detail["savingsAmount"] = {"currency": target["currency"], "value": str(value)}
    return total


def _is_amount(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("value"), str) and "currency" in value


# --- planting defects --------------------------------------------------------------------------


def _plant(draw: st.DrawFn, message: dict, defect: Defect) -> None:
    *parents, last = _tokens(defect.pointer)
    holder: Any = message
    for token in parents:
        holder = holder[int(token)] if isinstance(holder, list) else holder[token]
    key: Any = int(last) if isinstance(holder, list) else last
    if defect.kind == "missing-required":
        del holder[key]
    elif defect.kind == "wrong-type":
        holder[key] = draw(st.sampled_from((100, 1.5)))
    elif defect.kind == "too-long":
        # keep the valid value and pad it past the limit with its own last character
        value = holder[key] or "x"
        extra = defect.limit + draw(st.integers(min_value=1, max_value=3)) - len(value)
        holder[key] = value + value[-1] * extra
    elif defect.kind == "empty-optional":
        holder[key] = ""
    elif defect.kind == "bad-amount":
        holder[key] = draw(st.sampled_from(BAD_AMOUNT_VALUES))
    elif defect.kind == "bad-time":
        holder[key] = draw(st.sampled_from(BAD_TIME_VALUES))
    else:  # pragma: no cover - guarded by invalid_message
        raise ValueError(defect.kind)


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _join(pointer: str, token: str) -> str:
    return f"{pointer}/{_escape(token)}"


def _not_blank(text: str) -> bool:
    return bool(text.strip())
