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

The package, one job a module: `effects` (the effect kinds and their checks), `rules` (rules,
the rule store, headers and magic values), `ids` (seeded ids), `inbound` and `outbound`
(applying an injection to a call in each direction), `isolation` (one wallet's reset) and
`routes` (the /_sim/faults and /_sim/seed blueprint). Its names are re-exported here.
"""

from __future__ import annotations

from simulator.faults.effects import (
    EFFECTS,
    MAX_DELAY_SECONDS,
    EffectKind,
    RuleError,
    check_effect,
    describe,
    effect,
)
from simulator.faults.ids import Ids, seed_table
from simulator.faults.inbound import DEFAULT_DROP_SECONDS, _intercept, apply_inbound
from simulator.faults.isolation import reset_client
from simulator.faults.outbound import note_for_exchange, outbound_fields, spoil_outbound
from simulator.faults.routes import bp
from simulator.faults.rules import (
    INBOUND_APIS,
    MATCH_FIELDS,
    OUTBOUND_APIS,
    OUTBOUND_TRANSPORT,
    RULE_FIELDS,
    FaultStore,
    Injection,
    check_rule,
    from_headers,
    from_magic,
    inbound_fields,
    rules_table,
)

__all__ = [
    "DEFAULT_DROP_SECONDS",
    "EFFECTS",
    "INBOUND_APIS",
    "MATCH_FIELDS",
    "MAX_DELAY_SECONDS",
    "OUTBOUND_APIS",
    "OUTBOUND_TRANSPORT",
    "RULE_FIELDS",
    "EffectKind",
    "FaultStore",
    "Ids",
    "Injection",
    "RuleError",
    "apply_inbound",
    "bp",
    "check_effect",
    "check_rule",
    "describe",
    "effect",
    "from_headers",
    "from_magic",
    "inbound_fields",
    "init_app",
    "note_for_exchange",
    "outbound_fields",
    "reset_client",
    "rules_table",
    "seed_table",
    "spoil_outbound",
]


def init_app(app):
    """Give the app its fault store and seeded ids; register /_sim/faults and the interceptor."""
    sim = app.extensions["aplus_sim"]
    sim.faults = FaultStore(sim)
    sim.ids = Ids(sim)
    app.register_blueprint(bp)
    app.before_request(_intercept)
