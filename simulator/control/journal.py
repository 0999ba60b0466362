"""GET/DELETE /_sim/journal: every protocol exchange, both directions, with its verdicts.

The query parameters are read by `simulator.journal.parse_query` (shared with the dashboard);
an unknown or malformed one is its `BadQuery` (400 PARAM_ILLEGAL naming the parameter).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from simulator.control.errors import ControlError
from simulator.journal import page, parse_query
from simulator.state import current

bp = Blueprint("journal", __name__)


@bp.get("/journal")
def list_entries():
    """Journal entries, newest first, filtered by api, clientId, paymentRequestId, problems."""
    entries, next_before = page(current().journal, parse_query(request.args))
    return jsonify({"entries": entries, "next": next_before})


@bp.get("/journal/<int:entry_id>")
def get_entry(entry_id: int):
    """One journal entry."""
    entry = current().journal.get(entry_id)
    if entry is None:
        raise ControlError.not_found(
            f"no journal entry {entry_id} "
            "(it may have been dropped: the journal keeps the newest entries only)"
        )
    return jsonify(entry)


@bp.delete("/journal")
def clear_entries():
    """Forget every entry."""
    return jsonify({"deleted": current().journal.clear()})
