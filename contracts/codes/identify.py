"""identifyCode: the Python counterpart of the Alipay+ MPP server SDK's CodeIdentificationService.

Behaviour follows the official SDK jar (v1.2.1.20240506) as observed (spec §4.2a): every rule
is evaluated, the lowest priority wins (missing = 10000, ties to the first listed), the winner
is chosen before its URL is built, and a URL that cannot be built makes the code unsupported
(result still S/SUCCESS). Any unexpected error inside is swallowed the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from .. import catalogue
from .emv import EmvCode, try_parse_emv
from .java_regex import compile_java
from .java_text import is_java_blank, sdk_url_encode
from .matchers import EmvMatcher
from .rules import CompiledRule, RuleSet
from .rules_cache import RulesCache

SDK_JAR_VERSION = "1.2.1.20240506"
DEFAULT_USER_AGENT = "AlipayConnect"
_PARAM = re.compile(r"([A-Za-z])<(.*)>", re.DOTALL)
_HTTP = re.compile("http", re.IGNORECASE | re.ASCII)


def _result(code: str, message: str) -> dict[str, str]:
    """A result object for identifyCode; code and status come from the result-code catalogue."""
    return catalogue.result("identifyCode", code, message)


SUCCESS = _result("SUCCESS", "success")


@dataclass(frozen=True)
class CodeIdentificationResult:
    """What identifyCode returns; `to_dict()` gives exactly the SDK's fields."""

    is_supported: bool
    result: Mapping[str, str]
    post_code_match_action_type: str | None = None
    code_value: str | None = None
    redirect_url: str | None = None
    user_agent: str | None = None
    ac_decode_config: str | None = None
    rule: CompiledRule | None = field(default=None, compare=False, repr=False)
    reason: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The SDK's CodeIdentificationResult as JSON-ready camelCase fields."""
        return {
            "isSupported": self.is_supported,
            "postCodeMatchActionType": self.post_code_match_action_type,
            "codeValue": self.code_value,
            "redirectUrl": self.redirect_url,
            "userAgent": self.user_agent,
            "acDecodeConfig": self.ac_decode_config,
            "result": dict(self.result),
        }


def unsupported(code_value: str | None, reason: str = "") -> CodeIdentificationResult:
    """The SDK's answer for a code no (usable) rule supports: isSupported=false, result S."""
    return CodeIdentificationResult(
        is_supported=False, result=dict(SUCCESS), code_value=code_value, reason=reason
    )


class UrlBuildError(ValueError):
    """The winning OPEN_URL rule cannot produce a URL for this code."""


# What to do with a winning rule marked untrusted (trust "N") that this SDK version may not
# handle locally; the real SDK asks Alipay+'s remote identify endpoint, which we do not have.
RemoteIdentify = Callable[[str, str | None, CompiledRule], "CodeIdentificationResult | None"]
UntrustedPolicy = Literal["trust", "reject"] | RemoteIdentify


def needs_remote_identify(rule: CompiledRule, sdk_version: str = SDK_JAR_VERSION) -> bool:
    """True when the SDK would ask Alipay+ remotely: trust is exactly "N" and
    nonSdkJarSupportVersion is missing, malformed or newer than the SDK version."""
    match_result = rule.match_result or {}
    if match_result.get("trust") != "N":
        return False
    required = _version_tuple(match_result.get("nonSdkJarSupportVersion"))
    current = _version_tuple(sdk_version)
    return required is None or current is None or required > current


def _version_tuple(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, str) or not value:
        return None
    parts = value.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _lazy_emv(code: str) -> Callable[[], EmvCode | None]:
    parsed: list[EmvCode | None] = []

    def get() -> EmvCode | None:
        if not parsed:
            parsed.append(try_parse_emv(code))
        return parsed[0]

    return get


def select_rule(code: str, rules: RuleSet) -> CompiledRule | None:
    """The winning rule: lowest priority among all matches, ties to the first listed."""
    emv = _lazy_emv(code)
    best: CompiledRule | None = None
    for rule in rules.rules:
        if best is not None and rule.priority >= best.priority:
            continue  # cannot win: ties go to the rule listed first
        code_emv = emv() if rule.match_method == "EMVCO" else None
        if rule.matcher.matches(code, code_emv):
            best = rule
    return best


