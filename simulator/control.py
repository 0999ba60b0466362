"""The control plane under /_sim/ (health for now; the simulator issue fills in the rest)."""

from __future__ import annotations

from flask import Blueprint, jsonify

import simulator
from simulator.state import current

bp = Blueprint("control", __name__, url_prefix="/_sim")


@bp.get("/health")
def health():
    """Liveness, version and the storage in use."""
    sim = current()
    return jsonify(
        {
            "status": "ok",
            "version": simulator.__version__,
            "storage": sim.engine.url.render_as_string(hide_password=True),
        }
    )


def init_app(app):
    """Register the control plane."""
    app.register_blueprint(bp)
