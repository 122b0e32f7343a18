"""Alembic driven from code: no alembic.ini at run time, a backup before every upgrade."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from backoffice.db.engine import Database
from backoffice.paths import backup_dir, migrations_dir

log = logging.getLogger("db")


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = db.engine
    return cfg


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(db: Database) -> bool:
    return current_revision(db) == head_revision(db)


def upgrade(db: Database, *, backup: bool = True) -> Path | None:
    """Bring the schema to head. An existing SQLite file with data is backed up first;
    the backup's path is returned (None when nothing needed backing up)."""
    if is_at_head(db):
        return None
    saved = None
    if backup and db.sqlite_path and current_revision(db) is not None:
        from backoffice.services.backup import backup_sqlite

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        saved = backup_sqlite(db, backup_dir() / f"pre-migration-{stamp}.sqlite")
        log.info("backed up %s to %s before migrating", db.sqlite_path, saved)
    command.upgrade(alembic_config(db), "head")
    log.info("database at revision %s", head_revision(db))
    return saved
