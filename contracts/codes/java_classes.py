"""Character-class building blocks for the Java regex translation (contracts.codes.java_regex):
Java's line terminators and blank sets, Unicode general categories as code-point ranges, POSIX
classes from data/java_regex_classes.json, and characters written safely inside a Python class.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources

TERMINATORS = "\n\r\x85\u2028\u2029"
HSPACE = " \t\xa0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000"
VSPACE = "\n\x0b\f\r\x85\u2028\u2029"


@dataclass(frozen=True)
class JavaFlags:
    """The inline flags in force (?idmsuxU)."""

    i: bool = False
    d: bool = False  # UNIX_LINES: only \n is a line terminator
    m: bool = False
    s: bool = False
    u: bool = False  # UNICODE_CASE
    U: bool = False  # UNICODE_CHARACTER_CLASS (also implies UNICODE_CASE)
    x: bool = False

    def with_letters(self, on: str, off: str) -> JavaFlags:
        changes: dict[str, bool] = dict.fromkeys(on, True) | dict.fromkeys(off, False)
        return replace(self, **changes)

    def terminators(self) -> str:
        return "\n" if self.d else TERMINATORS


class JavaRegexError(ValueError):
    """The Java pattern is invalid or uses a feature this translation does not support."""


@cache
def _named_classes() -> dict[str, str]:
    text = resources.files(__package__).joinpath("data/java_regex_classes.json").read_text("utf-8")
    return dict(json.loads(text)["classes"])

    text = resources.files(__package__).joinpath("data/java_regex_classes.json").read_text("utf-8")
    return dict(json.loads(text)["classes"])


@cache
def _all_category_ranges() -> dict[str, tuple[tuple[int, int], ...]]:
    """Code-point ranges of every two-letter Unicode general category, in one pass."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    current, start = category("\0"), 0
    for cp in range(1, sys.maxunicode + 1):
        cat = category(chr(cp))
        if cat != current:
            ranges.setdefault(current, []).append((start, cp - 1))
            current, start = cat, cp
    ranges.setdefault(current, []).append((start, sys.maxunicode))
    return {cat: tuple(r) for cat, r in ranges.items()}


@cache
def _category_ranges(category: str) -> tuple[tuple[int, int], ...]:
    """Code-point ranges whose Unicode general category starts with `category` (L, Lu, Nd...)."""
    return _merge(*(rs for cat, rs in _all_category_ranges().items() if cat.startswith(category)))


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out, nxt = [], 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= sys.maxunicode:
        out.append((nxt, sys.maxunicode))
    return tuple(out)


def _ranges_body(ranges: tuple[tuple[int, int], ...]) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(
            class_char(chr(lo)) if lo == hi else f"{class_char(chr(lo))}-{class_char(chr(hi))}"
        )
    return "".join(parts)


def class_char(c: str) -> str:
    """One character written safely inside a Python character class."""
    if c.isalnum() and c.isascii():
        return c
    return f"\\U{ord(c):08x}" if ord(c) > 0xFFFF else f"\\u{ord(c):04x}"


_CATEGORIES = {
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
    "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
    "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn",
}  # fmt: skip


def property_body(name: str, negated: bool, case_insensitive: bool = False) -> str:
    """Class body (no brackets) for \\p{name} / \\P{name}.

    Under CASE_INSENSITIVE Java widens \\p{Lu}, \\p{Ll} and \\p{Lt} to every cased letter
    (Lu, Ll, Lt) and \\p{Upper}, \\p{Lower} to both ASCII cases.
    """
    named = _named_classes()
    key = name
    for lead in ("gc=", "general_category=", "Is"):
        if key.startswith(lead) and key[len(lead) :] in _CATEGORIES:
            key = key[len(lead) :]
            break
    if key in _CATEGORIES:
        if case_insensitive and key in ("Lu", "Ll", "Lt"):
            ranges = _merge(_category_ranges("Lu"), _category_ranges("Ll"), _category_ranges("Lt"))
        else:
            ranges = _category_ranges(key)
    elif name in named:
        body = "a-zA-Z" if case_insensitive and name in ("Upper", "Lower") else named[name]
        if not negated:
            return body
        ranges = _body_ranges(body)
    else:
        raise JavaRegexError(f"unsupported character property \\p{{{name}}}")
    return _ranges_body(_complement(ranges) if negated else ranges)


def _merge(*groups: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for group in groups for r in group):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


@cache
def word_body() -> str:
    """Java's (before 19) \\b word characters: letters, decimal digits, '_', and non-spacing
    marks (counted as part of the letter they follow)."""
    return "_" + _ranges_body(
        _merge(_category_ranges("L"), _category_ranges("Nd"), _category_ranges("Mn"))
    )


@lru_cache(maxsize=64)
def _body_ranges(body: str) -> tuple[tuple[int, int], ...]:
    """Ranges matched by a (small, ASCII-range) class body, for negating named classes."""
    compiled = re.compile(f"[{body}]")
    cps = [cp for cp in range(0x10000) if compiled.match(chr(cp))]
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return tuple(ranges)


def escape_body(chars: str) -> str:
    """Characters written one by one for use inside a Python character class."""
    return "".join(class_char(c) for c in chars)