def build_redirect_url(code: str, rule: CompiledRule, client_id: str | None) -> str:
    """The URL an OPEN_URL rule sends the user to; raises UrlBuildError when it cannot."""
    method = rule.action.get("urlConstructionMethod")
    match_result = rule.match_result or {}
    if method == "USE_DIRECTLY":
        return code
    if method == "CONSTRUCT_DYNAMIC_URL":
        expression = rule.action.get("dynamicUrlExpression") or match_result.get(
            "dynamicUrlExpression"
        )
        if not isinstance(expression, str) or not expression.strip():
            raise UrlBuildError("CONSTRUCT_DYNAMIC_URL rule without dynamicUrlExpression")
        url = expression.replace("${codeValue}", sdk_url_encode(code))
        if "${issuer}" in url:
            if client_id is None:
                raise UrlBuildError("${issuer} needs the wallet's client id")
            url = url.replace("${issuer}", client_id)
        return _fill_dynamic_params(url, code, rule, match_result.get("dynamicUrlParams"))
    if method == "EXTRACT_URL_FROM_EMVCODE":
        return _extract_url(code, rule, match_result)
    raise UrlBuildError(f"urlConstructionMethod {method!r} is not supported")


def _fill_dynamic_params(url: str, code: str, rule: CompiledRule, params: Any) -> str:
    if params in (None, ""):
        return url
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError as exc:
            raise UrlBuildError(f"dynamicUrlParams is not JSON: {exc}") from exc
    if not isinstance(params, Mapping):
        raise UrlBuildError("dynamicUrlParams must be a JSON object")
    for key, spec in params.items():
        placeholder = "${" + str(key) + "}"
        if placeholder in url:
            url = url.replace(placeholder, sdk_url_encode(_param_value(code, rule, spec)))
    return url


def _param_value(code: str, rule: CompiledRule, spec: Any) -> str:
    """Resolve one dynamicUrlParams entry: R<regex> (first match, group 1 if any),
    E<tag path> (EMV field "59", "62.05" or "merchantTag.NN"), L<start[,end]> (substring)."""
    m = _PARAM.fullmatch(spec) if isinstance(spec, str) else None
    if not m:
        raise UrlBuildError(f"dynamicUrlParams value {spec!r} is not R<..>, E<..> or L<..>")
    mode, argument = m.group(1).upper(), m.group(2)
    if mode == "R":
        found = compile_java(argument).search(code)
        if found is None:
            raise UrlBuildError(f"R<{argument}> does not occur in the code")
        return found.group(1) if found.re.groups and found.group(1) is not None else found.group(0)
    if mode == "E":
        value = _emv_value(code, rule, argument)
        if value is None:
            raise UrlBuildError(f"E<{argument}>: no such EMV field in the code")
        return value
    if mode == "L":
        bounds = [b.strip() for b in argument.split(",")]
        try:
            start = int(bounds[0])
            end = int(bounds[1]) if len(bounds) > 1 else len(code)
        except (ValueError, IndexError) as exc:
            raise UrlBuildError(f"L<{argument}> is not L<start> or L<start,end>") from exc
        if len(bounds) > 2 or not 0 <= start <= end <= len(code):
            raise UrlBuildError(f"L<{argument}> is outside the code")  # Java substring throws
        return code[start:end]
    raise UrlBuildError(f"dynamicUrlParams mode {mode!r} is not R, E or L")


def _emv_value(code: str, rule: CompiledRule, path: str) -> str | None:
    emv = try_parse_emv(code)
    if emv is None:
        return None
    if path.startswith("merchantTag."):
        template = _rule_template(emv, rule)
        return None if template is None else template[1].get(path.split(".", 1)[1])
    return emv.lookup(path)


def _rule_template(emv: EmvCode, rule: CompiledRule) -> tuple[str, dict[str, str]] | None:
    matcher = rule.matcher
    if isinstance(matcher, EmvMatcher):
        return matcher.merchant_template(emv)
    templates = emv.merchant_templates()
    return templates[0] if templates else None


def _extract_url(code: str, rule: CompiledRule, match_result: Mapping[str, Any]) -> str:
    tag = rule.action.get("emvUrlTag") or match_result.get("emvUrlTag")
    if not isinstance(tag, str) or not re.fullmatch(r"merchantTag\.\d\d", tag):
        raise UrlBuildError(f"emvUrlTag {tag!r} is not merchantTag.NN")
    value = _emv_value(code, rule, tag)
    if not value:
        raise UrlBuildError(f"{tag} is missing from the code")
    found = _HTTP.search(value)
    if found is None:
        raise UrlBuildError(f"{tag} holds no http URL")
    return value[found.start() :]


