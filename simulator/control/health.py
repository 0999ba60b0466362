"""GET /_sim/health and POST /_sim/reset: is it up, and start again."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

import simulator
from simulator import faults
from simulator.control.errors import ControlError, request_json
from simulator.db import metadata
from simulator.state import current

bp = Blueprint("health", __name__)

# Tables a reset keeps: registered wallets (unless asked) and the virtual clock's time.
# The seed (POST /_sim/seed) is kept too, its draws counted from 0 again: after a reset the
# same scenario gets the same ids.
KEPT_BY_RESET = {"participants", "sim_clock", "sim_seed"}


@bp.get("/health")
def health():
    """Liveness, version and the storage in use."""
    sim = current()
    return jsonify(
        {
            "status": "ok",
            "version": simulator.__version__,
            "storage": sim.engine.url.render_as_string(hide_password=True),
            "clock": sim.config.clock,
            "defaultClientId": sim.config.default_client_id,
        }
    )


@bp.post("/reset")
def reset():
    """Wipe payments, journal, jobs and rules; keep keys and participants unless told.

    `?clientId=` wipes only that wallet's payments, refunds, jobs, journal entries and rules.
    """
    sim = current()
    body = request_json()
    client_id = request.args.get("clientId")
    if client_id:
        if sim.keys.participant(client_id) is None:
            raise ControlError.not_found(f"no participant {client_id!r}")
        deleted = faults.reset_client(sim, client_id)
        return jsonify({"status": "reset", "clientId": client_id, "deleted": deleted})
    wipe_participants = bool(isinstance(body, dict) and body.get("participants"))
    with sim.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT_BY_RESET:
                conn.execute(table.delete())
    if wipe_participants:
        sim.keys.delete_participants()
    sim.ids.restart()
    return jsonify({"status": "reset", "participants": "reset" if wipe_participants else "kept"})
