"""Fault and result injection: rules (/_sim/faults), magic values, the X-Aplus-Sim-* headers.

Three ways in, tried in this order for every call of an Alipay+ API a wallet makes:

1. the ``X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION`` (or ``X-Aplus-Sim-Fault: <kind>``) header;
2. a magic value of contracts/data/magic_values.json in the message (or its order's amount);
3. the stored rules, matched on API, direction, clientId and message fields, with `times`,
   `probability` + `seed` and `expiresAt` (clock time).

Rules are rows (several workers share them); a rule's match and fire counts change in one
transaction. Effects are registered with `@effect` (schemathesis' checks registry, in small);
inbound calls are intercepted before Flask dispatches them (`_intercept`) and run through
`simulator.protocol.serve` with a substitute handler, so authentication, contract checks, signing
and the journal stay those of every other call. Everything injected is journaled next to the
exchange it changed ("injected: rule 3 result U/UNKNOWN_EXCEPTION").

`POST /_sim/seed {"seed": 42}` seeds `sim.ids`, the one generator of random ids and choices
(a persisted seed and counter, so several workers draw the same sequence).
"""

from __future__ import annotations

import contextlib
import json
import random
import select as io_select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    delete,
    select,
    update,
)

from contracts import catalogue, magic, signing
from simulator.db import metadata, raw, read
from simulator.state import current

INBOUND_APIS = ("inquiryCodeRules", "userInitiatedPay", "notifyPayment")
OUTBOUND_APIS = ("inquiryPayment", "cancelPayment", "refund")
MATCH_FIELDS = (
    "codeValue",
    "customerId",
    "amount",
    "currency",
    "paymentRequestId",
    "refundRequestId",
)
# Outbound effects applied by the HTTP client (simulator.outbound); the others by the callbacks.
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
# How long `drop` holds a connection unless the rule says otherwise (seconds).
DEFAULT_DROP_SECONDS = 30.0
MAX_DELAY_SECONDS = 600.0

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

seed_table = Table(
    "sim_seed",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", Integer),
    Column("counter", Integer, nullable=False, default=0),
)


class RuleError(ValueError):
    """A rule (or seed) the control plane refuses; the message names the problem."""


# -- the effects registry ---------------------------------------------------------------------


@dataclass(frozen=True)
class EffectKind:
    """One registered effect: where it applies and how its parameters are checked."""

    name: str
    directions: tuple[str, ...]
    doc: str
    check: Callable[[str, dict[str, Any]], dict[str, Any]]
    apis: tuple[str, ...] | None = None  # None: every API of its directions


EFFECTS: dict[str, EffectKind] = {}


