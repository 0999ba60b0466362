"""What the wallet did about the results and faults it was shown: GET /_sim/report (WIP)."""

from __future__ import annotations


def init_app(app):
    """Register the report."""
