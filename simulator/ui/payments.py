"""The overview (/_sim/ui) and one order's page (/_sim/ui/payments/<id>) with its timeline."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from flask import render_template, request

from simulator.state import current
from simulator.ui.common import amount_text, bp, decorate, parse_time, show_time, sim_context

_OVERVIEW_ORDERS = 25
_OVERVIEW_PROBLEMS = 8
_RECENT_WINDOW = 200


@bp.get("")
@bp.get("/")
def overview():
    """Recent orders with their state, the last request's verdict, recent problems."""
    sim = current()
    # ?clientId=... narrows everything to one wallet (several can share a simulator)
    client_id = request.args.get("clientId") or None
    last_inbound, last_outbound = (
        sim.journal.latest(d, client_id=client_id) for d in ("inbound", "outbound")
    )
    problems = [
        decorate(e)
        for e in sim.journal.query(
            client_id=client_id, problems_only=True, limit=_OVERVIEW_PROBLEMS
        )
    ]
    orders = (
        sim.payments.list(limit=_OVERVIEW_ORDERS, client_id=client_id)
        if sim.payments is not None
        else []
    )
    problem_counts = Counter(
        e["payment_request_id"]
        for e in sim.journal.query(client_id=client_id, problems_only=True, limit=_RECENT_WINDOW)
        if e.get("payment_request_id")
    )
    return render_template(
        "ui/overview.html",
        last_inbound=decorate(last_inbound) if last_inbound else None,
        last_outbound=decorate(last_outbound) if last_outbound else None,
        problems=problems,
        orders=orders,
        problem_counts=problem_counts,
        engine_ready=sim.payments is not None,
        client_id=client_id,
        **sim_context(),
    )


def timeline(view: dict[str, Any], record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """States and exchanges of one order in time order.

    At equal times the order's creation comes first and any other state change after the
    exchange that caused it (with a virtual clock, both carry the same time).
    """
    events: list[tuple[datetime, int, int, dict[str, Any]]] = []

    def state(when: Any, status: str, text: str) -> None:
        at = when if isinstance(when, datetime) else parse_time(when)
        if at is not None:
            rank = -1 if status == "CREATED" else 1
            events.append(
                (at, rank, len(events), {"kind": "state", "status": status, "text": text})
            )

    record = record or {}
    state(record.get("created") or view.get("createdTime"), "CREATED", "Order created")
    if record.get("decoded_at"):
        state(record["decoded_at"], "DECODED", "Order code decoded by the wallet")
    final_at = record.get("final_at")
    status = view.get("status")
    if status in ("SUCCESS", "FAILED", "CLOSED"):
        source = record.get("final_source")
        text = {
            "SUCCESS": "Payment succeeded",
            "FAILED": "Payment failed",
            "CLOSED": f"Order closed: {view.get('closeReason') or 'closed'}",
        }[status]
        if source:
            text = f"{text} (learned from {source})"
        state(final_at or (view.get("paymentTime") if status == "SUCCESS" else None), status, text)
    for refund in view.get("refunds") or []:
        state(
            refund.get("createdTime"),
            "REFUND",
            f"Merchant asked for refund {refund.get('refundRequestId')} of "
            f"{amount_text(refund.get('refundAmount'))}",
        )
    for entry in view.get("exchanges") or []:
        at = parse_time(entry["time"])
        if at is not None:
            events.append((at, 0, entry["id"], {"kind": "exchange", "entry": decorate(entry)}))
    events.sort(key=lambda item: (item[0], item[1], item[2]))
    start = events[0][0] if events else None
    shown = []
    for at, _, _, event in events:
        event["shown_time"] = show_time(at)
        event["offset"] = f"+{(at - start).total_seconds():.1f} s" if start else ""
        shown.append(event)
    return shown


@bp.get("/payments/<payment_request_id>")
def payment(payment_request_id: str):
    """One order: its state, amounts, and the timeline of states and exchanges."""
    sim = current()
    view = sim.payments.get_view(payment_request_id) if sim.payments is not None else None
    if view is None:
        return render_template(
            "ui/not_found.html",
            what=f"No payment {payment_request_id}",
            hint="It may never have existed, or the simulator was reset.",
            **sim_context(),
        ), 404
    get_record = getattr(sim.payments, "get_record", None)
    record = get_record(payment_request_id) if get_record else None
    events = timeline(view, record)
    problems = sum(1 for e in events if e["kind"] == "exchange" and e["entry"]["problem"])
    return render_template(
        "ui/payment.html",
        view=view,
        timeline=events,
        problems=problems,
        view_json=json.dumps(
            {k: v for k, v in view.items() if k != "exchanges"}, indent=2, ensure_ascii=False
        ),
        **sim_context(),
    )
