"""The simulator's database: one SQLAlchemy MetaData, one engine per app."""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.pool import QueuePool


def stamp(when: datetime) -> str:
    """The fixed-width, sortable UTC text a time is stored as."""
    if when.tzinfo is None:
        raise ValueError("stored times need a UTC offset")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def unstamp(value: str) -> datetime:
    """The datetime a stored stamp stands for."""
    return datetime.fromisoformat(value)


# Every table of the simulator is declared on this MetaData (in the module that owns it).
metadata = MetaData()

# Execution option that marks a connection as read-only: on SQLite it runs its statements in
# autocommit mode (each SELECT sees one consistent snapshot on its own) instead of starting a
# BEGIN IMMEDIATE transaction, so readers never queue behind the write lock.
READ_ONLY = "aplus_read_only"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and immediate write transactions."""
    if url.startswith("sqlite"):
        in_memory = ":memory:" in url or url.rstrip("/") == "sqlite:"
        # A file database keeps a small pool of connections: opening one (plus the pragmas)
        # costs more than most requests; a fork()ed worker drops what it inherited.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False, "isolation_level": None},
            **({} if in_memory else {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 32}),
        )
        if not in_memory:
            os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised through use
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised through use
            # BEGIN IMMEDIATE: a transaction that will write takes the lock up front, so two
            # workers never both read "not decoded yet" and then both decode.
            if not conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_pre_ping=True)
    # A pool inherited through fork() must not be shared with the parent (several workers).
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def read(engine: Engine) -> Connection:
    """A connection for single-statement reads (no write lock on SQLite); a context manager."""
    return engine.connect().execution_options(**{READ_ONLY: True})


# Where the DB-API connection of the current request is kept (flask.g), per engine.
_HELD = "aplus_sim_raw_connections"


@contextmanager
def raw(engine: Engine) -> Iterator[Any]:
    """A pooled DB-API connection of an SQLite engine (autocommit: isolation_level None).

    Inside a Flask app context (a request) the first use checks one out and the same one
    serves every later use until the context ends (`release`): a pool checkout costs more
    than most statements of the hot path. Callers leave no transaction open on it.
    """
    if not has_app_context():
        conn = engine.raw_connection()
        try:
            yield conn
        finally:
            conn.close()
        return
    held = g.setdefault(_HELD, {})
    entry = held.get(id(engine))
    if entry is None:
        entry = held[id(engine)] = (engine, engine.raw_connection())
    yield entry[1]


def release(_exc: BaseException | None = None) -> None:
    """teardown_appcontext: give the context's DB-API connections back to their pools."""
    held = g.pop(_HELD, None)
    for _engine, conn in (held or {}).values():
        conn.close()


class FastRead:
    """One prebuilt single-row SELECT for the hot path: on SQLite its SQL is compiled once by
    SQLAlchemy and run on a pooled DB-API connection (autocommit: one consistent snapshot, no
    write lock), ~10x cheaper than the Core execution path; elsewhere it runs through Core.

    `first(**params)` returns None or a row with attribute access and `_mapping`, like Core's.
    Only for tables whose selected columns are text and numbers (SQLite hands back booleans
    as 0/1, which Core would convert).
    """

    def __init__(self, engine: Engine, stmt: Any) -> None:
        self.engine = engine
        self.stmt = stmt
        self.sql: str | None = None
        if engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

            self.sql = str(stmt.compile(dialect=sqlite_dialect(paramstyle="named")))
            self.row = _row_class(tuple(column.key for column in stmt.selected_columns))

    def first(self, **params: Any) -> Any:
        """The first row for `params`, or None."""
        if self.sql is None:
            with read(self.engine) as conn:
                return conn.execute(self.stmt, params).first()
        with raw(self.engine) as conn:
            cur = conn.cursor()
            try:
                cur.execute(self.sql, params)
                found = cur.fetchone()
            finally:
                cur.close()
        return None if found is None else self.row._make(found)


def _row_class(names: tuple[str, ...]) -> Any:
    base = namedtuple("FastRow", names)

    class FastRow(base):
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(self._fields, self, strict=True))

    return FastRow


@contextmanager
def write(engine: Engine) -> Iterator[Any]:
    """A write transaction for `Prepared` statements, committed on leaving (rolled back on an
    exception). SQLite: BEGIN IMMEDIATE ... COMMIT on the request's DB-API connection (`raw`);
    elsewhere an `engine.begin()` Core connection."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with raw(engine) as conn:
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
        finally:
            cur.close()


class Prepared:
    """A statement built once with named `bindparam`s, run inside `write(engine)`: on SQLite
    its SQL is compiled once (see `FastRead`), elsewhere it runs through Core."""

    def __init__(self, engine: Engine, stmt: Any) -> None:
        self.stmt = stmt
        self.sql: str | None = None
        if engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

            compiled = stmt.compile(dialect=sqlite_dialect(paramstyle="named"))
            self.sql = str(compiled)
            self.defaults = dict(compiled.params)  # literals bound by SQLAlchemy (e.g. status_1)
            if getattr(stmt, "is_select", False):
                self.row = _row_class(tuple(column.key for column in stmt.selected_columns))

    def first(self, conn: Any, **params: Any) -> Any:
        """The first row (attribute access and `_mapping`), or None."""
        if self.sql is None:
            return conn.execute(self.stmt, params).first()
        conn.execute(self.sql, {**self.defaults, **params})
        found = conn.fetchone()
        return None if found is None else self.row._make(found)

    def rowcount(self, conn: Any, **params: Any) -> int:
        """Run an INSERT/UPDATE/DELETE; how many rows it changed."""
        if self.sql is None:
            return conn.execute(self.stmt, params).rowcount
        conn.execute(self.sql, {**self.defaults, **params})
        return conn.rowcount
