"""The three matchers of the server SDK (PREFIX, REGEX, EMVCO) and the value mini-language.

Value patterns, used in EMV merchant restrictions and root-field constraints:
``S<x>`` starts with x, ``C<x>`` contains x, ``R<x>`` the whole value matches the Java regex x,
``N<NULL>`` absent or empty, ``N<NOT_NULL>`` present; the mode letter is case-insensitive and
anything else is an exact, case-sensitive comparison. A missing field fails every mode except
``N<NULL>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .emv import EmvCode
from .java_regex import JavaRegexError, compile_java
from .java_text import starts_with_ignore_case

_MODE = re.compile(r"([A-Za-z])<(.*)>", re.DOTALL)


@dataclass(frozen=True)
class ValuePattern:
    """One compiled value pattern of the mini-language."""

    text: str
    mode: str = "="  # "=", "S", "C", "R", "N"
    argument: str = ""
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> ValuePattern:
        """Compile `text`; raises ValueError (JavaRegexError) for a bad R<...> regex."""
        m = _MODE.fullmatch(text)
        if m and m.group(1).upper() in "SCRN":
            mode, argument = m.group(1).upper(), m.group(2)
            try:
                regex = compile_java(argument) if mode == "R" else None
            except JavaRegexError as exc:
                raise JavaRegexError(f"value pattern {text!r}: {exc}") from exc
            return cls(text, mode, argument, regex)
        return cls(text, "=", text)

    def matches(self, value: str | None) -> bool:
        """Whether a field's value (None when the field is absent) satisfies the pattern."""
        if self.mode == "N":
            if self.argument == "NULL":
                return not value
            if self.argument == "NOT_NULL":
                return bool(value)
            return False  # N<anything else> is not a defined test
        if value is None:
            return False
        if self.mode == "S":
            return value.startswith(self.argument)
        if self.mode == "C":
            return self.argument in value
        if self.mode == "R":
            assert self.regex is not None
            return self.regex.fullmatch(value) is not None
        return value == self.argument


@dataclass(frozen=True)
class PrefixMatcher:
    """PREFIX: the code starts with the prefix, ignoring case the Java way; nothing is trimmed."""

    prefix: str

    def matches(self, code: str, emv: EmvCode | None) -> bool:
        """Whether `code` matches."""
        return starts_with_ignore_case(code, self.prefix)


@dataclass(frozen=True)
class RegexMatcher:
    """REGEX: Java `Pattern.matcher(code).matches()`, case-sensitive, no flags."""

    regex: str
    compiled: re.Pattern[str] = field(compare=False, repr=False)

    @classmethod
    def build(cls, regex: str) -> RegexMatcher:
        """Compile a Java regex (raises JavaRegexError)."""
        return cls(regex, compile_java(regex))

    def matches(self, code: str, emv: EmvCode | None) -> bool:
        """Whether the whole of `code` matches."""
        return self.compiled.fullmatch(code) is not None


@dataclass(frozen=True)
class EmvMatcher:
    """EMVCO: a valid EMVCo payload whose merchant accounts and root fields satisfy the rule.

    `template_rules` must all hold inside one merchant template (26-51, then 80-99);
    `primitive_tags` (02-25) need only be present; `field_rules` are checked on root fields
    ("58") or on sub-fields of a template ("62.05").
    """

    template_rules: tuple[tuple[str, ValuePattern], ...] = ()
    primitive_tags: tuple[str, ...] = ()
    field_rules: tuple[tuple[str, ValuePattern], ...] = ()

    def matches(self, code: str, emv: EmvCode | None) -> bool:
        """Whether the parsed payload `emv` (None when `code` is not EMVCo) matches."""
        if emv is None:
            return False
        if any(emv.get(tag) is None for tag in self.primitive_tags):
            return False
        if self.template_rules and self.merchant_template(emv) is None:
            return False
        return all(pattern.matches(emv.lookup(path)) for path, pattern in self.field_rules)

    def merchant_template(self, emv: EmvCode) -> tuple[str, dict[str, str]] | None:
        """The first merchant template (26-51, then 80-99) satisfying every template rule."""
        for tag, sub in emv.merchant_templates():
            if all(pattern.matches(sub.get(sub_tag)) for sub_tag, pattern in self.template_rules):
                return tag, sub
        return None


Matcher = PrefixMatcher | RegexMatcher | EmvMatcher
