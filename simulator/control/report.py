"""GET /_sim/report: what the wallet did about the results and faults it was shown."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from simulator.report import build
from simulator.state import current

bp = Blueprint("report", __name__)


@bp.get("/report")
def report_json():
    """The report as JSON (?clientId= one wallet's); built by simulator.report."""
    return jsonify(build(current(), request.args.get("clientId") or None))