def effect(
    name: str, directions: tuple[str, ...] = ("inbound",), apis: tuple[str, ...] | None = None
) -> Callable[[Callable[[str, dict[str, Any]], dict[str, Any]]], Any]:
    """Register an effect kind; the decorated function validates its parameters for an API."""

    def decorate(check: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Any:
        doc = (check.__doc__ or "").strip().splitlines()[0]
        EFFECTS[name] = EffectKind(name, directions, doc, check, apis)
        return check

    return decorate


def _only(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - {"kind", *allowed})
    if unknown:
        raise RuleError(
            f"effect {params['kind']!r} has no parameter(s) {unknown}; "
            f"it takes {list(allowed) or 'none'}"
        )


def _commit_flag(params: dict[str, Any], default: bool = False) -> bool:
    value = params.get("commit", default)
    if not isinstance(value, bool):
        raise RuleError("effect.commit must be true or false")
    return value


def _result_params(api: str, params: dict[str, Any], default_code: str | None) -> dict[str, Any]:
    _only(params, ("resultStatus", "resultCode", "resultMessage"))
    code = params.get("resultCode", default_code)
    if not isinstance(code, str) or not code:
        raise RuleError(f"effect {params['kind']!r} needs a resultCode (e.g. UNKNOWN_EXCEPTION)")
    try:
        entry = catalogue.lookup(api, code)
    except KeyError as exc:
        raise RuleError(str(exc.args[0])) from None
    status = params.get("resultStatus", entry.status)
    if status != entry.status:
        raise RuleError(
            f"resultStatus {status!r} contradicts the catalogue: {code} is {entry.status} for {api}"
        )
    out = {"kind": params["kind"], "resultStatus": status, "resultCode": code}
    message = params.get("resultMessage")
    if message is not None:
        if not isinstance(message, str) or not 0 < len(message) <= 256:
            raise RuleError("resultMessage must be a string of 1 to 256 characters")
        out["resultMessage"] = message
    return out


@effect("result")
def _check_result(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Answer with the given result (any catalogued code of the API) without touching state."""
    return _result_params(api, params, None)


@effect("commit_then_result")
def _check_commit_then_result(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Process the call (state changes are committed), then answer this result (default U)."""
    return _result_params(api, params, "UNKNOWN_EXCEPTION")


def _seconds(value: Any, name: str, low: float = 0.0, high: float = MAX_DELAY_SECONDS) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise RuleError(f"{name} must be a number of seconds between {low:g} and {high:g}")
    return float(value)


@effect("delay", directions=("inbound", "outbound"))
def _check_delay(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Wait `seconds` (or a random time in [min, max]) before processing the call."""
    _only(params, ("seconds",))
    seconds = params.get("seconds")
    if isinstance(seconds, list):
        if len(seconds) != 2:
            raise RuleError("seconds as a range is [min, max]")
        low, high = (_seconds(s, "seconds") for s in seconds)
        if low > high:
            raise RuleError("seconds range [min, max] needs min <= max")
        return {"kind": "delay", "seconds": [low, high]}
    return {"kind": "delay", "seconds": _seconds(seconds, "seconds")}


def _drop_params(params: dict[str, Any], kind: str) -> dict[str, Any]:
    _only(params, ("seconds", "commit") if kind == "drop" else ("seconds",))
    out: dict[str, Any] = {"kind": kind}
    if "seconds" in params:
        out["seconds"] = _seconds(params["seconds"], "seconds", 0.0, 3600.0)
    if kind == "drop":
        out["commit"] = _commit_flag(params)
    return out


@effect("drop")
def _check_drop(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Hold the connection, answering nothing, until the client gives up (at most `seconds`)."""
    return _drop_params(params, "drop")


@effect("commit_then_drop")
def _check_commit_then_drop(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Process the call (committed), then hold the connection and never answer."""
    return _drop_params(params, "commit_then_drop")


def _transport(
    params: dict[str, Any], extra: tuple[str, ...] = (), commit: bool = True
) -> dict[str, Any]:
    """Parameters of a transport effect; `commit` says whether the call is processed first
    (default: yes for effects that spoil an answer that exists, no for a gateway error)."""
    _only(params, ("commit", *extra))
    return {"kind": params["kind"], "commit": _commit_flag(params, commit)}


@effect("reset")
def _check_reset(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Close the connection in the middle of the answer (the client sees a broken connection)."""
    return _transport(params)


@effect("malformed", directions=("inbound", "outbound"))
def _check_malformed(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """A body that is not JSON: `style` "truncated" (half the JSON) or "not_json" (plain text)."""
    out = _transport(params, ("style",))
    style = params.get("style", "truncated")
    if style not in ("truncated", "not_json"):
        raise RuleError('malformed style must be "truncated" or "not_json"')
    out["style"] = style
    return out


@effect("http_error")
def _check_http_error(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """An HTTP 5xx with an HTML page instead of a result (`status`: 500, 502, 503 or 504)."""
    out = _transport(params, ("status",), commit=False)
    status = params.get("status", 502)
    if status not in (500, 502, 503, 504):
        raise RuleError("http_error status must be 500, 502, 503 or 504")
    out["status"] = status
    return out


@effect("bad_signature", directions=("inbound", "outbound"))
def _check_bad_signature(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """A well-formed Signature header that does not verify."""
    return _transport(params)


@effect("no_signature", directions=("inbound", "outbound"))
def _check_no_signature(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """No signature header at all."""
    return _transport(params)


@effect("stale_time", directions=("inbound", "outbound"))
def _check_stale_time(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Signed correctly, but stamped `seconds` (default 3600) in the past."""
    out = _transport(params, ("seconds",))
    out["seconds"] = _seconds(params.get("seconds", 3600), "seconds", 1.0, 10 * 365 * 86400.0)
    return out


@effect("duplicate", directions=("outbound",))
def _check_duplicate(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Send the same call twice, byte for byte (the wallet must be idempotent)."""
    _only(params, ())
    return {"kind": "duplicate"}


@effect("early_cancel", directions=("outbound",), apis=("cancelPayment",))
def _check_early_cancel(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Close the order and send cancelPayment right after the decode, long before expiry."""
    _only(params, ())
    return {"kind": "early_cancel"}


@effect("skip_polling", directions=("outbound",), apis=("inquiryPayment",))
def _check_skip_polling(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Never send inquiryPayment for the payment (the wallet must notify on its own)."""
    _only(params, ())
    return {"kind": "skip_polling"}


@effect("unknown_inquiry", directions=("outbound",), apis=("inquiryPayment",))
def _check_unknown_inquiry(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Send inquiryPayment for a paymentRequestId the wallet has never seen."""
    _only(params, ())
    return {"kind": "unknown_inquiry"}


def check_effect(api: str, direction: str, params: Any) -> dict[str, Any]:
    """Validate an effect object for `api` in `direction`; its normalised form."""
    if isinstance(params, str):
        params = {"kind": params}
    if not isinstance(params, dict) or not isinstance(params.get("kind"), str):
        raise RuleError(f"effect must be an object with a kind, one of {sorted(EFFECTS)}")
    kind = EFFECTS.get(params["kind"])
    if kind is None:
        raise RuleError(f"unknown effect kind {params['kind']!r}; known: {sorted(EFFECTS)}")
    if direction not in kind.directions:
        raise RuleError(f"effect {kind.name!r} applies to {'/'.join(kind.directions)} calls only")
    if kind.apis is not None and api not in kind.apis:
        raise RuleError(f"effect {kind.name!r} applies to {', '.join(kind.apis)} only")
    return kind.check(api, dict(params))


def describe(effect_params: Mapping[str, Any]) -> str:
    """A short text of an effect, e.g. "result U/UNKNOWN_EXCEPTION" or "delay 9s"."""
    kind = effect_params["kind"]
    if "resultCode" in effect_params:
        return f"{kind} {effect_params['resultStatus']}/{effect_params['resultCode']}"
    extras = [f"{name}={value}" for name, value in effect_params.items() if name != "kind"]
    return " ".join([kind, *extras])


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
        "times": None,
        "probability": None,
        "seed": None,
        "expiresAt": None,
    }
    times = body.get("times")
    if times is not None:
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise RuleError("times must be a whole number >= 1 (the first N matches)")
        rule["times"] = times
    probability = body.get("probability")
    if probability is not None:
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise RuleError("probability must be a number between 0 and 1")
        if not 0 <= probability <= 1:
            raise RuleError("probability must be a number between 0 and 1")
        rule["probability"] = float(probability)
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise RuleError("seed must be a whole number")
        rule["seed"] = seed
    expires = body.get("expiresAt")
    if expires is not None:
        try:
            rule["expiresAt"] = signing.parse_time(str(expires)).isoformat()
        except ValueError as exc:
            raise RuleError(f"expiresAt {expires!r} is not a time: {exc}") from None
    return rule


def _rule_view(row: Any) -> dict[str, Any]:
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


def _matches(rule_match: dict[str, list[str]], fields: Mapping[str, Any]) -> bool:
    for name, wanted in rule_match.items():
        value = fields.get(name)
        if value is None or str(value) not in wanted:
            return False
    return True


class FaultStore:
    """The rules of one simulator (rows in `sim_fault_rules`), and choosing an injection."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        # Set when the server shuts down: a held (`drop`) connection ends at once.
        self.shutdown = threading.Event()

    def add(self, body: Any) -> dict[str, Any]:
        """Validate and store a rule; its view (with `id`)."""
        rule = check_rule(body)
        with self.sim.engine.begin() as conn:
            rule_id = conn.execute(
                rules_table.insert().values(
                    api=rule["api"],
                    direction=rule["direction"],
                    client_id=rule["clientId"],
                    match_json=json.dumps(rule["match"], sort_keys=True),
                    effect_json=json.dumps(rule["effect"]),
                    times=rule["times"],
                    probability=rule["probability"],
                    seed=rule["seed"],
                    expires_at=rule["expiresAt"],
                    matched=0,
                    fired=0,
                    created_at=self.sim.clock.now().isoformat(),
                )
            ).inserted_primary_key[0]
        return self.get(int(rule_id)) or {}

    def list(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Every rule (or a clientId's), oldest first, with match and fire counts."""
        stmt = select(rules_table).order_by(rules_table.c.id)
        if client_id:
            stmt = stmt.where(rules_table.c.client_id == client_id)
        with read(self.sim.engine) as conn:
            return [_rule_view(row) for row in conn.execute(stmt).all()]

    def get(self, rule_id: int) -> dict[str, Any] | None:
        """One rule, or None."""
        with read(self.sim.engine) as conn:
            row = conn.execute(select(rules_table).where(rules_table.c.id == rule_id)).first()
        return None if row is None else _rule_view(row)

    def delete(self, rule_id: int) -> bool:
        """Delete one rule; False if there is none."""
        with self.sim.engine.begin() as conn:
            return conn.execute(delete(rules_table).where(rules_table.c.id == rule_id)).rowcount > 0

    def clear(self, client_id: str | None = None) -> int:
        """Delete every rule (or a clientId's); how many there were."""
        stmt = delete(rules_table)
        if client_id:
            stmt = stmt.where(rules_table.c.client_id == client_id)
        with self.sim.engine.begin() as conn:
            return conn.execute(stmt).rowcount

    def match(
        self,
        api: str,
        direction: str,
        client_id: str,
        fields: Mapping[str, Any],
        kinds: tuple[str, ...] | None = None,
    ) -> Injection | None:
        """The first live rule matching this call that fires (counts updated atomically).

        `kinds`: only rules with one of these effect kinds (each hook asks for its own).
        """
        now = self.sim.clock.now()
        with self.sim.engine.begin() as conn:
            rows = conn.execute(
                select(rules_table)
                .where(rules_table.c.api == api, rules_table.c.direction == direction)
                .order_by(rules_table.c.id)
                .with_for_update()
            ).all()
            for row in rows:
                if row.client_id and row.client_id != client_id:
                    continue
                if row.times is not None and row.fired >= row.times:
                    continue
                if row.expires_at and signing.parse_time(row.expires_at) <= now:
                    continue
                if not _matches(json.loads(row.match_json), fields):
                    continue
                if kinds is not None and json.loads(row.effect_json)["kind"] not in kinds:
                    continue
                index = row.matched
                fires = True
                if row.probability is not None:
                    seed = row.seed if row.seed is not None else self.sim.ids.seed_value()
                    rng = (
                        random.SystemRandom()
                        if seed is None
                        else random.Random(f"{seed}:{row.id}:{index}")
                    )
                    fires = rng.random() < row.probability
                conn.execute(
                    update(rules_table)
                    .where(rules_table.c.id == row.id)
                    .values(matched=index + 1, fired=row.fired + (1 if fires else 0))
                )
                if fires:
                    return Injection(
                        effect=json.loads(row.effect_json), source=f"rule {row.id}", rule_id=row.id
                    )
        return None

    def choose(
        self, api: str, client_id: str, headers: Mapping[str, str], body: Mapping[str, Any]
    ) -> Injection | None:
        """Header, then magic value, then rules: what an inbound call gets, if anything."""
        found = from_headers(api, headers)
        if found is not None:
            return found
        fields, has_rules = inbound_fields(self.sim, api, body)
        found = from_magic(api, fields)
        if found is not None or not has_rules:
            return found
        return self.match(api, "inbound", client_id, fields)

    def has_rules(self, api: str, direction: str) -> bool:
        """Whether any rule exists for `api` in `direction` (one cheap read)."""
        return _probe(self.sim, api, direction, None, None)[0]

    def outbound(
        self,
        api: str,
        client_id: str,
        payment_request_id: str | None,
        refund_request_id: str | None = None,
        kinds: tuple[str, ...] = OUTBOUND_TRANSPORT,
    ) -> Injection | None:
        """The injection for a call of the simulator to a wallet (or a hook's own kinds)."""
        has_rules, _ = _probe(self.sim, api, "outbound", None, None)
        if not has_rules:  # the usual case: one cheap read
            return None
        fields = outbound_fields(self.sim, payment_request_id, refund_request_id)
        return self.match(api, "outbound", client_id, fields, kinds)


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


# -- seeded ids and random choices ----------------------------------------------------------------


class Ids:
    """The one generator of random ids and choices; repeatable after `seed(n)`.

    Unseeded, draws come from the operating system (`secrets`). Seeded, draw number k is
    random.Random(f"{seed}:{k}"): the counter is a row, so every worker draws the next k.
    """

    def __init__(self, sim: Any) -> None:
        self.sim = sim

    def seed(self, value: int | None) -> None:
        """Seed the generator (None: back to unseeded); the counter restarts at 0."""
        with self.sim.engine.begin() as conn:
            conn.execute(delete(seed_table))
            conn.execute(seed_table.insert().values(id=1, seed=value, counter=0))

    def restart(self) -> None:
        """Count draws from 0 again, keeping the seed (a reset replays the same sequence)."""
        with self.sim.engine.begin() as conn:
            conn.execute(update(seed_table).where(seed_table.c.id == 1).values(counter=0))

    def seed_value(self) -> int | None:
        """The seed in use, or None."""
        return self.state()["seed"]

    def state(self) -> dict[str, Any]:
        """{"seed", "draws"}."""
        with read(self.sim.engine) as conn:
            row = conn.execute(select(seed_table).where(seed_table.c.id == 1)).first()
        return {
            "seed": None if row is None else row.seed,
            "draws": 0 if row is None else row.counter,
        }

    def rng(self) -> random.Random:
        """A generator for one draw (seeded: the next in the sequence; else from the OS).

        Seeded, it writes the counter: call it before opening a write transaction, not in one.
        """
        with read(self.sim.engine) as conn:
            row = conn.execute(select(seed_table).where(seed_table.c.id == 1)).first()
        if row is None or row.seed is None:
            return random.SystemRandom()
        with self.sim.engine.begin() as conn:
            row = conn.execute(
                select(seed_table).where(seed_table.c.id == 1).with_for_update()
            ).first()
            if row is None or row.seed is None:
                return random.SystemRandom()
            conn.execute(
                update(seed_table).where(seed_table.c.id == 1).values(counter=row.counter + 1)
            )
        return random.Random(f"{row.seed}:{row.counter}")

    def token(self, alphabet: str, length: int) -> str:
        """`length` characters drawn from `alphabet`."""
        rng = self.rng()
        return "".join(rng.choice(alphabet) for _ in range(length))


# -- applying an injection to an inbound call ------------------------------------------------------

_HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body>"
    "<h1>{status} {reason}</h1><p>The upstream server failed (injected by aplus-sim).</p>"
    "</body></html>"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_NOT_JSON = b"Service busy, please try again later\n"


def _inbound_paths() -> dict[str, str]:
    from simulator import aps

    return {
        aps.INQUIRY_CODE_RULES: "inquiryCodeRules",
        aps.USER_INITIATED_PAY: "userInitiatedPay",
        aps.NOTIFY_PAYMENT: "notifyPayment",
    }


def _handlers() -> dict[str, Callable[[Any], Any]]:
    from simulator import aps

    return {
        "inquiryCodeRules": aps._inquiry_code_rules,
        "userInitiatedPay": aps._user_initiated_pay,
        "notifyPayment": aps._notify_payment,
    }


def _lenient_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


_HAS_RULES_SQL = "SELECT 1 FROM sim_fault_rules WHERE api = ? AND direction = ? LIMIT 1"
_PAYMENT_SQL = {
    "code_value": "SELECT payment_request_id, order_json FROM payments WHERE code_value = ?",
    "payment_request_id": (
        "SELECT payment_request_id, order_json FROM payments WHERE payment_request_id = ?"
    ),
}


def _probe(
    sim: Any, api: str, direction: str, column: str | None, value: str | None
) -> tuple[bool, Any]:
    """(are there rules for api/direction, the payment row (id, order_json) by `column`).

    Runs on every inbound call, so on SQLite it is two plain statements on a pooled DB-API
    connection (~40 us), not SQLAlchemy Core (~400 us here); elsewhere, prebuilt statements.
    """
    if sim.engine.dialect.name == "sqlite":
        with raw(sim.engine) as conn:
            cur = conn.cursor()
            try:
                cur.execute(_HAS_RULES_SQL, (api, direction))
                has_rules = cur.fetchone() is not None
                row = None
                if column is not None and value is not None:
                    cur.execute(_PAYMENT_SQL[column], (value,))
                    row = cur.fetchone()
            finally:
                cur.close()
        return has_rules, row
    from simulator.payments import payments_table

    with read(sim.engine) as conn:
        has_rules = conn.execute(_HAS_RULES, {"api": api, "direction": direction}).first()
        row = None
        if column is not None and value is not None:
            stmt = select(payments_table.c.payment_request_id, payments_table.c.order_json)
            row = conn.execute(stmt.where(payments_table.c[column] == value)).first()
    return has_rules is not None, row


_HAS_RULES = (
    select(rules_table.c.id)
    .where(rules_table.c.api == bindparam("api"), rules_table.c.direction == bindparam("direction"))
    .limit(1)
)


def inbound_fields(sim: Any, api: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The fields a rule or magic value can match in an inbound call (with its order's amount),
    and whether any rule exists for `api` at all."""
    fields: dict[str, Any] = {
        name: body.get(name)
        for name in ("codeValue", "customerId", "paymentRequestId", "jarVersion")
        if isinstance(body.get(name), str)
    }
    column = value = None
    if api == "userInitiatedPay" and "codeValue" in fields:
        column, value = "code_value", fields["codeValue"]
    elif api == "notifyPayment" and "paymentRequestId" in fields:
        column, value = "payment_request_id", fields["paymentRequestId"]
    has_rules, row = _probe(sim, api, "inbound", column, value)
    if row is not None:
        payment_request_id, order_json = row[0], row[1]
        order_amount = json.loads(order_json).get("orderAmount") or {}
        fields["paymentRequestId"] = payment_request_id
        fields["amount"] = order_amount.get("value")
        fields["currency"] = order_amount.get("currency")
    return fields, has_rules


def _intercept() -> Any:
    """before_request: give an inbound Alipay+ call its injection, if it has one."""
    if not _PATHS:
        _PATHS.update(_inbound_paths())
    api = _PATHS.get(request.path)
    if api is None or request.method != "POST":
        return None
    sim = current()
    body = _lenient_json(request.get_data(cache=True))
    client_id = request.headers.get("Client-Id", "")
    from simulator import protocol

    try:
        injection = sim.faults.choose(api, client_id, request.headers, body)
    except RuleError as exc:
        message = f"bad injection request: {exc}"

        def refuse(inbound: Any) -> Any:
            raise protocol.ParamIllegal(message)

        return protocol.serve(api, refuse)
    if injection is None:
        return None
    return apply_inbound(sim, api, injection)


_PATHS: dict[str, str] = {}


def apply_inbound(sim: Any, api: str, injection: Injection) -> Any:
    """Answer the current inbound call as `injection` says (through protocol.serve)."""
    from flask import g

    from simulator import protocol

    real = _handlers()[api]
    params = injection.effect
    kind = params["kind"]

    def processed(inbound: Any) -> Any:
        """Run the real handler; its answer (a ProtocolError becomes its result object)."""
        try:
            return real(inbound)
        except protocol.ProtocolError as exc:
            injection.details.append(f"processing answered {exc.code}")
            return {"result": protocol.result(api, exc.code, exc.message, exc.status)}

    def noted(answer: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def handler(inbound: Any) -> Any:
            out = answer(inbound)
            inbound.note = injection.note() + (f"; {inbound.note}" if inbound.note else "")
            return out

        return handler

    def injected_result(inbound: Any) -> Any:
        return {"result": catalogue.result(api, params["resultCode"], params.get("resultMessage"))}

    if kind == "delay":
        seconds = params["seconds"]
        if isinstance(seconds, list):
            seconds = sim.ids.rng().uniform(seconds[0], seconds[1])
            injection.details.append(f"waited {seconds:.3f} s")
        sim.faults.shutdown.wait(seconds)
        return protocol.serve(api, noted(processed))
    if kind == "result":
        if params["resultStatus"] == "S":
            injection.details.append("a SUCCESS needs the real answer: processed normally")
            return protocol.serve(api, noted(processed))
        return protocol.serve(api, noted(injected_result))
    if kind == "commit_then_result":

        def commit_then_result(inbound: Any) -> Any:
            answer = processed(inbound)
            if injection.rule_id is None and (inbound.note or "").startswith("replay"):
                # A magic value (or header) loses only the answer of the call that commits:
                # the wallet's identical retry learns the outcome, as after a lost answer.
                injection.details.append("a replay of the committed call: answered normally")
                return answer
            text = answer if isinstance(answer, str) else json.dumps(answer)
            status = (_lenient_json(text.encode()).get("result") or {}).get("resultCode")
            injection.details.append(f"committed; the real answer was {status}")
            return injected_result(inbound)

        return protocol.serve(api, noted(commit_then_result))

    commit = kind == "commit_then_drop" or params.get("commit", False)

    def unprocessed(inbound: Any) -> Any:
        injection.details.append("not processed")
        return {"result": catalogue.result(api, "UNKNOWN_EXCEPTION", "not processed")}

    replayed: list[bool] = []

    def committing(inbound: Any) -> Any:
        answer = processed(inbound)
        replayed.append((inbound.note or "").startswith("replay"))
        return answer

    g.aplus_sim_journal_ids = []
    response = protocol.serve(api, noted(committing if commit else unprocessed))
    if injection.rule_id is None and kind == "commit_then_drop" and replayed and replayed[0]:
        g.pop("aplus_sim_journal_ids", None)
        return response  # a magic value drops only the answer of the call that commits
    entry_ids = list(g.pop("aplus_sim_journal_ids", []))
    return _transform(sim, api, injection, response, entry_ids[-1] if entry_ids else None)


def _close(environ: Mapping[str, Any]) -> None:
    """Close the client's connection now (werkzeug exposes the socket; granian closes it when
    the body raises, below)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _client_left(sock: Any) -> bool:
    """Whether the peer closed its side of `sock` (readable, and a peek reads nothing)."""
    try:
        readable, _, _ = io_select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _hold_until_client_leaves(seconds: float, stop: threading.Event, environ: Any) -> str:
    """Hold for up to `seconds`; sooner if the client hangs up (werkzeug gives us its socket;
    under granian the full time) or `stop` is set. Says how it ended."""
    sock = environ.get("werkzeug.socket")
    started = time.monotonic()
    deadline = started + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop.wait(min(left, 0.05) if sock is not None else left):
            return "the server shut down"
        if sock is not None and _client_left(sock):
            return f"the client hung up after {time.monotonic() - started:.2f} s"
    return f"held {seconds:g} s, then closed"


def _hold(environ: Mapping[str, Any]) -> Any:
    """A WSGI body that drops the connection without sending anything more."""
    _close(environ)
    # A ConnectionError from the body is a dropped connection to the server: nothing more is
    # sent (werkzeug logs it as such; granian logs the error and closes the connection).
    raise ConnectionAbortedError("dropped by aplus-sim")
    yield b""  # pragma: no cover - makes this a generator


def _cut(part: bytes, environ: Mapping[str, Any]) -> Any:
    """A WSGI body that sends `part` of the declared length, then closes the connection."""
    yield part
    _close(environ)
    raise ConnectionResetError("reset by aplus-sim")


def _transform(
    sim: Any, api: str, injection: Injection, response: Any, entry_id: int | None
) -> Any:
    from flask import Response

    params = injection.effect
    kind = params["kind"]
    payload = response.get_data()
    amend: dict[str, Any] = {}
    if kind in ("drop", "commit_then_drop"):
        seconds = float(
            params.get("seconds", getattr(sim.config, "drop_seconds", DEFAULT_DROP_SECONDS))
        )
        injection.details.append(f"no answer sent; the connection is held up to {seconds:g} s")
        held_entry, entry_id = entry_id, None
        if held_entry is not None and sim.journal is not None:  # journaled before the wait
            sim.journal.amend(
                held_entry,
                response_status=None,
                response_headers={},
                response_body=None,
                note=injection.note(),
            )
        # Wait here, before any byte (even the status line) goes out: the client sees silence
        # until its own timeout; the wait ends early when the client hangs up or the server
        # shuts down.
        ended = _hold_until_client_leaves(seconds, sim.faults.shutdown, request.environ)
        if held_entry is not None and sim.journal is not None:
            injection.details.append(ended)
            sim.journal.amend(held_entry, note=injection.note())
        out = Response(_hold(request.environ), status=200)
    elif kind == "reset":
        part = payload[: len(payload) // 2]
        out = Response(_cut(part, request.environ), status=200)
        for name, value in response.headers.items():
            out.headers.set(name, value)
        out.headers["Content-Length"] = str(len(payload))
        injection.details.append(f"connection closed after {len(part)} of {len(payload)} bytes")
        amend = {"response_body": part.decode("utf-8", "replace")}
    elif kind == "malformed":
        body = payload[: len(payload) // 2] if params["style"] == "truncated" else _NOT_JSON
        response.set_data(body)
        if params["style"] == "not_json":
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
        amend = {"response_body": body.decode("utf-8", "replace")}
        out = response
    elif kind == "http_error":
        status = params["status"]
        html = _HTML_ERROR.format(status=status, reason=_REASONS[status])
        out = Response(html, status=status, mimetype="text/html")
        amend = {"response_status": status, "response_body": html}
    else:
        path = request.path + (
            f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
        )
        when = sim.clock.now()
        if kind == "stale_time":
            when = when - timedelta(seconds=params["seconds"])
        signed = signing.signed_response_headers(
            sim.keys.private_key,
            request.headers.get("Client-Id", ""),
            path,
            payload + (b" " if kind == "bad_signature" else b""),
            when,
        )
        for name, value in signed.items():
            response.headers.set(name, value)
        if kind == "no_signature":
            del response.headers["signature"]
        out = response
    if entry_id is not None and sim.journal is not None:
        if "response_headers" not in amend:
            amend["response_headers"] = dict(out.headers.items())
        amend["note"] = injection.note()
        sim.journal.amend(entry_id, **amend)
    return out


# -- applying an injection to a call of the simulator to a wallet --------------------------------


def outbound_fields(
    sim: Any, payment_request_id: str | None, refund_request_id: str | None
) -> dict[str, Any]:
    """The fields a rule can match in a call to a wallet (from the payment it is about)."""
    fields: dict[str, Any] = {
        "paymentRequestId": payment_request_id,
        "refundRequestId": refund_request_id,
    }
    record = sim.payments.get_record(payment_request_id) if payment_request_id else None
    if record is not None:
        amount = record["order"].get("orderAmount") or {}
        fields.update(
            codeValue=record["code_value"],
            customerId=record["customer_id"],
            amount=amount.get("value"),
            currency=amount.get("currency"),
        )
    return fields


def spoil_outbound(
    sim: Any,
    injection: Injection,
    client_id: str,
    path: str,
    payload: bytes,
    headers: dict[str, str],
    when: Any,
) -> tuple[bytes, dict[str, str], int]:
    """Apply a transport effect to a call to a wallet: (payload, headers, how many sends)."""
    params = injection.effect
    kind = params["kind"]
    sends = 1
    if kind == "delay":
        seconds = params["seconds"]
        if isinstance(seconds, list):
            seconds = sim.ids.rng().uniform(seconds[0], seconds[1])
        sim.faults.shutdown.wait(seconds)
    elif kind == "duplicate":
        sends = 2
    elif kind == "no_signature":
        headers = {k: v for k, v in headers.items() if k.lower() != "signature"}
    else:
        signed_payload = payload
        if kind == "malformed":
            payload = payload[: len(payload) // 2] if params["style"] == "truncated" else _NOT_JSON
            signed_payload = payload
        elif kind == "bad_signature":
            signed_payload = payload + b" "
        elif kind == "stale_time":
            when = when - timedelta(seconds=params["seconds"])
        headers = signing.signed_request_headers(
            sim.keys.private_key, client_id, path, signed_payload, when
        )
    return payload, headers, sends


def note_for_exchange(text: str) -> None:
    """Add `text` to the journal note of the inbound exchange being answered (if any)."""
    from flask import g, has_request_context

    if has_request_context():
        g.setdefault("aplus_sim_notes", []).append(text)


# -- isolation: one wallet's state ----------------------------------------------------------------


def reset_client(sim: Any, client_id: str) -> dict[str, int]:
    """Forget one wallet's payments, refunds, cancellations, jobs, journal and rules.

    Every table with a `client_id` column is scoped by it; a job is the wallet's when its
    payload names one of the wallet's payments or refunds. Participants and keys are kept.
    """
    from simulator.payments import payments_table
    from simulator.scheduler import jobs_table

    deleted: dict[str, int] = {}
    with sim.engine.begin() as conn:
        payment_ids = set(
            conn.execute(
                select(payments_table.c.payment_request_id).where(
                    payments_table.c.client_id == client_id
                )
            ).scalars()
        )
        refund_ids: set[str] = set()
        for table in metadata.sorted_tables:
            if (
                "refund_request_id" in table.c
                and "client_id" in table.c
                and table.name != ("journal_entries")
            ):
                refund_ids |= set(
                    conn.execute(
                        select(table.c.refund_request_id).where(table.c.client_id == client_id)
                    ).scalars()
                )
        doomed = []
        for job_id, payload in conn.execute(select(jobs_table.c.id, jobs_table.c.payload)):
            data = _lenient_json(payload.encode())
            if data.get("paymentRequestId") in payment_ids or data.get("refundRequestId") in (
                refund_ids
            ):
                doomed.append(job_id)
        if doomed:
            deleted["sim_jobs"] = conn.execute(
                delete(jobs_table).where(jobs_table.c.id.in_(doomed))
            ).rowcount
        for table in reversed(metadata.sorted_tables):
            if table.name in ("participants", "sim_jobs") or "client_id" not in table.c:
                continue
            count = conn.execute(delete(table).where(table.c.client_id == client_id)).rowcount
            if count:
                deleted[table.name] = count
    return deleted


# -- the control plane: /_sim/faults and /_sim/seed ---------------------------------------------

bp = Blueprint("faults", __name__, url_prefix="/_sim")


def _error(message: str, status: int = 400) -> tuple[Any, int]:
    return jsonify({"error": message, "code": "PARAM_ILLEGAL" if status == 400 else None}), status


def _json() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise RuleError("the body is not valid JSON")
    return body


@bp.get("/faults")
def list_rules():
    """Every injection rule with its match and fire counts (?clientId= for one wallet's)."""
    return jsonify({"rules": current().faults.list(request.args.get("clientId") or None)})


@bp.post("/faults")
def add_rule():
    """Add a rule; answers its id (HTTP 201)."""
    try:
        rule = current().faults.add(_json())
    except RuleError as exc:
        return _error(str(exc))
    return jsonify({"id": rule["id"], "rule": rule}), 201


@bp.get("/faults/<int:rule_id>")
def get_rule(rule_id: int):
    """One rule with its counts."""
    rule = current().faults.get(rule_id)
    if rule is None:
        return _error(f"no fault rule {rule_id}", 404)
    return jsonify(rule)


@bp.delete("/faults/<int:rule_id>")
def delete_rule(rule_id: int):
    """Delete one rule."""
    if not current().faults.delete(rule_id):
        return _error(f"no fault rule {rule_id}", 404)
    return jsonify({"deleted": 1})


@bp.delete("/faults")
def clear_rules():
    """Delete every rule (?clientId= only that wallet's)."""
    return jsonify({"deleted": current().faults.clear(request.args.get("clientId") or None)})


@bp.get("/faults/effects")
def list_effects():
    """The registered effect kinds: directions, APIs and what each does."""
    return jsonify(
        {
            "effects": [
                {"kind": k.name, "directions": list(k.directions), "apis": k.apis, "doc": k.doc}
                for k in EFFECTS.values()
            ]
        }
    )


@bp.get("/faults/magic")
def list_magic():
    """The magic-value table (contracts/data/magic_values.json)."""
    return jsonify(magic.table())


@bp.get("/seed")
def get_seed():
    """The seed in use (null: unseeded) and how many draws were made since."""
    return jsonify(current().ids.state())


@bp.post("/seed")
def post_seed():
    """Seed generated ids, random choices and delays: {"seed": 42} ({"seed": null} unseeds)."""
    try:
        body = _json()
        if not isinstance(body, dict) or "seed" not in body:
            raise RuleError('send {"seed": 42} (or {"seed": null} to go back to random)')
        seed = body["seed"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise RuleError("seed must be a whole number or null")
    except RuleError as exc:
        return _error(str(exc))
    current().ids.seed(seed)
    return jsonify(current().ids.state())


def init_app(app):
    """Give the app its fault store and seeded ids; register /_sim/faults and the interceptor."""
    sim = app.extensions["aplus_sim"]
    sim.faults = FaultStore(sim)
    sim.ids = Ids(sim)
    app.register_blueprint(bp)
    app.before_request(_intercept)
