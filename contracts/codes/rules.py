"""Code rules as served by inquiryCodeRules, compiled once into matchers (a `RuleSet`).

Accepted input: an inquiryCodeRules response body (``{"result", "version", "codeRules"}``),
the same without ``result``, or a bare list of CodeRule objects. ``extendInfo`` and its
``matchResult``/``matchPattern`` are JSON texts on the wire; objects are accepted too.

A rule that cannot be compiled (unknown matchMethod, missing prefix, a Java regex we cannot
run, unreadable extendInfo...) is left out and described in `RuleSet.problems`; the other
rules still work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .emv import root_field_tags
from .matchers import EmvMatcher, Matcher, PrefixMatcher, RegexMatcher, ValuePattern

DEFAULT_PRIORITY = 10000
MATCH_METHODS = ("PREFIX", "REGEX", "EMVCO")
ACTION_TYPES = ("DECODE", "OPEN_URL")


class RuleError(ValueError):
    """A code rule that cannot be used."""


@dataclass(frozen=True)
class CompiledRule:
    """One usable code rule: where it was listed, its priority, its matcher and its action."""

    index: int
    match_method: str
    priority: int
    matcher: Matcher
    action: Mapping[str, Any]
    extend_info: Mapping[str, Any] | None
    match_result: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    ac_decode_config: str = ""

    @property
    def action_type(self) -> str:
        """DECODE or OPEN_URL (only postCodeMatchAction decides; routerType does not)."""
        return str(self.action["postCodeMatchActionType"])

    def describe(self) -> str:
        """A short human description, e.g. 'PREFIX https://qr... (priority 10000)'."""
        if isinstance(self.matcher, PrefixMatcher):
            what = self.matcher.prefix
        elif isinstance(self.matcher, RegexMatcher):
            what = self.matcher.regex
        else:
            parts = [f"{tag}={p.text}" for tag, p in self.matcher.template_rules]
            parts += [f"primitive {tag}" for tag in self.matcher.primitive_tags]
            parts += [f"{path}={p.text}" for path, p in self.matcher.field_rules]
            what = ", ".join(parts) or "any"
        return f"#{self.index} {self.match_method} {what} (priority {self.priority})"


@dataclass(frozen=True)
class RuleSet:
    """An immutable, compiled rule set with its version; safe to share between threads."""

    version: str | None
    rules: tuple[CompiledRule, ...]
    problems: tuple[str, ...] = ()
    has_emv_rules: bool = False

    @classmethod
    def from_body(cls, body: Mapping[str, Any] | Sequence[Any]) -> RuleSet:
        """Compile an inquiryCodeRules body, a {"version","codeRules"} object or a list of rules."""
        if isinstance(body, Mapping):
            version = body.get("version")
            raw_rules = body.get("codeRules") or []
        else:
            version, raw_rules = None, body
        if not isinstance(raw_rules, Sequence) or isinstance(raw_rules, str | bytes):
            raise RuleError("codeRules must be a list")
        compiled, problems = [], []
        for index, raw in enumerate(raw_rules):
            try:
                compiled.append(compile_rule(index, raw))
            except (RuleError, ValueError, TypeError, KeyError) as exc:
                problems.append(f"codeRules[{index}]: {exc}")
        return cls(
            version=None if version is None else str(version),
            rules=tuple(compiled),
            problems=tuple(problems),
            has_emv_rules=any(r.match_method == "EMVCO" for r in compiled),
        )


def _json_object(value: Any, what: str) -> dict[str, Any] | None:
    """A JSON object given as text (the wire form) or already as a mapping; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RuleError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, Mapping):
        raise RuleError(f"{what} must be a JSON object")
    return dict(value)


