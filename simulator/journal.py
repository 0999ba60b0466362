"""The journal: every protocol exchange, in both directions, with its verdicts; bounded.

Each inbound call (the wallet calling Alipay+) and each outbound call (Alipay+ calling the
wallet) is one row: raw headers and bodies both ways, latency, the signature verdict, the
contract violations found on the request and on the answer, and the result code. Rows live
in the database so every worker process sees the same journal; only the newest
`config.journal_limit` rows are kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, g, has_request_context, jsonify, request
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from simulator.db import metadata, raw, read
from simulator.state import current

DIRECTIONS = ("inbound", "outbound")
SIGNATURE_VERDICTS = ("valid", "invalid", "missing", "placeholder", "not-checked")
# Verdicts that make an exchange a problem (a placeholder or an unchecked signature is a
# configured choice, not a failure).
BAD_SIGNATURES = frozenset({"invalid", "missing"})
# Bodies beyond this many characters are cut (the journal is bounded in memory and on disk);
# every Alipay+ message is far smaller (the largest field, passThroughInfo, is 20,000).
DEFAULT_BODY_LIMIT = 65_536

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", String(40), nullable=False),  # clock time, ISO 8601 UTC
    Column("direction", String(8), nullable=False),
    Column("api", String(64), nullable=False),
    Column("client_id", String(128)),
    Column("payment_request_id", String(64)),
    Column("refund_request_id", String(64)),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("url", Text),
    Column("request_headers", Text, nullable=False),  # JSON object
    Column("request_body", Text, nullable=False),
    Column("response_status", Integer),
    Column("response_headers", Text, nullable=False),  # JSON object
    Column("response_body", Text),
    Column("latency_ms", Float, nullable=False),
    Column("signature", String(16), nullable=False),
    Column("request_violations", Text, nullable=False),  # JSON list of {pointer, rule, message}
    Column("response_violations", Text, nullable=False),  # JSON list
    Column("result_status", String(4)),
    Column("result_code", String(64)),
    Column("error", Text),
    Column("note", Text),
    Column("problem", Boolean, nullable=False),
    # No AUTOINCREMENT (it costs a write to sqlite_sequence per insert): ids still only grow,
    # because only the oldest rows are deleted; after `clear()` numbering starts again at 1.
)
Index("ix_journal_payment_request_id", journal_entries.c.payment_request_id, journal_entries.c.id)
Index("ix_journal_problem", journal_entries.c.problem, journal_entries.c.id)

_JSON_COLUMNS = ("request_headers", "response_headers", "request_violations", "response_violations")
_FIELDS = (
    "direction",
    "api",
    "client_id",
    "payment_request_id",
    "refund_request_id",
    "method",
    "path",
    "url",
    "request_headers",
    "request_body",
    "response_status",
    "response_headers",
    "response_body",
    "latency_ms",
    "signature",
    "request_violations",
    "response_violations",
    "result_status",
    "result_code",
    "error",
    "note",
)
_REQUIRED = ("direction", "api", "path")
_MAX_QUERY_LIMIT = 1000


def is_problem(entry: Mapping[str, Any]) -> bool:
    """Whether an exchange went wrong: bad signature, violations, F/U result, non-200, or error."""
    return bool(
        entry.get("signature") in BAD_SIGNATURES
        or entry.get("request_violations")
        or entry.get("response_violations")
        or entry.get("result_status") in ("F", "U")
        or entry.get("response_status") != 200
        or entry.get("error")
    )


def _text(value: Any, limit: int) -> str | None:
    """A body as text (bytes decoded leniently), cut to `limit` characters with a marker."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    if len(value) > limit:
        cut = len(value) - limit
        return f"{value[:limit]}\n[... {cut} more characters not kept by the journal]"
    return value


def _headers_json(headers: Any) -> str:
    if not headers:
        return "{}"
    if type(headers) is dict:  # the common case: names are unique already
        return json.dumps(headers, ensure_ascii=False, default=str)
    # werkzeug Headers and requests' CaseInsensitiveDict both iterate as (name, value) pairs
    # through .items(); repeated names are joined as HTTP does.
    merged: dict[str, str] = {}
    for name, value in headers.items():
        merged[name] = f"{merged[name]}, {value}" if name in merged else str(value)
    return json.dumps(merged, ensure_ascii=False)


