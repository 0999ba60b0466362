"""/_sim/faults (injection rules, effects, magic values) and /_sim/seed.

A rule or seed the store refuses is its `RuleError` (400 PARAM_ILLEGAL, the message says why).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from contracts import magic
from simulator.control.errors import ControlError, request_json
from simulator.faults import EFFECTS
from simulator.state import current

bp = Blueprint("faults", __name__)


def _no_rule(rule_id: int) -> ControlError:
    return ControlError.not_found(f"no fault rule {rule_id}")


@bp.get("/faults")
def list_rules():
    """Every injection rule with its match and fire counts (?clientId= for one wallet's)."""
    return jsonify({"rules": current().faults.list(request.args.get("clientId") or None)})


@bp.post("/faults")
def add_rule():
    """Add a rule; answers its id (HTTP 201)."""
    rule = current().faults.add(request_json())
    return jsonify({"id": rule["id"], "rule": rule}), 201


@bp.get("/faults/<int:rule_id>")
def get_rule(rule_id: int):
    """One rule with its counts."""
    rule = current().faults.get(rule_id)
    if rule is None:
        raise _no_rule(rule_id)
    return jsonify(rule)


@bp.delete("/faults/<int:rule_id>")
def delete_rule(rule_id: int):
    """Delete one rule."""
    if not current().faults.delete(rule_id):
        raise _no_rule(rule_id)
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
    body = request_json()
    if not isinstance(body, dict) or "seed" not in body:
        raise ControlError.bad('send {"seed": 42} (or {"seed": null} to go back to random)')
    seed = body["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ControlError.bad("seed must be a whole number or null", "seed")
    current().ids.seed(seed)
    return jsonify(current().ids.state())
