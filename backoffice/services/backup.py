"""Backups and restores of the store's database."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from backoffice.db.engine import Database
from backoffice.db.sqlite_copy import copy_database
from backoffice.errors import UserError
from backoffice.paths import backup_dir


def backup_sqlite(db: Database, out: Path) -> Path:
    """Copy a live SQLite database with the online backup API (safe while in use)."""
    if not db.sqlite_path:
        raise UserError(
            f"{db.display_url} is not a SQLite file; back up PostgreSQL with pg_dump "
            "(see README, 'Backups')."
        )
    return copy_database(db.sqlite_path, out)


def restore_sqlite(db: Database, backup: Path) -> Path:
    """Replace the live SQLite database with ``backup`` after checking it is one of ours.

    The current database is first saved beside it, so a wrong restore can be undone."""
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


def daily_backup(db: Database, *, keep_days: int = 14, today: date | None = None) -> Path | None:
    """Once a day, a copy of the SQLite database in the backup folder; copies older than
    ``keep_days`` are removed. Returns the new copy, or None when today's already exists
    (or the database is not SQLite: PostgreSQL is backed up with pg_dump, see README)."""
    if not db.sqlite_path:
        return None
    today = today or datetime.now(UTC).date()
    folder = backup_dir()
    target = folder / f"daily-{today:%Y%m%d}.sqlite"
    made = None if target.exists() else backup_sqlite(db, target)
    for old in folder.glob("daily-*.sqlite"):
        stamp = old.stem.removeprefix("daily-")
        if stamp.isdigit() and len(stamp) == 8:
            taken = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
            if (today - taken).days > keep_days:
                old.unlink()
    return made


def pg_dump_available() -> str | None:
    """Path of pg_dump when installed (PostgreSQL stores back up with it)."""
    return shutil.which("pg_dump")
