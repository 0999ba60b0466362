"""Rules (/_sim/faults): their checks, the `sim_fault_rules` table, the injections that the
X-Aplus-Sim-* headers (`from_headers`) and magic values (`from_magic`) ask for.

Rules are rows (several workers share them); the store that keeps and matches them is
simulator/faults/store.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
)

from contracts import magic, signing
from contracts.apis import INBOUND_APIS, OUTBOUND_APIS
from simulator.db import metadata
from simulator.faults.effects import RuleError, check_effect, describe

MATCH_FIELDS = (
    "codeValue",
    "customerId",
    "amount",
    "currency",
    "paymentRequestId",
    "refundRequestId",
)
# Outbound effects applied by the HTTP client (simulator.outbound); the others by the outbound
# API modules (simulator/apis/: early_cancel, skip_polling, unknown_inquiry).
OUTBOUND_TRANSPORT = (
    "delay",
    "malformed",
    "bad_signature",
    "no_signature",
    "stale_time",
    "duplicate",
)
RULE_FIELDS = (
    "api",
    "direction",
    "clientId",
    "match",
    "effect",
    "times",
    "probability",
    "seed",
    "expiresAt",
)

rules_table = Table(
    "sim_fault_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("api", String(64), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("client_id", String(128)),
    Column("match_json", Text, nullable=False),
    Column("effect_json", Text, nullable=False),
    Column("times", Integer),
    Column("probability", Float),
    Column("seed", Integer),
    Column("expires_at", String(40)),
    Column("matched", Integer, nullable=False, default=0),
    Column("fired", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False),
)


# -- rules --------------------------------------------------------------------------------------


def _match_value(value: Any, name: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise RuleError(f"match.{name} must not be an empty list")
    out = []
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item:
            raise RuleError(f"match.{name} must be a string (or a list of strings)")
        out.append(item)
    return out


def check_rule(body: Any) -> dict[str, Any]:
    """Validate a rule as POSTed to /_sim/faults; its normalised form (raises RuleError)."""
    if not isinstance(body, dict):
        raise RuleError("a rule is a JSON object: {api, direction, effect, ...}")
    unknown = sorted(set(body) - set(RULE_FIELDS))
    if unknown:
        raise RuleError(f"unknown rule field(s) {unknown}; known: {list(RULE_FIELDS)}")
    direction = body.get("direction", "inbound")
    if direction not in ("inbound", "outbound"):
        raise RuleError('direction must be "inbound" or "outbound"')
    api = body.get("api")
    apis = INBOUND_APIS if direction == "inbound" else OUTBOUND_APIS
    if api not in apis:
        raise RuleError(f"api {api!r} is not an {direction} API; {direction} APIs: {list(apis)}")
    client_id = body.get("clientId")
    if client_id is not None and (not isinstance(client_id, str) or not client_id):
        raise RuleError("clientId must be a non-empty string")
    match = body.get("match") or {}
    if not isinstance(match, dict):
        raise RuleError(f"match must be an object of {list(MATCH_FIELDS)}")
    bad = sorted(set(match) - set(MATCH_FIELDS))
    if bad:
        raise RuleError(f"cannot match on {bad}; match fields: {list(MATCH_FIELDS)}")
    match = {name: _match_value(value, name) for name, value in match.items()}
    if "effect" not in body:
        raise RuleError('effect is required, e.g. {"kind": "result", "resultCode": "..."}')
    rule: dict[str, Any] = {
        "api": api,
        "direction": direction,
        "clientId": client_id,
        "match": match,
        "effect": check_effect(api, direction, body["effect"]),
    }
    rule.update(_firing(body))
    return rule


def _firing(body: dict[str, Any]) -> dict[str, Any]:
    """When a rule fires: times, probability (with seed) and expiresAt, checked."""
    firing: dict[str, Any] = {"times": None, "probability": None, "seed": None, "expiresAt": None}
    times = body.get("times")
    if times is not None:
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise RuleError("times must be a whole number >= 1 (the first N matches)")
        firing["times"] = times
    probability = body.get("probability")
    if probability is not None:
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise RuleError("probability must be a number between 0 and 1")
        if not 0 <= probability <= 1:
            raise RuleError("probability must be a number between 0 and 1")
        firing["probability"] = float(probability)
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise RuleError("seed must be a whole number")
        firing["seed"] = seed
    expires = body.get("expiresAt")
    if expires is not None:
        try:
            firing["expiresAt"] = signing.parse_time(str(expires)).isoformat()
        except ValueError as exc:
            raise RuleError(f"expiresAt {expires!r} is not a time: {exc}") from None
    return firing


def rule_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "api": row.api,
        "direction": row.direction,
        "clientId": row.client_id,
        "match": json.loads(row.match_json),
        "effect": json.loads(row.effect_json),
        "times": row.times,
        "probability": row.probability,
        "seed": row.seed,
        "expiresAt": row.expires_at,
        "matched": row.matched,
        "fired": row.fired,
        "active": row.times is None or row.fired < row.times,
        "createdAt": row.created_at,
    }


@dataclass
class Injection:
    """What one call gets: the effect, and where it came from (rule id, magic value, header)."""

    effect: dict[str, Any]
    source: str  # "rule 3", "magic customerId sim-result:U:...", "header X-Aplus-Sim-Result"
    rule_id: int | None = None
    details: list[str] = field(default_factory=list)

    def note(self) -> str:
        """The journal note, e.g. "injected: rule 3 result U/UNKNOWN_EXCEPTION"."""
        text = f"injected: {self.source} {describe(self.effect)}"
        return text + (f" ({'; '.join(self.details)})" if self.details else "")


def from_headers(api: str, headers: Mapping[str, str]) -> Injection | None:
    """The X-Aplus-Sim-Result / X-Aplus-Sim-Fault header of one call, if any (RuleError if bad)."""
    value = headers.get(magic.RESULT_HEADER)
    if value:
        status, _, code = value.strip().rpartition("/")
        params: dict[str, Any] = {"kind": "result", "resultCode": code.strip()}
        if status:
            params["resultStatus"] = status.strip()
        return Injection(check_effect(api, "inbound", params), f"header {magic.RESULT_HEADER}")
    value = headers.get(magic.FAULT_HEADER)
    if value:
        text = value.strip()
        if text.startswith("{"):
            try:
                params = json.loads(text)
            except ValueError:
                raise RuleError(f"{magic.FAULT_HEADER} is not valid JSON") from None
        else:
            params = {"kind": text}
        return Injection(check_effect(api, "inbound", params), f"header {magic.FAULT_HEADER}")
    return None


def from_magic(api: str, fields: Mapping[str, Any]) -> Injection | None:
    """The magic value among this call's fields, if any."""
    for name in ("jarVersion", "customerId", "amount"):
        found = magic.lookup(api, name, fields.get(name))
        if found is not None:
            return Injection(
                check_effect(api, "inbound", found.effect), f"magic {name} {found.value}"
            )
    return None
