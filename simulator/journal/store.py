"""`Journal`: records and queries exchanges in the shared `journal_entries` table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from simulator.db import raw, read
from simulator.journal.table import (
    DEFAULT_BODY_LIMIT,
    DIRECTIONS,
    FIELDS,
    JSON_COLUMNS,
    REQUIRED,
    SIGNATURE_VERDICTS,
    bounded_text,
    headers_json,
    is_problem,
    journal_entries,
    violations_json,
)


class Journal:
    """Records and queries exchanges in the `journal_entries` table (shared by all workers)."""

    def __init__(
        self, engine: Engine, clock: Any, limit: int = 10_000, body_limit: int = DEFAULT_BODY_LIMIT
    ) -> None:
        if limit < 1:
            raise ValueError("journal_limit must be at least 1")
        self.engine = engine
        self.clock = clock
        self.limit = limit
        self.body_limit = body_limit
        # Old rows are deleted in batches (one range delete every `_trim_every` inserts); queries
        # hide the few extra rows, so callers always see exactly the newest `limit` entries.
        self._trim_every = max(1, min(100, limit // 10))
        self._insert = insert(journal_entries)
        # On SQLite the insert runs on a raw pooled connection with SQL compiled once by
        # SQLAlchemy: the Core execution path costs more than the write itself (~0.4 ms).
        self._sqlite_insert = (
            str(
                self._insert.compile(
                    dialect=sqlite_dialect(paramstyle="named"),
                    column_keys=[c.name for c in journal_entries.c if c.name != "id"],
                )
            )
            if self.engine.dialect.name == "sqlite"
            else None
        )

    def record(self, **fields: Any) -> int:
        """Store one exchange (fields as in docs/ARCHITECTURE.md); returns its id."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown journal fields: {sorted(unknown)}")
        missing = [name for name in REQUIRED if not fields.get(name)]
        if missing:
            raise TypeError(f"journal entry needs {missing}")
        if fields["direction"] not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {fields['direction']!r}")
        signature = fields.get("signature") or "not-checked"
        if signature not in SIGNATURE_VERDICTS:
            raise ValueError(f"signature must be one of {SIGNATURE_VERDICTS}, not {signature!r}")
        row = {
            "time": self.clock.now().isoformat(timespec="microseconds"),
            "direction": fields["direction"],
            "api": fields["api"],
            "client_id": fields.get("client_id"),
            "payment_request_id": fields.get("payment_request_id"),
            "refund_request_id": fields.get("refund_request_id"),
            "method": fields.get("method") or "POST",
            "path": fields["path"],
            "url": fields.get("url"),
            "request_headers": headers_json(fields.get("request_headers")),
            "request_body": bounded_text(fields.get("request_body"), self.body_limit) or "",
            "response_status": fields.get("response_status"),
            "response_headers": headers_json(fields.get("response_headers")),
            "response_body": bounded_text(fields.get("response_body"), self.body_limit),
            "latency_ms": float(fields.get("latency_ms") or 0.0),
            "signature": signature,
            "request_violations": violations_json(fields.get("request_violations")),
            "response_violations": violations_json(fields.get("response_violations")),
            "result_status": fields.get("result_status"),
            "result_code": fields.get("result_code"),
            "error": bounded_text(fields.get("error"), self.body_limit),
            "note": fields.get("note"),
        }
        row["problem"] = is_problem(
            {
                **row,
                # the JSON text of an empty list is "[]"; anything else lists violations
                "request_violations": row["request_violations"] != "[]",
                "response_violations": row["response_violations"] != "[]",
            }
        )
        if self._sqlite_insert is not None:
            entry_id = self._record_sqlite(row)
        else:
            with self.engine.begin() as conn:
                entry_id = int(conn.execute(self._insert, row).inserted_primary_key[0])
                if self._due_for_trim(entry_id):
                    conn.execute(self._trim_statement(entry_id))
        if has_request_context():
            # Fault injection (simulator.faults) asks which entry its request produced, to
            # amend it with what was really sent.
            ids = g.get("aplus_sim_journal_ids")
            if ids is not None:
                ids.append(entry_id)
        return entry_id

    def amend(self, entry_id: int, **fields: Any) -> None:
        """Overwrite fields of a recorded exchange (what an injected fault really sent)."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown journal fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("request_headers", "response_headers"):
                values[name] = headers_json(value)
            elif name in ("request_violations", "response_violations"):
                values[name] = violations_json(value)
            elif name in ("request_body", "response_body", "error"):
                values[name] = bounded_text(value, self.body_limit)
            else:
                values[name] = value
        values["problem"] = True
        with self.engine.begin() as conn:
            conn.execute(
                journal_entries.update().where(journal_entries.c.id == entry_id).values(**values)
            )

    def _record_sqlite(self, row: dict[str, Any]) -> int:
        with raw(self.engine) as conn:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.execute(self._sqlite_insert, row)
                entry_id = int(cur.lastrowid)
                if self._due_for_trim(entry_id):
                    cur.execute(
                        "DELETE FROM journal_entries WHERE id <= ?", (entry_id - self.limit,)
                    )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()
        return entry_id

    def _due_for_trim(self, entry_id: int) -> bool:
        # Ids only grow, so everything at or below (new id - limit) is older than the newest
        # `limit` entries: one indexed range delete every few inserts.
        return entry_id > self.limit and entry_id % self._trim_every == 0

    def _trim_statement(self, entry_id: int):
        return delete(journal_entries).where(journal_entries.c.id <= entry_id - self.limit)

    def _visible(self):
        """Only the newest `limit` ids count (rows past the bound wait for the next batch trim)."""
        newest = select(func.max(journal_entries.c.id)).scalar_subquery()
        return journal_entries.c.id > newest - self.limit

    def query(
        self,
        api: str | None = None,
        client_id: str | None = None,
        payment_request_id: str | None = None,
        problems_only: bool = False,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Entries matching every given filter, newest first (before_id: only older than it)."""
        stmt = (
            select(journal_entries)
            .where(self._visible())
            .order_by(journal_entries.c.id.desc())
            .limit(max(0, limit))
        )
        if api:
            stmt = stmt.where(journal_entries.c.api == api)
        if client_id:
            stmt = stmt.where(journal_entries.c.client_id == client_id)
        if payment_request_id:
            stmt = stmt.where(journal_entries.c.payment_request_id == payment_request_id)
        if problems_only:
            stmt = stmt.where(journal_entries.c.problem.is_(True))
        if before_id is not None:
            stmt = stmt.where(journal_entries.c.id < before_id)
        return self._select(stmt)

    def get(self, entry_id: int) -> dict[str, Any] | None:
        """One entry by id, or None."""
        found = self._select(
            select(journal_entries).where(journal_entries.c.id == entry_id, self._visible())
        )
        return found[0] if found else None

    def latest(self, direction: str, client_id: str | None = None) -> dict[str, Any] | None:
        """The newest entry in one direction ("inbound" or "outbound"), or None."""
        stmt = (
            select(journal_entries)
            .where(journal_entries.c.direction == direction, self._visible())
            .order_by(journal_entries.c.id.desc())
            .limit(1)
        )
        if client_id:
            stmt = stmt.where(journal_entries.c.client_id == client_id)
        found = self._select(stmt)
        return found[0] if found else None

    def count(self) -> int:
        """How many entries are kept."""
        with read(self.engine) as conn:
            stmt = select(func.count()).select_from(journal_entries).where(self._visible())
            return int(conn.execute(stmt).scalar())

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        with self.engine.begin() as conn:
            return conn.execute(delete(journal_entries)).rowcount

    def _select(self, stmt) -> list[dict[str, Any]]:
        with read(self.engine) as conn:
            rows = conn.execute(stmt).mappings().all()
        return [self._entry(row) for row in rows]

    @staticmethod
    def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
        entry = dict(row)
        for name in JSON_COLUMNS:
            entry[name] = json.loads(entry[name])
        entry["problem"] = bool(entry["problem"])
        return entry
