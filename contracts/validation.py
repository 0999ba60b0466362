"""One validator for every message: the JSON Schemas plus the domain rules schemas cannot say.

`validate(api, kind, message)` returns a list of `Violation(pointer, rule, message)`; an empty
list means the message is valid. Schemas are compiled once per process. Rule names are listed in
docs/contracts.md.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from contracts import catalogue, money

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
SCHEMA_DIR = Path(__file__).with_name("schemas")
SCHEMA_BASE = "https://aplus-sim.dev/schemas/"


@dataclass(frozen=True)
class Violation:
    """One problem in a message: where (RFC 6901 pointer), which rule, and a readable sentence."""

    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------------------------
# Schemas


def schema_path(api: str, kind: str) -> Path:
    """The schema file of a message; ValueError listing the valid names if unknown."""
    _check_name(api, kind)
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
def _validator(api: str, kind: str) -> Any:
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
def _fast_checks() -> dict[str, Callable[[Any], bool]]:
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
    return _fast_checks()[schema_path(api, kind).name](message)


@cache
def _datetime_fields() -> frozenset[str]:
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


def _check_name(api: str, kind: str) -> None:
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; valid apis: {', '.join(APIS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")


# ---------------------------------------------------------------------------------------------
# The validator


def validate(api: str, kind: str, message: Any) -> list[Violation]:
    """Check `message` against the schema and the domain rules; [] when it is valid."""
    _check_name(api, kind)
    if not isinstance(message, dict):
        return [
            Violation(
                "",
                "schema.type",
                f"the {api} {kind} must be a JSON object, got {_json_type(message)}",
            )
        ]
    schema_check = _fast_checks()[f"{api}.{kind}.json"]
    cleaned = message
    schema_ok = schema_check(message)
    if not schema_ok:  # perhaps only because of nulls, which mean "absent"
        cleaned = _drop_nulls(message)
        schema_ok = schema_check(cleaned)
    found: dict[tuple[str, str], Violation] = {}
    if not schema_ok:
        for error in _validator(api, kind).iter_errors(cleaned):
            for violation in _from_schema_error(error):
                found.setdefault((violation.pointer, violation.rule), violation)
        # A wrong type at a place says it all; drop the enum/pattern noise at the same place.
        mistyped = {p for p, r in found if r == "schema.type"}
        found = {
            (p, r): v for (p, r), v in found.items() if p not in mistyped or r == "schema.type"
        }
    scan = _Scan()
    scan.run(cleaned, "", _datetime_fields())
    domain: list[Violation] = []
    for check in _COMMON_RULES + _RULES.get((api, kind), []):
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


# ---------------------------------------------------------------------------------------------
# Schema errors -> violations

_SCHEMA_RULES = {
    "required": "schema.required",
    "type": "schema.type",
    "enum": "schema.enum",
    "const": "schema.const",
    "pattern": "schema.pattern",
    "maxLength": "schema.max-length",
    "minLength": "schema.min-length",
    "minItems": "schema.min-items",
    "maxItems": "schema.max-items",
    "not": "schema.pattern",
    "additionalProperties": "schema.additional-properties",
}


def _from_schema_error(error: Any) -> Iterator[Violation]:
    where = pointer(error.absolute_path)
    keyword = error.validator
    value = error.instance
    sub = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "required":
        conditional = "then" in error.absolute_schema_path
        rule = "schema.required-if" if conditional else "schema.required"
        note = (
            f" ({_lower_first(sub['description'])})" if conditional and "description" in sub else ""
        )
        for name in error.validator_value:
            if isinstance(value, dict) and name not in value:
                yield Violation(
                    f"{where}/{_escape(name)}",
                    rule,
                    f"{where}/{_escape(name)}: required field {name!r} is missing{note}",
                )
        return
    rule = _SCHEMA_RULES.get(keyword, f"schema.{keyword}")
    label = where or "the message"
    if keyword == "type":
        expected = error.validator_value
        text = f"{label}: expected a JSON {expected}, got {_json_type(value)} {_show(value)}"
        if expected == "string" and isinstance(value, (int, float, bool)):
            text += ' (Alipay+ sends every non-array value as a JSON string, e.g. "100", "true")'
    elif keyword == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        text = f"{label}: {_show(value)} is not one of {allowed}"
    elif keyword == "const":
        text = f"{label}: must be {_show(error.validator_value)}, got {_show(value)}"
    elif keyword in ("pattern", "not"):
        text = f"{label}: {_show(value)} is not valid"
        if sub.get("description"):
            text += f"; expected {_lower_first(sub['description'])}"
    elif keyword == "maxLength":
        text = f"{label}: {len(value)} characters, more than the maximum of {error.validator_value}"
    elif keyword == "minLength":
        if value == "":
            rule = "string.empty"
            text = f'{label}: empty string; leave an optional field out (or null) instead of ""'
        else:
            text = f"{label}: {_show(value)} is shorter than {error.validator_value} characters"
    elif keyword == "minItems":
        text = f"{label}: needs at least {error.validator_value} item(s)"
    elif keyword == "maxItems":
        text = f"{label}: has more than {error.validator_value} items"
    else:
        text = f"{label}: {error.message}"
    yield Violation(where, rule, text)


def pointer(parts: Any) -> str:
    """An RFC 6901 JSON pointer from path parts: ["a", 0, "b/c"] -> "/a/0/b~1c"."""
    return "".join(f"/{_escape(p)}" for p in parts)


def _escape(part: Any) -> str:
    if isinstance(part, str) and "~" not in part and "/" not in part:
        return part
    return str(part).replace("~", "~0").replace("/", "~1")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _lower_first(text: str) -> str:
    text = text.rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


# ---------------------------------------------------------------------------------------------
# Domain rules


@dataclass
class _Scan:
    """What one walk over a message finds: the places domain rules look at."""

    empties: list[str] = field(default_factory=list)
    amounts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    datetimes: list[tuple[str, str]] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)

    def run(self, node: Any, where: str, datetime_fields: frozenset[str]) -> None:
        """Walk `node` (at pointer `where`) and record what the rules need."""
        if isinstance(node, dict):
            if "value" in node and "currency" in node:
                self.amounts.append((where, node))
            for key, value in node.items():
                if isinstance(value, str):
                    if not value:
                        self.empties.append(f"{where}/{_escape(key)}")
                    elif key in datetime_fields:
                        self.datetimes.append((f"{where}/{_escape(key)}", value))
                    elif key == "quoteCurrencyPair":
                        self.pairs.append((f"{where}/{_escape(key)}", value))
                elif isinstance(value, (dict, list)):
                    self.run(value, f"{where}/{_escape(key)}", datetime_fields)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if value == "":
                    self.empties.append(f"{where}/{index}")
                elif isinstance(value, (dict, list)):
                    self.run(value, f"{where}/{index}", datetime_fields)


Rule = Callable[[str, str, dict[str, Any], _Scan], Iterator[Violation]]
_COMMON_RULES: list[Rule] = []
_RULES: dict[tuple[str, str], list[Rule]] = {}


def domain_rule(*targets: tuple[str, str]) -> Callable[[Rule], Rule]:
    """Register a domain rule for the given (api, kind) pairs, or for every message if none."""

    def register(check: Rule) -> Rule:
        if not targets:
            _COMMON_RULES.append(check)
        for target in targets:
            _RULES.setdefault(target, []).append(check)
        return check

    return register


@domain_rule()
def _empty_strings(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    if (api, kind) == ("identifyCode", "response"):
        return  # SDK output, not a wire message: "" is a legitimate acDecodeConfig there
    for where in scan.empties:
        yield Violation(
            where,
            "string.empty",
            f'{where}: empty string; Alipay+ rejects "" (PARAM_ILLEGAL): '
            "leave an optional field out or send null",
        )


def _is_amount(value: Any) -> bool:
    """An Amount is any object with both `currency` and `value` members."""
    return isinstance(value, dict) and "value" in value and "currency" in value


_MINOR_UNITS = re.compile(r"[1-9][0-9]{0,15}")
_MINOR_NAMES = {0: "whole units", 2: "hundredths (cents)", 3: "thousandths", 4: "ten-thousandths"}


@domain_rule()
def _amounts(api: str, kind: str, message: dict[str, Any], scan: _Scan) -> Iterator[Violation]:
    for where, amount in scan.amounts:
        currency, value = amount["currency"], amount["value"]
        exp: int | None = None
        if isinstance(currency, str) and currency:
            if money.is_currency(currency):
                exp = money.exponent(currency)
            else:
                yield Violation(
                    f"{where}/currency",
                    "amount.currency",
                    f"{where}/currency: {_currency_text(currency)}",
                )
        yield from _amount_value(f"{where}/value", currency, exp, value)


def _currency_text(currency: str) -> str:
    if money.is_currency(currency.upper()):
        return f"{currency!r} is not an ISO 4217 code; codes are upper case: {currency.upper()!r}"
    try:
        money.exponent(currency)
    except KeyError as exc:
        if "minor unit" in str(exc.args[0]):
            return str(exc.args[0])
    return f"{currency!r} is not an active ISO 4217 currency code (e.g. USD, JPY, KRW)"


def _amount_value(where: str, currency: Any, exp: int | None, value: Any) -> Iterator[Violation]:
    rule = "amount.minor-units"
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield Violation(
                where,
                rule,
                f"{where}: amount values are JSON strings of minor units, "
                f'e.g. "{int(value) if value == int(value) else value}", '
                f"not the JSON number {value}",
            )
        return
    if value == "" or _MINOR_UNITS.fullmatch(value):
        return  # "" is reported by string.empty
    label = f"{where}: {value!r}"
    if exp is not None:
        unit = _MINOR_NAMES.get(exp, f"1/{10**exp}")
        hint = f"{currency} amounts are sent in {unit}"
    else:
        hint = "amounts are sent as an integer number of the currency's minor unit"
    try:
        number = Decimal(value.strip())
        finite = number.is_finite()
    except InvalidOperation:
        number, finite = None, False
    if not finite or number is None or value.strip() != value:
        yield Violation(where, rule, f'{label} is not a number; {hint}, e.g. "100"')
        return
    if number <= 0:
        yield Violation(
            where, rule, f"{label} is not positive; amounts must be at least 1 minor unit"
        )
        return
    if number != number.to_integral_value() or "." in value or "e" in value.lower():
        if exp is not None:
            minor = number.scaleb(exp)
            example = (
                f', e.g. "{int(minor)}" for {money.format_major(int(minor), currency)}'
                if minor == minor.to_integral_value()
                else f"; {number} {currency} has more decimals than the currency allows"
            )
        else:
            example = ""
        yield Violation(
            where, rule, f"{label} is not an integer number of minor units; {hint}{example}"
        )
        return
    if value.startswith(("+", "-")):
        yield Violation(where, rule, f"{label} has a sign; send digits only, e.g. {value[1:]!r}")
    elif value.startswith("0"):
        yield Violation(where, rule, f"{label} has leading zeros; send {str(int(value))!r}")
    elif len(value) > money.MAX_VALUE_LENGTH:
        yield Violation(where, rule, f"{label} is longer than {money.MAX_VALUE_LENGTH} digits")
    else:
        yield Violation(where, rule, f"{label} is not a valid amount; {hint}")


_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def parse_datetime(value: str) -> datetime:
    """Parse a body date-time (ISO 8601 with seconds and an offset); ValueError explains why not."""
    if not _DATETIME.fullmatch(value):
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+", value):
            raise ValueError("has no UTC offset; add one, e.g. +08:00 or Z")
        raise ValueError("is not an ISO 8601 date-time like 2020-01-01T12:01:01+08:30")
    text = value
    fraction = re.search(r"\.([0-9]+)", text)
    if fraction and len(fraction.group(1)) > 6:  # datetime keeps microseconds only
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            "is not a real date and time (check day, month, hour and offset)"
        ) from None
    if parsed.utcoffset() is None:  # pragma: no cover - the pattern requires an offset
        raise ValueError("has no UTC offset")
    return parsed


@domain_rule()
def _datetimes(api: str, kind: str, message: dict[str, Any], scan: _Scan) -> Iterator[Violation]:
    for where, value in scan.datetimes:
        try:
            parse_datetime(value)
        except ValueError as exc:
            yield Violation(where, "datetime.format", f"{where}: {value!r} {exc}")


@domain_rule()
def _result_status(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    checks = []
    if kind == "response":
        checks.append(("result", api))
    if api in ("notifyPayment", "inquiryPayment"):
        checks.append(("paymentResult", "paymentResult"))
    for name, table in checks:
        result = message.get(name)
        if not isinstance(result, dict):
            continue
        code, status = result.get("resultCode"), result.get("resultStatus")
        if not isinstance(code, str) or status not in ("S", "F", "U"):
            continue
        try:
            known = catalogue.lookup(table, code)
        except KeyError:
            continue  # Alipay+ adds codes over time; an unknown code is not an error
        if known.status != status:
            yield Violation(
                f"/{name}/resultStatus",
                "result.status-mismatch",
                f"/{name}/resultStatus: {code} is documented with status {known.status}, "
                f"not {status}",
            )


@domain_rule(("notifyPayment", "request"))
def _notify_is_final(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    result = message.get("paymentResult")
    if isinstance(result, dict) and result.get("resultStatus") == "U":
        yield Violation(
            "/paymentResult/resultStatus",
            "notify.final-result",
            "/paymentResult/resultStatus: notifyPayment reports only final results (S or F); "
            "a payment still in process (U) is not notified - Alipay+ will inquire",
        )


@domain_rule(("inquiryPayment", "response"))
def _inquiry_payment_result(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    result = message.get("paymentResult")
    if (
        isinstance(result, dict)
        and result.get("resultStatus") == "U"
        and result.get("resultCode") not in (None, "PAYMENT_IN_PROCESS")
    ):
        yield Violation(
            "/paymentResult/resultCode",
            "inquiry.in-process-code",
            "/paymentResult/resultCode: a payment that is not final is reported as "
            f"U / PAYMENT_IN_PROCESS, not U / {result.get('resultCode')}",
        )


def _valid_amount(amount: Any) -> tuple[str, int] | None:
    if (
        _is_amount(amount)
        and isinstance(amount["currency"], str)
        and isinstance(amount["value"], str)
        and money.is_valid_value(amount["currency"], amount["value"])
    ):
        return amount["currency"], int(amount["value"])
    return None


def _savings(
    message: dict[str, Any], promo_field: str, target_field: str
) -> tuple[list[Violation], int]:
    """Check promotion savings against the target amount; return (violations, total savings)."""
    violations: list[Violation] = []
    promo = message.get(promo_field)
    target = _valid_amount(message.get(target_field))
    details = promo.get("paymentPromoDetails") if isinstance(promo, dict) else None
    if not isinstance(details, list) or target is None:
        return violations, 0
    total = 0
    for index, detail in enumerate(details):
        savings = _valid_amount(detail.get("savingsAmount") if isinstance(detail, dict) else None)
        if savings is None:
            continue
        where = f"/{promo_field}/paymentPromoDetails/{index}/savingsAmount"
        if savings[0] != target[0]:
            violations.append(
                Violation(
                    f"{where}/currency",
                    "promo.currency",
                    f"{where}/currency: savings are in the {target_field} currency "
                    f"{target[0]}, not {savings[0]}",
                )
            )
            continue
        total += savings[1]
        if savings[1] > target[1]:
            violations.append(
                Violation(
                    f"{where}/value",
                    "promo.savings-exceed",
                    f"{where}/value: savings of {money.format_major(savings[1], savings[0])} "
                    f"exceed {target_field} {money.format_major(target[1], target[0])}",
                )
            )
    if total > target[1] and not any(v.rule == "promo.savings-exceed" for v in violations):
        violations.append(
            Violation(
                f"/{promo_field}",
                "promo.savings-exceed",
                f"/{promo_field}: total savings {money.format_major(total, target[0])} exceed "
                f"{target_field} {money.format_major(target[1], target[0])}",
            )
        )
    return violations, total


def _conversion(
    message: dict[str, Any],
    source_field: str,
    target_field: str,
    quote_field: str,
    promo_field: str,
    rule_prefix: str,
    quote_travels: bool = True,
) -> Iterator[Violation]:
    """target == source converted under the quote, within one minor unit.

    Alipay+ ("Understand different amounts"): payToAmount = paymentAmount x quotePrice, and
    paymentAmount already excludes the promotion. A wallet-side reading where paymentAmount
    still includes it (so payToAmount + savings = paymentAmount x quotePrice) is also accepted;
    both describe the same debit (docs/contracts.md).
    """
    promo_violations, savings = _savings(message, promo_field, target_field)
    yield from promo_violations
    source = _valid_amount(message.get(source_field))
    target = _valid_amount(message.get(target_field))
    if source is None or target is None:
        return
    quote = message.get(quote_field)
    where = f"/{target_field}/value"
    readings = [target[1], target[1] + savings] if savings else [target[1]]
    saved = (
        f" (or {money.format_major(target[1] + savings, target[0])} with the savings added back)"
        if savings
        else ""
    )
    if source[0] == target[0]:
        if source[1] not in readings:
            yield Violation(
                where,
                f"{rule_prefix}.same-currency",
                f"{where}: {target_field} {money.format_major(target[1], target[0])}{saved} "
                f"should equal {source_field} {money.format_major(source[1], source[0])} "
                "(same currency, no conversion)",
            )
        return
    if not isinstance(quote, dict):
        if quote_travels and rule_prefix == "quote":
            yield Violation(
                f"/{quote_field}",
                "quote.missing",
                f"/{quote_field}: {source_field} is in {source[0]} and {target_field} in "
                f"{target[0]}, so a {quote_field} is needed",
            )
        return
    pair, price_text = quote.get("quoteCurrencyPair"), quote.get("quotePrice")
    if not isinstance(pair, str) or not isinstance(price_text, str):
        return
    try:
        base, counter = money.parse_pair(pair)
        price = Decimal(price_text)
    except (ValueError, InvalidOperation):
        return  # the schema reports the malformed pair or price
    if {base, counter} != {source[0], target[0]}:
        yield Violation(
            f"/{quote_field}/quoteCurrencyPair",
            "quote.pair",
            f"/{quote_field}/quoteCurrencyPair: {pair} does not convert {source[0]} into "
            f"{target[0]}",
        )
        return
    if price <= 0 or not price.is_finite():
        return
    expected = money.convert_exact(source[1], source[0], target[0], price, pair)
    if all(abs(Decimal(reading) - expected) > 1 for reading in readings):
        rounded = money.convert(source[1], source[0], target[0], price, pair)
        yield Violation(
            where,
            f"{rule_prefix}.mismatch",
            f"{where}: {source_field} {money.format_major(source[1], source[0])} at {pair} "
            f"{price_text} is {money.format_major(rounded, target[0])}, but "
            f"{target_field} is {money.format_major(target[1], target[0])}{saved}",
        )


@domain_rule(("userInitiatedPay", "response"))
def _decode_amounts(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    yield from _conversion(
        message, "paymentAmount", "payToAmount", "paymentQuote", "paymentPromoInfo", "quote"
    )


@domain_rule(("notifyPayment", "request"), ("inquiryPayment", "response"))
def _echoed_amounts(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    # No quote travels here; only same-currency consistency and promotions can be checked.
    yield from _conversion(
        message,
        "paymentAmount",
        "payToAmount",
        "paymentQuote",
        "paymentPromoInfo",
        "quote",
        quote_travels=False,
    )


@domain_rule(("refund", "request"))
def _refund_amounts(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    yield from _conversion(
        message, "refundAmount", "refundFromAmount", "refundQuote", "refundPromoInfo", "refund"
    )


@domain_rule()
def _quote_currencies(
    api: str, kind: str, message: dict[str, Any], scan: _Scan
) -> Iterator[Violation]:
    for where, value in scan.pairs:
        try:
            codes = money.parse_pair(value)
        except ValueError:
            continue
        unknown = [c for c in codes if not money.is_currency(c)]
        if unknown:
            yield Violation(
                where,
                "quote.pair",
                f"{where}: {', '.join(unknown)} in {value} is not an active ISO 4217 code",
            )
