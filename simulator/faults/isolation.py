"""Isolation: forgetting one wallet's state (POST /_sim/reset?clientId=)."""

from __future__ import annotations

import json
from typing import Protocol

from sqlalchemy import Engine, delete, select

from simulator.db import metadata
from simulator.payment_records import payments_table
from simulator.scheduler import jobs_table


class _HasEngine(Protocol):
    engine: Engine


def reset_client(sim: _HasEngine, client_id: str) -> dict[str, int]:
    """Forget one wallet's payments, refunds, cancellations, jobs, journal and rules.

    Every table with a `client_id` column is scoped by it; a job is the wallet's when its
    payload names one of the wallet's payments or refunds. Participants and keys are kept.
    """
    deleted: dict[str, int] = {}
    with sim.engine.begin() as conn:
        payment_ids = set(
            conn.execute(
                select(payments_table.c.payment_request_id).where(
                    payments_table.c.client_id == client_id
                )
            ).scalars()
        )
        refund_ids: set[str] = set()
        for table in metadata.sorted_tables:
            if (
                "refund_request_id" in table.c
                and "client_id" in table.c
                and table.name != ("journal_entries")
            ):
                refund_ids |= set(
                    conn.execute(
                        select(table.c.refund_request_id).where(table.c.client_id == client_id)
                    ).scalars()
                )
        doomed = []
        for job_id, payload in conn.execute(select(jobs_table.c.id, jobs_table.c.payload)):
            data = json.loads(payload)
            if data.get("paymentRequestId") in payment_ids or data.get("refundRequestId") in (
                refund_ids
            ):
                doomed.append(job_id)
        if doomed:
            deleted["sim_jobs"] = conn.execute(
                delete(jobs_table).where(jobs_table.c.id.in_(doomed))
            ).rowcount
        for table in reversed(metadata.sorted_tables):
            if table.name in ("participants", "sim_jobs") or "client_id" not in table.c:
                continue
            count = conn.execute(delete(table).where(table.c.client_id == client_id)).rowcount
            if count:
                deleted[table.name] = count
    return deleted