def identify_code(
    code_value: str | None,
    rules: RuleSet | Mapping[str, Any] | Sequence[Any],
    client_id: str | None = None,
    untrusted: UntrustedPolicy = "trust",
) -> CodeIdentificationResult:
    """Identify a scanned or received code against code rules, as the server SDK does.

    `rules` is a compiled RuleSet or an inquiryCodeRules body / {"version","codeRules"} / list.
    `client_id` is the wallet's Client-Id (fills ${issuer}). `untrusted` decides rules the SDK
    would check remotely: "trust" uses them locally (default), "reject" treats the code as
    unsupported, a callable (code, client_id, rule) -> result|None stands in for the remote call.
    """
    if code_value is None or not isinstance(code_value, str) or is_java_blank(code_value):
        return CodeIdentificationResult(
            is_supported=False,
            result=_result("PARAM_ILLEGAL", "codeValue is blank"),
            reason="codeValue is blank",
        )
    try:
        rule_set = rules if isinstance(rules, RuleSet) else RuleSet.from_body(rules)
        return _identify(code_value, rule_set, client_id, untrusted)
    except Exception as exc:  # the SDK swallows every error into "unsupported" with S
        return unsupported(code_value, f"internal error: {type(exc).__name__}: {exc}")


def _identify(
    code: str, rules: RuleSet, client_id: str | None, untrusted: UntrustedPolicy
) -> CodeIdentificationResult:
    rule = select_rule(code, rules)
    if rule is None:
        return unsupported(code, "no rule matches")
    if needs_remote_identify(rule):
        if untrusted == "reject":
            return unsupported(code, f"rule {rule.describe()} is untrusted (trust=N)")
        if callable(untrusted):
            remote = untrusted(code, client_id, rule)
            return remote if remote is not None else unsupported(code, "remote: not supported")
    config = rule.ac_decode_config
    if rule.action_type == "DECODE":
        return CodeIdentificationResult(
            is_supported=True,
            result=dict(SUCCESS),
            post_code_match_action_type="DECODE",
            code_value=code,
            ac_decode_config=config,
            rule=rule,
            reason=f"matched {rule.describe()}",
        )
    try:
        url = build_redirect_url(code, rule, client_id)
    except UrlBuildError as exc:
        return unsupported(code, f"matched {rule.describe()} but {exc}")
    return CodeIdentificationResult(
        is_supported=True,
        result=dict(SUCCESS),
        post_code_match_action_type="OPEN_URL",
        redirect_url=url,
        user_agent=rule.action.get("userAgent") or DEFAULT_USER_AGENT,
        ac_decode_config=config,
        rule=rule,
        reason=f"matched {rule.describe()}",
    )


class CodeIdentifier:
    """Like the SDK's CodeIdentificationService: identify codes against a rules source.

    `rules_source` may be a RulesCache (its current rules are used on every call, and a cache
    that started from its preset is refreshed once on the first call, as the SDK does), a
    RuleSet, an inquiryCodeRules body, a list of rules, or the path of a JSON file with one.
    """

    def __init__(
        self,
        rules_source: Any,
        client_id: str | None = None,
        untrusted: UntrustedPolicy = "trust",
    ) -> None:
        self.client_id = client_id
        self.untrusted = untrusted
        self._cache: RulesCache | None = None
        self._rules: RuleSet | None = None
        if isinstance(rules_source, RulesCache):
            self._cache = rules_source
        elif isinstance(rules_source, RuleSet):
            self._rules = rules_source
        elif isinstance(rules_source, str | PathLike):
            body = json.loads(Path(rules_source).read_text("utf-8"))
            self._rules = RuleSet.from_body(body)
        else:
            self._rules = RuleSet.from_body(rules_source)

    @property
    def rules(self) -> RuleSet:
        """The rule set in use right now."""
        if self._cache is not None:
            return self._cache.current()
        assert self._rules is not None
        return self._rules

    def identify_code(self, code_value: str | None) -> CodeIdentificationResult:
        """Identify one code (see `identify_code`)."""
        if self._cache is not None and code_value and not is_java_blank(code_value):
            self._cache.before_identify()
        return identify_code(code_value, self.rules, self.client_id, self.untrusted)
