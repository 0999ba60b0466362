"""Fault and result injection: rules (/_sim/faults), magic values, the X-Aplus-Sim-* headers.

Three ways in, tried in this order for every call of an Alipay+ API a wallet makes:

1. the ``X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION`` (or ``X-Aplus-Sim-Fault: <kind>``) header;
2. a magic value of contracts/data/magic_values.json in the message (or its order's amount);
3. the stored rules, matched on API, direction, clientId and message fields, with `times`,
   `probability` + `seed` and `expiresAt` (clock time).

Rules are rows (several workers share them); a rule's match and fire counts change in one
transaction. Effects are registered with `@effect` (schemathesis' checks registry, in small).
Inbound calls get their injection as a step of `simulator.protocol.serve`, after
authentication and the contract checks (`faults.inbound.InboundFault`), so a refused request
never gets one; calls to a wallet get theirs in `simulator.outbound` (`faults.outbound`), and
each outbound API module asks for its own kinds (early_cancel, skip_polling, unknown_inquiry).
Everything injected is journaled next to the exchange it changed.

The package, one job a module: `effects` (the effect kinds and their checks), `rules` (a
rule's checks, its table, headers and magic values), `store` (the rule store, `sim.faults`,
choosing an injection), `inbound` and `outbound` (applying an injection to a
call in each direction; they sit above `simulator.state` and are imported by path), `isolation`
(one wallet's reset). This facade
exports what the rest of the simulator uses.
"""

from __future__ import annotations

from contracts.apis import INBOUND_APIS, OUTBOUND_APIS
from simulator.faults.effects import EFFECTS, RuleError, describe
from simulator.faults.isolation import reset_client
from simulator.faults.rules import check_rule
from simulator.faults.store import FaultStore

__all__ = [
    "EFFECTS",
    "INBOUND_APIS",
    "OUTBOUND_APIS",
    "RuleError",
    "check_rule",
    "describe",
    "init_app",
    "reset_client",
]


def init_app(app):
    """Give the app its fault store (rules); /_sim/faults is registered with the control plane."""
    sim = app.extensions["aplus_sim"]
    sim.faults = FaultStore(sim.engine, sim.clock, sim.ids, sim.payments)
