"""The journal: every protocol exchange, in both directions, with its verdicts; bounded.

Each inbound call (the wallet calling Alipay+) and each outbound call (Alipay+ calling the
wallet) is one row: raw headers and bodies both ways, latency, the signature verdict, the
contract violations found on the request and on the answer, and the result code. Rows live
in the database so every worker process sees the same journal; only the newest
`config.journal_limit` rows are kept.

The package: `table` (the table and how an exchange becomes a row), `store` (`Journal`),
`query` (the /_sim/journal query parameters, for simulator.control and the dashboard). The
routes are in simulator/control/journal.py.
"""

from __future__ import annotations

from simulator.journal.query import BadQuery, page, parse_query
from simulator.journal.store import Journal
from simulator.journal.table import (
    BAD_SIGNATURES,
    DEFAULT_BODY_LIMIT,
    DIRECTIONS,
    SIGNATURE_VERDICTS,
    is_problem,
    journal_entries,
)

__all__ = [
    "BAD_SIGNATURES",
    "DEFAULT_BODY_LIMIT",
    "DIRECTIONS",
    "SIGNATURE_VERDICTS",
    "BadQuery",
    "Journal",
    "init_app",
    "is_problem",
    "journal_entries",
    "page",
    "parse_query",
]


def init_app(app):
    """Give the app its journal (sim.journal)."""
    sim = app.extensions["aplus_sim"]
    sim.journal = Journal(
        sim.engine,
        sim.clock,
        limit=int(sim.config.journal_limit),
        body_limit=int(getattr(sim.config, "journal_body_limit", DEFAULT_BODY_LIMIT)),
    )
