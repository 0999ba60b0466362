"""SchemaCompiler: JSON Schemas in a `referencing.Registry` turned into Hypothesis strategies."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from jsonschema import Draft202012Validator
from referencing import Registry

from contracts.strategies.defects import DEFECTS, plant
from contracts.strategies.nodes import Defect, Node, Site, Sub, join, merge
from contracts.strategies.values import (
    QuoteFactory,
    amounts,
    currencies,
    currency_pairs,
    date_times,
    make_consistent,
    urls,
)

# Printable text without control characters; the wire is UTF-8 JSON.
_TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
_MAX_DRAWN_TEXT = 24


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
            plant(draw, broken, defect)
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
                    found.append(Defect("missing-required", join(site.pointer, key)))
                for key in sorted(node.properties.keys() - node.required):
                    # only where the schema itself rules "" out (minLength >= 1)
                    optional = self.node(node.properties[key])
                    if optional.is_string() and optional.min_length >= 1:
                        found.append(Defect("empty-optional", join(site.pointer, key)))
                if "Amount" in node.names and isinstance(value.get("value"), str):
                    found.append(Defect("bad-amount", join(site.pointer, "value")))
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
                yield from self.sites(node.properties.get(key, []), child, join(pointer, key))
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
                merge(node, sub, self._deref)
            self._nodes[key] = node
        return node

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


def _not_blank(text: str) -> bool:
    return bool(text.strip())
