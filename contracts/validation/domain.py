"""The domain-rule registry and the one walk over a message that the rules share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from contracts.validation.violations import Violation, escape


@dataclass
class Scan:
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
                        self.empties.append(f"{where}/{escape(key)}")
                    elif key in datetime_fields:
                        self.datetimes.append((f"{where}/{escape(key)}", value))
                    elif key == "quoteCurrencyPair":
                        self.pairs.append((f"{where}/{escape(key)}", value))
                elif isinstance(value, (dict, list)):
                    self.run(value, f"{where}/{escape(key)}", datetime_fields)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if value == "":
                    self.empties.append(f"{where}/{index}")
                elif isinstance(value, (dict, list)):
                    self.run(value, f"{where}/{index}", datetime_fields)


Rule = Callable[[str, str, dict[str, Any], Scan], Iterator[Violation]]
COMMON_RULES: list[Rule] = []
RULES: dict[tuple[str, str], list[Rule]] = {}


def domain_rule(*targets: tuple[str, str]) -> Callable[[Rule], Rule]:
    """Register a domain rule for the given (api, kind) pairs, or for every message if none."""

    def register(check: Rule) -> Rule:
        if not targets:
            COMMON_RULES.append(check)
        for target in targets:
            RULES.setdefault(target, []).append(check)
        return check

    return register


@domain_rule()
def _empty_strings(api: str, kind: str, message: dict[str, Any], scan: Scan) -> Iterator[Violation]:
    if (api, kind) == ("identifyCode", "response"):
        return  # SDK output, not a wire message: "" is a legitimate acDecodeConfig there
    for where in scan.empties:
        yield Violation(
            where,
            "string.empty",
            f'{where}: empty string; Alipay+ rejects "" (PARAM_ILLEGAL): '
            "leave an optional field out or send null",
        )


def is_amount(value: Any) -> bool:
    """An Amount is any object with both `currency` and `value` members."""
    return isinstance(value, dict) and "value" in value and "currency" in value
