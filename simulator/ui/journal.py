"""The journal as a table (/_sim/ui/journal) and one exchange in full (/_sim/ui/journal/<id>)."""

from __future__ import annotations

from flask import render_template, request

from contracts import catalogue
from simulator.journal import BadQuery, page, parse_query
from simulator.state import current
from simulator.ui.common import bp, decorate, sim_context


@bp.get("/journal")
def journal_page():
    """The journal as a table, filterable like GET /_sim/journal, problems highlighted."""
    sim = current()
    try:
        params = parse_query({k: v for k, v in request.args.items() if k != "refresh"})
    except BadQuery as exc:
        return render_template(
            "ui/journal.html",
            entries=[],
            next_before=None,
            error=str(exc),
            args=request.args,
            apis=known_apis(),
            **sim_context(),
        ), 400
    entries, next_before = page(sim.journal, params)
    return render_template(
        "ui/journal.html",
        entries=[decorate(e) for e in entries],
        next_before=next_before,
        error=None,
        args=request.args,
        apis=known_apis(),
        **sim_context(),
    )


@bp.get("/journal/<int:entry_id>")
def journal_entry(entry_id: int):
    """One exchange in full: headers, bodies, verdicts and what to do about them."""
    entry = current().journal.get(entry_id)
    if entry is None:
        return render_template(
            "ui/not_found.html",
            what=f"No journal entry {entry_id}",
            hint="The journal keeps only the newest entries, and a reset clears it.",
            **sim_context(),
        ), 404
    return render_template("ui/entry.html", entry=decorate(entry), **sim_context())


def known_apis() -> list[str]:
    return [api for api in catalogue.apis() if api != "paymentResult"]
