"""The control plane: /_sim/faults (rules, effects, magic values) and /_sim/seed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from contracts import magic
from simulator.control_io import control_error, request_json
from simulator.faults.effects import EFFECTS, RuleError
from simulator.state import current

# -- the control plane: /_sim/faults and /_sim/seed ---------------------------------------------

bp = Blueprint("faults", __name__, url_prefix="/_sim")


def _error(message: str, status: int = 400) -> tuple[Any, int]:
    return control_error(message, status, "PARAM_ILLEGAL" if status == 400 else None)


def _json() -> Any:
    return request_json(RuleError)


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
