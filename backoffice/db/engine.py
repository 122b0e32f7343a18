"""The database handle: engine, sessions, and the one way to open a write transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import text_guard
from backoffice.db.checkpoint import JOURNAL_SIZE_LIMIT, Checkpointer

log = logging.getLogger("db")


class Database:
    """One per process. ``transaction()`` is a service call's unit of work: the change, its
    ledger rows and its audit event commit together or not at all."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.engine = _make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        path = self.sqlite_path
        self._checkpointer = Checkpointer(path) if path else None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for About boxes and logs."""
        return self.url.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> str | None:
        return self.url.database if self.is_sqlite and self.url.database not in (None, "", ":memory:") else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction. On SQLite it starts with BEGIN IMMEDIATE so two writers queue
        instead of failing half-way with "database is locked"."""
        with self._sessions() as session, session.begin():
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session
        self._written()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; it is closed (never committed) at the end, and the objects
        it loaded stay readable afterwards."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def one_transaction(self) -> Iterator[Database]:
        """A view of this database whose every ``transaction()`` and ``read()`` joins one outer
        transaction (each as a savepoint), committed when the block ends and rolled back whole
        if it raises or the process dies: for a build of many service calls that must land
        complete or not at all."""
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield _Joined(self, connection)
        self._written()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()

    def _written(self) -> None:
        """A write committed: copy SQLite's log into the database file, off this thread."""
        if self._checkpointer is not None:
            self._checkpointer.after_write()


class _Joined(Database):
    """Sessions bound to one connection inside its transaction: ``session.begin()`` makes a
    savepoint, so a service's commit releases it and its failure rolls back its part only."""

    def __init__(self, parent: Database, connection: Connection) -> None:  # shares the parent's engine
        self.url = parent.url
        self.engine = parent.engine
        self._sessions = sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
        self._checkpointer = None  # the outer block's commit starts the checkpoint

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:  # the connection belongs to the outer block
        pass


def _make_engine(url: str, *, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    else:
        # the pool hands a connection to one thread at a time; the GUI's worker threads share it
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
    text_guard.install(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, and SQLAlchemy (not pysqlite) in charge of BEGIN."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # Database's checkpointer does it after the commit
            cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
