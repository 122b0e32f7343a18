"""Backups and restores of the store's database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from backoffice.db.engine import Database
from backoffice.errors import UserError


def backup_sqlite(db: Database, out: Path) -> Path:
    """Copy a live SQLite database with the online backup API (safe while in use)."""
    if not db.sqlite_path:
        raise UserError(
            f"{db.display_url} is not a SQLite file; back up PostgreSQL with pg_dump "
            "(see README, 'Backups')."
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        raise UserError(f"{out} already exists; choose another file name.")
    src = sqlite3.connect(db.sqlite_path)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return out


def restore_sqlite(db: Database, backup: Path) -> Path:
    """Replace the live SQLite database with ``backup`` after checking it is one of ours.

    The current database is first saved beside it, so a wrong restore can be undone."""
    from datetime import UTC, datetime

    if not db.sqlite_path:
        raise UserError(f"{db.display_url} is not a SQLite file; restore PostgreSQL with pg_restore.")
    backup = Path(backup)
    if not backup.is_file():
        raise UserError(f"{backup} does not exist.")
    _check_is_store(backup)
    db.dispose()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = backup_sqlite(db, Path(db.sqlite_path).with_name(f"before-restore-{stamp}.sqlite"))
    src = sqlite3.connect(backup)
    dst = sqlite3.connect(db.sqlite_path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return kept


def _check_is_store(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
            conn.execute("SELECT count(*) FROM audit_events").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise UserError(f"{path} is not a Vault Workstation database backup; nothing was restored.") from None
