"""The database's own troubles as errors a person can act on.

A database held by another program, a full disk, a read-only file, a damaged file or an
unreachable server are not bugs: ``known_error`` turns what SQLAlchemy, sqlite3, psycopg
and the OS raise for them into a ``DatabaseTrouble`` with one plain sentence. The CLI's
``main`` and the GUI's error display both call it, so each trouble is worded once. A
transaction that fails so is rolled back whole: nothing is half-written.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from backoffice.errors import UserError

_AGAIN = "Nothing was saved; try again in a moment."


class DatabaseTrouble(UserError):
    """The database cannot do what was asked right now; ``kind`` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# (kind, words in the driver's message): SQLite's result codes and PostgreSQL's messages
_SIGNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "locked",
        (
            "database is locked",
            "database table is locked",
            "database schema is locked",
            "lock timeout",
            "could not obtain lock",
            "deadlock detected",
            "canceling statement due to lock",
        ),
    ),
    ("disk_full", ("database or disk is full", "no space left on device", "could not extend file", "disk full")),
    (
        "read_only",
        (
            "attempt to write a readonly database",
            "read-only transaction",
            "readonly database",
            "read-only file system",
            "permission denied",
        ),
    ),
    (
        "corrupt",
        (
            "database disk image is malformed",
            "file is not a database",
            "file is encrypted or is not a database",
            "invalid page",
            "could not read block",
        ),
    ),
    ("no_tables", ("no such table", 'relation "')),
    (
        "unreachable",
        (
            "unable to open database file",
            "connection refused",
            "could not connect",
            "server closed the connection",
            "could not translate host name",
            "timeout expired",
            "connection timed out",
        ),
    ),
)
_ERRNOS = {errno.ENOSPC: "disk_full", errno.EROFS: "read_only", errno.EACCES: "read_only", errno.EDQUOT: "disk_full"}


def known_error(exc: BaseException, where: str = "the store's database") -> DatabaseTrouble | None:
    """The plain-language error for a database or disk trouble, or None when ``exc`` is not one."""
    if isinstance(exc, DatabaseTrouble):
        return exc
    if isinstance(exc, IntegrityError):
        return None  # a collision is a service's to word: see ``collision``
    if isinstance(exc, OSError) and exc.errno in _ERRNOS:
        return DatabaseTrouble(_ERRNOS[exc.errno], _sentence(_ERRNOS[exc.errno], exc.filename or where))
    if not isinstance(exc, SQLAlchemyError | sqlite3.Error) and type(exc).__module__.split(".")[0] != "psycopg":
        return None
    text = str(getattr(exc, "orig", None) or exc).casefold()
    for kind, signs in _SIGNS:
        if any(sign in text for sign in signs):
            return DatabaseTrouble(kind, _sentence(kind, where))
    return None


def _sentence(kind: str, where: str) -> str:
    path = Path(where) if os.sep in where or where.endswith((".sqlite", ".db")) else None
    if kind == "locked":
        holders = _holders(path) if path else []
        who = (
            f" ({', '.join(holders)} has it open)"
            if holders
            else " (another Vault Workstation, a backup or a database tool)"
        )
        return f"{where} is busy: another program is writing to it{who}. {_AGAIN}"
    if kind == "disk_full":
        return (
            f"The disk holding {where} is full. Nothing was saved; free some space (old backups, downloads) "
            "and try again."
        )
    if kind == "read_only":
        return (
            f"{where} can only be read, not written (a read-only file, folder or disk, or no permission). "
            "Nothing was saved; ask the administrator to make it writable."
        )
    if kind == "corrupt":
        return (
            f"{where} is damaged and cannot be read. Nothing was saved; restore the latest backup "
            "(backoffice restore) and tell the administrator."
        )
    if kind == "no_tables":
        return f"{where} is not a Vault Workstation store (its tables are missing); set it up, or pick the right one."
    return f"Cannot reach {where}: the file or the database server is not available. {_AGAIN}"


def _holders(path: Path) -> list[str]:
    """Names of the other processes that have ``path`` open (Linux; empty elsewhere or when unknown)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    try:
        target = path.resolve()
        me = os.getpid()
        names: list[str] = []
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                if any(Path(os.readlink(fd)) == target for fd in (entry / "fd").iterdir()):
                    names.append(f"{(entry / 'comm').read_text().strip()} (process {entry.name})")
            except OSError:
                continue
            if len(names) >= 3:
                break
        return names
    except OSError:
        return []


def collision(exc: IntegrityError) -> tuple[str, str, str]:
    """What a unique or key constraint refused: (table, columns, the database's detail)."""
    orig: Any = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg names the constraint and the key
        table = diag.table_name or ""
        constraint = diag.constraint_name or ""
        detail = diag.message_detail or diag.message_primary or str(orig)
        columns = detail.split("(", 1)[1].split(")", 1)[0] if detail.startswith("Key (") else constraint
        return table, columns, detail
    text = str(orig)
    if ":" in text and "constraint failed" in text:  # SQLite: UNIQUE constraint failed: t.a, t.b
        names = [name.strip() for name in text.split(":", 1)[1].split(",")]
        table = names[0].split(".")[0] if names else ""
        return table, ", ".join(name.split(".")[-1] for name in names), text
    return "", "", text


def collision_message(exc: IntegrityError, same_moment: str, *, ours: tuple[str, ...]) -> str:
    """``same_moment`` when the collision is on one of ``ours`` (columns a concurrent import of
    the same data collides on); otherwise a sentence naming the table, the key and the value."""
    table, columns, detail = collision(exc)
    if any(column in columns for column in ours):
        return same_moment
    where = f"{table} ({columns})" if table else columns or "a unique key"
    hint = (
        " The table's id counter is behind its rows: ask the administrator to advance the sequence."
        if columns.strip() == "id" or columns.endswith("_pkey")
        else ""
    )
    return f"The database refused a duplicate in {where}: {detail}. Nothing was saved.{hint}"