def _priority(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_PRIORITY
    if isinstance(value, bool):
        raise RuleError(f"priority {value!r} is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise RuleError(f"priority {value!r} is not an integer") from exc


def compile_rule(index: int, raw: Any) -> CompiledRule:
    """Compile one CodeRule; raises RuleError when it cannot be used."""
    if not isinstance(raw, Mapping):
        raise RuleError("a code rule must be an object")
    pattern = raw.get("codeMatchPattern")
    action = raw.get("postCodeMatchAction")
    if not isinstance(pattern, Mapping):
        raise RuleError("codeMatchPattern is missing")
    if not isinstance(action, Mapping):
        raise RuleError("postCodeMatchAction is missing")
    if action.get("postCodeMatchActionType") not in ACTION_TYPES:
        raise RuleError(
            f"postCodeMatchActionType {action.get('postCodeMatchActionType')!r} is not one of "
            f"{', '.join(ACTION_TYPES)}"
        )
    extend_info = _json_object(raw.get("extendInfo"), "extendInfo")
    match_result = match_pattern = None
    if extend_info is not None:
        match_result = _json_object(extend_info.get("matchResult"), "extendInfo.matchResult")
        match_pattern = _json_object(extend_info.get("matchPattern"), "extendInfo.matchPattern")

    method = pattern.get("matchMethod")
    matcher: Matcher
    priority = _priority(pattern.get("priority"))
    if method == "PREFIX":
        prefix = pattern.get("prefix")
        if not isinstance(prefix, str) or not prefix:
            raise RuleError("PREFIX rule without a prefix")
        matcher = PrefixMatcher(prefix)
    elif method == "REGEX":
        regex = pattern.get("regex")
        if not isinstance(regex, str) or not regex:
            raise RuleError("REGEX rule without a regex")
        matcher = RegexMatcher.build(regex)
    elif method == "EMVCO":
        if match_pattern is not None:
            # The SDK builds EMVCO matchers from extendInfo.matchPattern, priority included.
            matcher = _emv_from_match_pattern(match_pattern)
            priority = _priority(match_pattern.get("priority"))
        else:
            matcher = _emv_from_code_match_pattern(pattern)
    else:
        raise RuleError(f"matchMethod {method!r} is not one of {', '.join(MATCH_METHODS)}")
    return CompiledRule(
        index=index,
        match_method=method,
        priority=priority,
        matcher=matcher,
        action=dict(action),
        extend_info=extend_info,
        match_result=match_result,
        raw=raw,
        ac_decode_config=_ac_decode_config(extend_info, match_result),
    )


_HIDDEN_MATCH_RESULT_KEYS = ("trust", "nonSdkJarSupportVersion")


def _ac_decode_config(
    extend_info: Mapping[str, Any] | None, match_result: Mapping[str, Any] | None
) -> str:
    """extendInfo.matchResult without trust and nonSdkJarSupportVersion; "" without extendInfo."""
    if extend_info is None or match_result is None:
        return ""
    visible = {k: v for k, v in match_result.items() if k not in _HIDDEN_MATCH_RESULT_KEYS}
    return json.dumps(visible, ensure_ascii=False, separators=(",", ":"))


def _tag(value: Any, what: str) -> str:
    """A two-digit EMVCo tag given as "15" (or the number 15)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99:
        return f"{value:02d}"
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isdigit():
        return value
    raise RuleError(f"{what} {value!r} is not a two-digit tag")


def _emv_from_code_match_pattern(pattern: Mapping[str, Any]) -> EmvMatcher:
    template_rules, primitive_tags = [], []
    for entry in pattern.get("emvMatchRules") or []:
        if not isinstance(entry, Mapping):
            raise RuleError("emvMatchRules entries must be objects")
        if entry.get("primitiveMerchant") in (True, "true"):
            primitive_tags.append(_tag(entry.get("primitiveMerchantTag"), "primitiveMerchantTag"))
        else:
            sub_tag = _tag(entry.get("extendedMerchantTag"), "extendedMerchantTag")
            value = entry.get("extendedMerchantValue")
            # A restriction without a value only asks for the sub-tag to be present.
            text = value if isinstance(value, str) and value else "N<NOT_NULL>"
            template_rules.append((sub_tag, ValuePattern.parse(text)))
    return EmvMatcher(tuple(template_rules), tuple(primitive_tags), ())


def _emv_from_match_pattern(match_pattern: Mapping[str, Any]) -> EmvMatcher:
    template_rules: list[tuple[str, ValuePattern]] = []
    primitive_tags: list[str] = []
    if match_pattern.get("primitiveMai") in (True, "true"):
        # Primitive-MAI rules only test that the tag is present.
        primitive_tags.append(_tag(match_pattern.get("primitiveMaiTag"), "primitiveMaiTag"))
    else:
        restrictions = match_pattern.get("merchantMaiRestrictions") or {}
        if not isinstance(restrictions, Mapping):
            raise RuleError("merchantMaiRestrictions must be an object")
        for sub_tag, value in restrictions.items():
            if isinstance(value, str) and value:
                template_rules.append(
                    (_tag(sub_tag, "merchantMaiRestrictions key"), ValuePattern.parse(value))
                )
    field_rules = _root_field_rules(match_pattern) + _accurate_tag_rules(match_pattern)
    return EmvMatcher(tuple(template_rules), tuple(primitive_tags), tuple(field_rules))


def _root_field_rules(match_pattern: Mapping[str, Any]) -> list[tuple[str, ValuePattern]]:
    """Constraints on root fields (00, 01, 52-61) and sub-fields of templates (62.05...)."""
    field_rules: list[tuple[str, ValuePattern]] = []
    for name, tag in root_field_tags().items():
        value = match_pattern.get(name)
        if isinstance(value, str) and value:
            field_rules.append((tag, ValuePattern.parse(value)))
        elif isinstance(value, Mapping):  # sub-fields of a template, e.g. 62: {"05": "S<INV>"}
            for sub_tag, sub_value in value.items():
                if isinstance(sub_value, str) and sub_value:
                    path = f"{tag}.{_tag(sub_tag, name + ' key')}"
                    field_rules.append((path, ValuePattern.parse(sub_value)))
    return field_rules


def _accurate_tag_rules(match_pattern: Mapping[str, Any]) -> list[tuple[str, ValuePattern]]:
    """`accurateTagRules`: an object (or JSON text, or a list of {tag, value}) of tag paths."""
    accurate = match_pattern.get("accurateTagRules") or {}
    if isinstance(accurate, str):  # nested JSON text, as the rest of extendInfo
        accurate = _json_object(accurate, "accurateTagRules") or {}
    if isinstance(accurate, Sequence) and not isinstance(accurate, str):
        accurate = {
            item.get("tag"): item.get("value") for item in accurate if isinstance(item, Mapping)
        }
    if not isinstance(accurate, Mapping):
        raise RuleError("accurateTagRules must be an object or a list of {tag, value}")
    field_rules: list[tuple[str, ValuePattern]] = []
    for path, value in accurate.items():
        if (
            not isinstance(path, str)
            or not all(len(p) == 2 and p.isdigit() for p in path.split("."))
            or path.count(".") > 1
        ):
            raise RuleError(f"accurateTagRules key {path!r} is not a tag path like '59' or '62.05'")
        if isinstance(value, str) and value:
            field_rules.append((path, ValuePattern.parse(value)))
    return field_rules