def _violations_json(violations: Any) -> str:
    if not violations:
        return "[]"
    items = []
    for v in violations:
        if isinstance(v, Mapping):
            items.append(
                {
                    "pointer": v.get("pointer", ""),
                    "rule": v.get("rule", ""),
                    "message": v.get("message", ""),
                }
            )
        else:  # contracts.Violation (a dataclass / named tuple with the same three fields)
            items.append(
                {
                    "pointer": getattr(v, "pointer", ""),
                    "rule": getattr(v, "rule", ""),
                    "message": getattr(v, "message", str(v)),
                }
            )
    return json.dumps(items, ensure_ascii=False)


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
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown journal fields: {sorted(unknown)}")
        missing = [name for name in _REQUIRED if not fields.get(name)]
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
            "request_headers": _headers_json(fields.get("request_headers")),
            "request_body": _text(fields.get("request_body"), self.body_limit) or "",
            "response_status": fields.get("response_status"),
            "response_headers": _headers_json(fields.get("response_headers")),
            "response_body": _text(fields.get("response_body"), self.body_limit),
            "latency_ms": float(fields.get("latency_ms") or 0.0),
            "signature": signature,
            "request_violations": _violations_json(fields.get("request_violations")),
            "response_violations": _violations_json(fields.get("response_violations")),
            "result_status": fields.get("result_status"),
            "result_code": fields.get("result_code"),
            "error": _text(fields.get("error"), self.body_limit),
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
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown journal fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("request_headers", "response_headers"):
                values[name] = _headers_json(value)
            elif name in ("request_violations", "response_violations"):
                values[name] = _violations_json(value)
            elif name in ("request_body", "response_body", "error"):
                values[name] = _text(value, self.body_limit)
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
        for name in _JSON_COLUMNS:
            entry[name] = json.loads(entry[name])
        entry["problem"] = bool(entry["problem"])
        return entry


# --- GET/DELETE /_sim/journal (control plane: plain JSON errors, not protocol results) ---

bp = Blueprint("journal", __name__, url_prefix="/_sim")

_QUERY_PARAMS = ("api", "clientId", "paymentRequestId", "problems", "limit", "before")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class BadQuery(ValueError):
    """A journal query parameter that cannot be understood."""


def parse_query(args: Mapping[str, str]) -> dict[str, Any]:
    """Turn /_sim/journal query parameters into `Journal.query` arguments; raises BadQuery."""
    unknown = sorted(set(args) - set(_QUERY_PARAMS))
    if unknown:
        raise BadQuery(f"unknown parameter(s) {unknown}; known: {list(_QUERY_PARAMS)}")
    problems = args.get("problems", "").strip().lower()
    if problems not in _TRUE + _FALSE:
        raise BadQuery(f"problems must be 1 or 0 (or true/false), not {args['problems']!r}")
    return {
        "api": args.get("api") or None,
        "client_id": args.get("clientId") or None,
        "payment_request_id": args.get("paymentRequestId") or None,
        "problems_only": problems in _TRUE,
        "limit": _int_param(args, "limit", 100, 1, _MAX_QUERY_LIMIT),
        "before_id": _int_param(args, "before", None, 1, None),
    }


def _int_param(
    args: Mapping[str, str], name: str, default: int | None, low: int, high: int | None
) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise BadQuery(f"{name} must be a positive integer, not {raw!r}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadQuery(f"{name} must be {bound}, not {value}")
    return value


def page(journal: Journal, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """One page of entries and the `before` id of the next (older) page, or None at the end."""
    limit = params["limit"]
    entries = journal.query(**{**params, "limit": limit + 1})
    if len(entries) > limit:
        entries = entries[:limit]
        return entries, entries[-1]["id"]
    return entries, None


@bp.get("/journal")
def list_entries():
    """Journal entries, newest first, filtered by api, clientId, paymentRequestId, problems."""
    try:
        params = parse_query(request.args)
    except BadQuery as exc:
        return jsonify({"error": str(exc)}), 400
    entries, next_before = page(current().journal, params)
    return jsonify({"entries": entries, "next": next_before})


@bp.get("/journal/<int:entry_id>")
def get_entry(entry_id: int):
    """One journal entry."""
    entry = current().journal.get(entry_id)
    if entry is None:
        return jsonify(
            {
                "error": f"no journal entry {entry_id} (it may have been dropped: the journal keeps the newest entries only)"
            }
        ), 404
    return jsonify(entry)


@bp.delete("/journal")
def clear_entries():
    """Forget every entry."""
    return jsonify({"deleted": current().journal.clear()})


def init_app(app):
    """Give the app its journal and the /_sim/journal routes."""
    sim = app.extensions["aplus_sim"]
    sim.journal = Journal(
        sim.engine,
        sim.clock,
        limit=int(sim.config.journal_limit),
        body_limit=int(getattr(sim.config, "journal_body_limit", DEFAULT_BODY_LIMIT)),
    )
    app.register_blueprint(bp)
