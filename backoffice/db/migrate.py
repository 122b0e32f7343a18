"""Alembic driven from code: no alembic.ini at run time, a backup before every upgrade."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from backoffice.db.engine import Database
from backoffice.db.sqlite_copy import copy_database
from backoffice.paths import backup_dir, migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("db")


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = db.engine
    return cfg


def head_revision(db: Database) -> str | None:
    """The newest revision. Revisions are named ``NNNN_title.py`` with id ``NNNN`` in one
    linear chain (tests/unit/test_schema.py holds Alembic to that), so the head is read from
    the file names: start-up need not import Alembic (≈0.2 s) just to learn nothing changed."""
    ids = sorted(p.name.split("_", 1)[0] for p in (migrations_dir() / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return ids[-1] if ids else None


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_at_head(db: Database) -> bool:
    return current_revision(db) == head_revision(db)


def upgrade(db: Database, *, backup: bool = True) -> Path | None:
    """Bring the schema to head. An existing SQLite file with data is backed up first;
    the backup's path is returned (None when nothing needed backing up)."""
    if is_at_head(db):
        return None
    saved = None
    if backup and db.sqlite_path and current_revision(db) is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        saved = copy_database(db.sqlite_path, backup_dir() / f"pre-migration-{stamp}.sqlite")
        log.info("backed up %s to %s before migrating", db.sqlite_path, saved)
    from alembic import command

    command.upgrade(alembic_config(db), "head")
    log.info("database at revision %s", head_revision(db))
    return saved
