"""SQLite's log is copied into the database file after a write, off the writer's thread."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from backoffice.db.checkpoint import Checkpointer
from backoffice.db.engine import Database


def _in_main_file(path: str) -> list[str]:
    """The store_settings keys the database file itself holds: a copy of the file alone,
    without its -wal log."""
    copy = Path(f"{path}.file-only")
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return [k for (k,) in conn.execute("SELECT key FROM store_settings WHERE key LIKE 'checkpoint-%'")]
    finally:
        conn.close()


def _write(db: Database, key: str) -> None:
    with db.transaction() as session:
        session.execute(text("INSERT INTO store_settings (key, value) VALUES (:k, 'x')"), {"k": key})


def test_a_committed_write_reaches_the_database_file(sqlite_db: Database) -> None:
    path = sqlite_db.sqlite_path
    assert path is not None
    # an outside connection stays open, so closing the pool is not the last close (which
    # checkpoints by itself): only the checkpointer can have copied the write
    outside = sqlite3.connect(path)
    outside.execute("SELECT count(*) FROM sqlite_master").fetchone()  # really opened, and no transaction left
    try:
        _write(sqlite_db, "checkpoint-1")
        sqlite_db.dispose()  # waits for the checkpoint under way
        assert _in_main_file(path) == ["checkpoint-1"]
        assert not [t for t in threading.enumerate() if t.name == "sqlite-checkpoint"]
        _write(sqlite_db, "checkpoint-2")  # the database opens again and checkpoints again
        sqlite_db.dispose()
        assert sorted(_in_main_file(path)) == ["checkpoint-1", "checkpoint-2"]
    finally:
        outside.close()


def test_the_commit_itself_does_not_checkpoint(sqlite_db: Database) -> None:
    with sqlite_db.read() as session:
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        assert session.execute(text("PRAGMA journal_size_limit")).scalar() == 64 * 1024 * 1024


def test_a_rolled_back_write_starts_no_checkpoint(sqlite_db: Database) -> None:
    started = []
    checkpointer = sqlite_db._checkpointer
    assert checkpointer is not None
    original = checkpointer.after_write
    checkpointer.after_write = lambda: started.append(1) or original()  # type: ignore[method-assign]
    try:
        with sqlite_db.transaction() as session:
            session.execute(text("INSERT INTO store_settings (key, value) VALUES ('checkpoint-x', 'x')"))
            raise RuntimeError("the write fails")
    except RuntimeError:
        pass
    assert started == []
    _write(sqlite_db, "checkpoint-y")
    assert started == [1]


def test_a_checkpoint_that_cannot_run_is_logged_not_raised(tmp_path: Path, caplog: object) -> None:
    missing_dir = tmp_path / "gone" / "store.sqlite"
    checkpointer = Checkpointer(str(missing_dir))
    checkpointer.after_write()
    checkpointer.close()
    assert "did not run" in caplog.text  # type: ignore[attr-defined]
