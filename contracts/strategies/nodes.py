"""The schema walker's data: subschemas with their location, merged nodes, defect sites."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEF_NAME = re.compile(r"^/\$defs/([^/]+)$")


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


def merge(node: Node, sub: Sub, deref: Callable[[Sub], Sub], depth: int = 0) -> None:
    """Add what the subschema `sub` says (following $ref, allOf, if/then/else, not) to `node`."""
    schema = sub.schema
    if depth > 64:
        raise ValueError(f"$ref chain too deep at {sub.location}")
    if schema is True or schema == {}:
        return
    if schema is False:
        raise ValueError(f"schema at {sub.location} accepts nothing")
    if "$ref" in schema:
        target = deref(sub)
        match = DEF_NAME.match(target.pointer)
        if match:
            node.names.add(match.group(1))
        merge(node, target, deref, depth + 1)
    for index, part in enumerate(schema.get("allOf", ())):
        merge(node, Sub(part, sub.uri, f"{sub.pointer}/allOf/{index}"), deref, depth + 1)
    if "if" in schema:
        node.conditionals.append(
            Conditional(
                Sub(schema["if"], sub.uri, f"{sub.pointer}/if"),
                _branch(schema, sub, "then"),
                _branch(schema, sub, "else"),
            )
        )
    if "not" in schema:
        node.nots.append(Sub(schema["not"], sub.uri, f"{sub.pointer}/not"))
    _merge_scalar(node, schema)
    _merge_containers(node, sub)


def _branch(schema: dict, sub: Sub, name: str) -> Sub | None:
    return Sub(schema[name], sub.uri, f"{sub.pointer}/{name}") if name in schema else None


def _merge_scalar(node: Node, schema: dict) -> None:
    """type, const, enum, pattern and string lengths."""
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


def _merge_containers(node: Node, sub: Sub) -> None:
    """properties, required, items and array lengths."""
    schema = sub.schema
    for name, prop in schema.get("properties", {}).items():
        where = f"{sub.pointer}/properties/{escape(name)}"
        node.properties.setdefault(name, []).append(Sub(prop, sub.uri, where))
    node.required.update(schema.get("required", ()))
    if "items" in schema:
        node.items.append(Sub(schema["items"], sub.uri, f"{sub.pointer}/items"))
    node.min_items = max(node.min_items, schema.get("minItems", 0))
    if "maxItems" in schema:
        node.max_items = min(node.max_items or schema["maxItems"], schema["maxItems"])


def tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def join(pointer: str, token: str) -> str:
    return f"{pointer}/{escape(token)}"
