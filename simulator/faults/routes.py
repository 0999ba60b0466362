"""Moved: the /_sim/faults and /_sim/seed routes are in simulator/control/faults.py.

This empty blueprint remains only because simulator/faults/__init__.py (not this branch's to
edit) still imports and registers `bp`; delete this file together with those two lines.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("faults", __name__, url_prefix="/_sim")
