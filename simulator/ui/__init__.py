"""The dashboard under /_sim/ui: orders and their state, one order's timeline, the journal.

Server-rendered Jinja (templates in simulator/templates/ui/), no JavaScript. Everything shown
comes from the payment engine (`sim.payments`) and the journal (`sim.journal`); bodies and
headers are untrusted and always escaped (Jinja autoescaping; nothing is marked safe).

One module per page group, all on the blueprint `bp` ("ui"): `payments` (the overview and one
order's timeline), `journal` (the journal table and one exchange), `qa` (injection rules and the
report); `explain` says why an exchange went wrong, `common` holds the display helpers.
"""

from __future__ import annotations

from simulator.ui import journal, payments, qa
from simulator.ui.common import bp
from simulator.ui.explain import Reason, explain, short_error
from simulator.ui.payments import timeline

__all__ = ["PAGES", "Reason", "bp", "explain", "init_app", "short_error", "timeline"]

PAGES = (payments, journal, qa)


def init_app(app):
    """Register the dashboard."""
    app.register_blueprint(bp)
