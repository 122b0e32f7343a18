"""The database's own troubles are plain errors: busy, disk full, read-only, damaged and a
missing store each give one sentence (CLI: exit 1, no traceback), nothing half-written; a
daily backup is complete or absent; text is checked at the database boundary."""

from __future__ import annotations

import errno
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.db.errors import (
    DatabaseTrouble,
    collision,
    collision_message,
    known_error,
)
from backoffice.db.models import PosImport, PosSaleLine
from backoffice.errors import ValidationError
from backoffice.services import backup, sales_import
from backoffice.services.actor import SYSTEM, Actor
from tests.conftest import make_users
from tests.unit.cli_signin import signin


def _operational(message: str) -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("message", "kind", "words"),
    [
        ("database is locked", "locked", "is busy: another program is writing to it"),
        ("database or disk is full", "disk_full", "is full. Nothing was saved"),
        ("attempt to write a readonly database", "read_only", "can only be read, not written"),
        ("database disk image is malformed", "corrupt", "is damaged and cannot be read"),
        ("no such table: store_settings", "no_tables", "is not a Vault Workstation store"),
        ("unable to open database file", "unreachable", "Cannot reach"),
        ("canceling statement due to lock timeout", "locked", "try again in a moment"),
        ('could not extend file "base/16384/2619": No space left on device', "disk_full", "is full"),
    ],
)
def test_driver_errors_become_one_sentence(message: str, kind: str, words: str) -> None:
    trouble = known_error(_operational(message), "/srv/store.sqlite")
    assert isinstance(trouble, DatabaseTrouble) and trouble.kind == kind
    assert words in str(trouble) and "\n" not in str(trouble) and "Traceback" not in str(trouble)


def test_os_errors_and_bugs() -> None:
    assert known_error(OSError(errno.ENOSPC, "No space left on device", "/backups/x")).kind == "disk_full"
    assert known_error(OSError(errno.EROFS, "Read-only file system")).kind == "read_only"
    assert known_error(ValueError("database is locked")) is None  # only the database's own errors
    assert known_error(KeyError("x")) is None


def test_a_busy_database_names_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    sqlite3.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys, time\n"
                f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
                "c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep(30)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        trouble = known_error(_operational("database is locked"), str(path))
        assert trouble is not None and f"(process {holder.pid})" in str(trouble)
    finally:
        holder.kill()
        holder.communicate()


def test_cli_says_one_sentence_for_a_damaged_or_read_only_store(
    tmp_path: Path, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_users(sqlite_db)
    signed_in = signin(monkeypatch, "admin")
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database, it was overwritten" * 100)
    assert main(["--db", f"sqlite:///{damaged}", *signed_in, "pos-layout", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {damaged} is damaged and cannot be read.") and "Traceback" not in err

    fresh = tmp_path / "empty.sqlite"
    assert main(["--db", f"sqlite:///{fresh}", *signed_in, "pos-layout", "list"]) == 1
    assert "is not a Vault Workstation store" in capsys.readouterr().err

    assert sqlite_db.sqlite_path is not None
    read_only = f"sqlite:///file:{sqlite_db.sqlite_path}?mode=ro&uri=true"
    sample = Path(__file__).parents[1] / "samples" / "pos_sales_export_a.csv"
    assert main(["--db", read_only, *signed_in, "import", "pos-sales", str(sample)]) == 1
    err = capsys.readouterr().err
    assert "can only be read, not written" in err and "Traceback" not in err
    with sqlite_db.read() as session:
        assert session.scalar(select(PosImport)) is None  # nothing half-written


def test_daily_backup_is_renamed_only_when_complete(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "backups"
    monkeypatch.setattr(backup, "backup_dir", lambda: folder)
    today = datetime.now(UTC).date()

    class FullDisk:
        def __init__(self, real: sqlite3.Connection) -> None:
            self.real = real

        def backup(self, target: sqlite3.Connection) -> None:
            target.execute("CREATE TABLE half (x)")  # some pages reach the file, then the disk fills
            raise sqlite3.OperationalError("database or disk is full")

        def close(self) -> None:
            self.real.close()

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3,
        "connect",
        lambda path, *a, **k: (
            FullDisk(real_connect(path, *a, **k)) if str(path) == sqlite_db.sqlite_path else real_connect(path, *a, **k)
        ),
    )
    with pytest.raises(sqlite3.OperationalError) as caught:
        backup.daily_backup(sqlite_db, SYSTEM, today=today)
    assert known_error(caught.value, str(folder)).kind == "disk_full"
    assert list(folder.iterdir()) == []  # no partial file that would count as today's backup
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    made = backup.daily_backup(sqlite_db, SYSTEM, today=today)
    assert made == folder / f"daily-{today:%Y%m%d}.sqlite" and sorted(p.name for p in folder.iterdir()) == [made.name]
    with sqlite3.connect(made) as copy:
        assert copy.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_text_is_checked_at_the_database_boundary(db: Database, actors: dict[str, Actor]) -> None:
    too_long = r"the file name '.*' \(pos_imports\) is 300 characters long; at most 260 fit"
    with pytest.raises(ValidationError, match=too_long), db.transaction() as session:
        session.add(
            PosImport(file_name="x" * 300, file_sha256="0" * 64, layout="export-a", line_count=0, imported_by_id=None)
        )
    with (
        pytest.raises(ValidationError, match=r"the layout \(pos_imports\) holds a NUL character"),
        db.transaction() as session,
    ):
        session.execute(
            insert(PosImport), [{"file_name": "a.csv", "file_sha256": "1" * 64, "layout": "a\x00b", "line_count": 0}]
        )
    with db.read() as session:
        assert session.scalar(select(PosImport)) is None


def test_a_collision_says_what_collided(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    result = sales_import.import_pos_file(db, actors["alex"], samples / "pos_sales_export_a.csv")
    with db.read() as session:
        line = session.scalars(select(PosSaleLine)).first()
    assert line is not None
    row = {
        "import_id": result.import_id,
        "receipt_number": line.receipt_number,
        "line_key": line.line_key,
        "sold_at": line.sold_at,
        "business_date": line.business_date,
        "product_name": "",
        "quantity": line.quantity,
        "unit": line.unit,
        "amount": line.amount,
    }
    with pytest.raises(IntegrityError) as same, db.transaction() as session:
        session.execute(insert(PosSaleLine), [row])
    table, columns, _ = collision(same.value)
    assert table == "pos_sale_lines" and "line_key" in columns
    assert collision_message(same.value, "same moment", ours=("line_key",)) == "same moment"
    with pytest.raises(IntegrityError) as key, db.transaction() as session:
        session.execute(insert(PosSaleLine), [{**row, "id": line.id, "line_key": "other"}])
    message = collision_message(key.value, "same moment", ours=("line_key",))
    assert message.startswith("The database refused a duplicate in pos_sale_lines (id)")
    assert "id counter is behind" in message
