"""Backups and restores of the store's database.

A backup holds every PIN hash, so taking or restoring one is for administrators. Each
backup records the audit chain head it holds in the anchor file (``audit_anchor``). A
restore accepts only a sound file of this application's schema at a revision it knows,
and writes an audit event into the restored store naming who restored it, from which file,
and the head of the store it replaced.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import inspect

from backoffice.db.engine import Database
from backoffice.db.models import AuditHead, Base
from backoffice.db.sqlite_copy import copy_database
from backoffice.errors import UserError
from backoffice.paths import backup_dir
from backoffice.services import audit
from backoffice.services import audit_anchor as anchors
from backoffice.services.actor import Actor, Permission


def backup_sqlite(db: Database, actor: Actor, out: Path) -> Path:
    """Copy a live SQLite database with the online backup API (safe while in use)."""
    actor.require(Permission.BACKUP_RESTORE)
    if not db.sqlite_path:
        raise UserError(
            f"{db.display_url} is not a SQLite file; back up PostgreSQL with pg_dump (see README, 'Backups')."
        )
    return _anchored(db, copy_database(db.sqlite_path, out))


def _anchored(db: Database, copy: Path) -> Path:
    head = _copy_head(copy)
    if head is not None:
        anchors.append(db.url, "backup", head[0], head[1], note=str(copy))
    return copy


def _copy_head(path: Path) -> tuple[int, str] | None:
    """The chain head in a finished copy (nobody writes it, so it is read as immutable:
    no -wal or -shm files are left beside it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        row = conn.execute("SELECT last_event_id, last_hash FROM audit_head WHERE id = 1").fetchone()
    finally:
        conn.close()
    return None if row is None or not row[0] else (int(row[0]), str(row[1]))


def _head(db: Database) -> tuple[int, str] | None:
    with db.read() as session:
        head = session.get(AuditHead, 1)
        return None if head is None or not head.last_event_id else (head.last_event_id, head.last_hash)


def restore_sqlite(db: Database, actor: Actor, backup: Path) -> Path:
    """Replace the live SQLite database with ``backup`` after checking it; returns where the
    current database was kept, so a wrong restore can be undone."""
    actor.require(Permission.BACKUP_RESTORE)
    if not db.sqlite_path:
        raise UserError(f"{db.display_url} is not a SQLite file; restore PostgreSQL with pg_restore.")
    backup = Path(backup)
    if not backup.is_file():
        raise UserError(f"{backup} does not exist.")
    live = Path(db.sqlite_path)
    revision = _check_sound(db, backup)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    staging = copy_database(backup, live.with_name(f".restoring-{stamp}.sqlite"))
    try:
        restored = _stage(db, staging, actor, backup, revision, _head(db))
        db.dispose()
        kept = copy_database(live, live.with_name(f"before-restore-{stamp}.sqlite"))
        src, dst = sqlite3.connect(staging), sqlite3.connect(live)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    finally:
        for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
            leftover.unlink(missing_ok=True)
    anchors.append(db.url, "restore", restored[0], restored[1], note=f"from {backup.resolve()}")
    return kept


def _refused(backup: Path, why: str) -> UserError:
    return UserError(f"{backup} {why}; nothing was restored.")


def _check_sound(db: Database, backup: Path) -> str:
    """The file passes SQLite's integrity check and carries a schema revision this
    application knows (an older one is upgraded after restoring). Returns the revision."""
    from alembic.script import ScriptDirectory

    from backoffice.db.migrate import alembic_config

    try:
        conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            integrity = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise _refused(backup, "is not a Vault Workstation database backup") from None
    if integrity != ["ok"]:
        first = next(line for line in integrity[0].splitlines() if not line.startswith("***"))
        raise _refused(backup, f"is damaged (SQLite integrity check: {first.strip()})")
    if row is None:
        raise _refused(backup, "is not a Vault Workstation database backup (no schema revision)")
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(db)).walk_revisions()}
    if row[0] not in known:
        raise _refused(
            backup,
            f"has schema revision {row[0]!r}, which this version of Vault Workstation does not "
            "know (a backup from a newer version, or not from this application)",
        )
    return str(row[0])


def _stage(
    db: Database, staging: Path, actor: Actor, backup: Path, revision: str, replaced: tuple[int, str] | None
) -> tuple[int, str]:
    """Bring the staged copy to the current schema, prove its tables are this application's,
    and write the restore's audit event into it. Returns that event's (id, hash)."""
    from backoffice.db.migrate import upgrade

    staged = Database(f"sqlite:///{staging}")
    try:
        try:
            upgrade(staged, backup=False)
        except Exception:  # noqa: BLE001 -- a file that only claims a revision fails its migrations
            raise _refused(backup, f"claims schema revision {revision} but its tables do not match it") from None
        _check_tables(staged, backup)
        backup_head = _head(staged)
        restorer = Actor(None, actor.username, actor.role)  # user ids differ between the two stores
        with staged.transaction() as session:
            session.info[anchors.NO_ANCHOR] = True  # anchored below, in the live store's anchor file
            event = audit.record(
                session,
                restorer,
                "store.restore",
                "store",
                backup.name,
                reason="restored from a backup",
                before={"replaced_head": _head_json(replaced)},
                after={"file": str(backup.resolve()), "revision": revision, "backup_head": _head_json(backup_head)},
            )
        return event.id, event.hash
    finally:
        staged.dispose()


def _head_json(head: tuple[int, str] | None) -> dict[str, object] | None:
    return None if head is None else {"event_id": head[0], "hash": head[1]}


def _check_tables(staged: Database, backup: Path) -> None:
    inspector = inspect(staged.engine)
    have = {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }
    want = {table.name: {c.name for c in table.columns} for table in Base.metadata.sorted_tables}
    if have != want:
        odd = sorted(set(have) ^ set(want)) or sorted(n for n in want if have.get(n) != want[n])
        raise _refused(backup, f"does not hold this application's tables (differs in: {', '.join(odd[:5])})")


def daily_backup(db: Database, actor: Actor, *, keep_days: int = 14, today: date | None = None) -> Path | None:
    """Once a day, a copy of the SQLite database in the backup folder; copies older than
    ``keep_days`` are removed. Returns the new copy, or None when today's already exists
    (or the database is not SQLite: PostgreSQL is backed up with pg_dump, see README)."""
    actor.require(Permission.BACKUP_RESTORE)
    if not db.sqlite_path:
        return None
    today = today or datetime.now(UTC).date()
    folder = backup_dir()
    target = folder / f"daily-{today:%Y%m%d}.sqlite"
    made = None if target.exists() else _anchored(db, copy_database(db.sqlite_path, target))
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
