"""/_sim/participants: the wallets (MPPs) registered with the simulator."""

from __future__ import annotations

from flask import Blueprint, jsonify

from simulator.control.errors import ControlError, request_json
from simulator.state import current

bp = Blueprint("participants", __name__)


@bp.get("/participants")
def participants():
    """Every registered participant."""
    return jsonify({"participants": current().keys.participants()})


@bp.get("/participants/<client_id>")
def get_participant(client_id: str):
    """One participant with the binding field names."""
    found = current().keys.participant(client_id)
    if found is None:
        raise ControlError.not_found(f"no participant {client_id!r}")
    return jsonify(found)


@bp.put("/participants/<client_id>")
def put_participant(client_id: str):
    """Register or update a participant (fields not given keep their value or default).

    A refusal is the registry's `ParticipantError` (400 PARAM_ILLEGAL).
    """
    return jsonify(current().keys.put_participant(client_id, request_json()))
