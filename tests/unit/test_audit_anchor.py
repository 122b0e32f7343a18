"""The audit chain covers the ledger and is anchored outside the database: a package quantity
edited with its ledger row, a rolled-back file, a trimmed tail and a re-hashed chain all fail
verification; backups record their head; a restore made through the product verifies."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, AuditHead, LedgerEntry, Package
from backoffice.domain.enums import LedgerKind
from backoffice.errors import PermissionDenied, UserError
from backoffice.services import audit, audit_anchor, backup, ledger, metrc_packages_import
from backoffice.services.actor import SYSTEM, Actor
from tests.conftest import make_users


def _store(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")


def _events(db: Database, n: int) -> None:
    for i in range(n):
        with db.transaction() as session:
            audit.record(session, SYSTEM, "test.event", "thing", i, after={"n": i})


def _problems(db: Database) -> list[str]:
    report = audit.verify(db, SYSTEM)
    return report.problems


def test_a_package_edited_with_its_ledger_row_fails(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    _store(db, actors, samples)
    assert _problems(db) == [] and ledger.check_balances(db, SYSTEM) == []
    with db.engine.begin() as conn:  # balances still agree, as a careful forger would leave them
        package_id, quantity = conn.execute(text("SELECT id, quantity FROM packages ORDER BY id LIMIT 1")).one()
        conn.execute(text("UPDATE packages SET quantity = quantity - 9000 WHERE id = :id"), {"id": package_id})
        conn.execute(
            text("UPDATE stock_ledger SET quantity_delta = quantity_delta - 9000 WHERE package_id = :id"),
            {"id": package_id},
        )
    assert ledger.check_balances(db, SYSTEM) == []
    problems = _problems(db)
    assert any("a ledger row written with it was" in p for p in problems), problems


def test_a_ledger_row_added_by_hand_fails(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    _store(db, actors, samples)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO stock_ledger (package_id, at, kind, quantity_delta, unit, doc_type, note) "
                "SELECT package_id, at, kind, quantity_delta, unit, doc_type, 'forged' FROM stock_ledger LIMIT 1"
            )
        )
    assert any("not covered by any audit event" in p for p in _problems(db))


def test_each_commit_anchors_the_head_outside_the_database(sqlite_db: Database) -> None:
    _events(sqlite_db, 3)
    path = audit_anchor.anchor_path(sqlite_db.url)
    assert path.parent == Path(sqlite_db.sqlite_path or "").parent  # beside the store
    anchors, problems = audit_anchor.read(sqlite_db.url)
    assert problems == [] and [(a.kind, a.event_id) for a in anchors] == [("head", 1), ("head", 2), ("head", 3)]
    with pytest.raises(RuntimeError):
        with sqlite_db.transaction() as session:
            audit.record(session, SYSTEM, "test.event", "thing", "rolled back")
            raise RuntimeError("the service failed")
    assert len(audit_anchor.read(sqlite_db.url)[0]) == 3  # a rolled-back head is never anchored


def test_the_anchor_can_live_on_a_share(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    share = tmp_path / "share"
    share.mkdir()
    monkeypatch.setenv("BACKOFFICE_AUDIT_ANCHOR", str(share))
    _events(sqlite_db, 2)
    (anchor,) = share.iterdir()
    assert anchor.name.startswith("audit-anchor-") and len(anchor.read_text().splitlines()) == 2


def test_an_older_copy_over_the_live_file_fails(sqlite_db: Database, tmp_path: Path) -> None:
    _events(sqlite_db, 2)
    live = Path(sqlite_db.sqlite_path or "")
    sqlite_db.dispose()
    old = tmp_path / "old.sqlite"
    shutil.copyfile(live, old)
    _events(sqlite_db, 3)
    sqlite_db.dispose()
    shutil.copyfile(old, live)  # no -wal left behind: the file is the whole store
    problems = _problems(sqlite_db)
    assert problems and problems[0].startswith("audit event 3 was anchored as the chain head")


def test_a_trimmed_tail_fails(sqlite_db: Database) -> None:
    _events(sqlite_db, 5)
    with sqlite_db.engine.begin() as conn:  # delete the newest two and move the head back, as an attacker would
        conn.execute(text("DELETE FROM audit_events WHERE id > 3"))
        conn.execute(
            text("UPDATE audit_head SET last_event_id = 3, last_hash = (SELECT hash FROM audit_events WHERE id = 3)")
        )
    problems = _problems(sqlite_db)
    assert problems == [problems[0]] and "audit event 4 was anchored" in problems[0]


def test_a_rehashed_chain_fails_naming_the_first_anchored_event_that_differs(sqlite_db: Database) -> None:
    _events(sqlite_db, 5)
    with sqlite_db.transaction() as session:  # edit event 3 and re-hash everything from there on
        prev = session.get(AuditEvent, 2).hash
        for ev in session.scalars(select(AuditEvent).where(AuditEvent.id >= 3).order_by(AuditEvent.id)):
            if ev.id == 3:
                ev.after = '{"n":99}'
            ev.prev_hash = prev
            ev.hash = prev = audit._digest(
                ev.id, ev.at, ev.username, ev.action, ev.entity_type, ev.entity_id, ev.before, ev.after, ev.reason, prev
            )
        session.get(AuditHead, 1).last_hash = prev
    problems = _problems(sqlite_db)
    assert len(problems) == 1 and problems[0].startswith("audit event 3 differs from the hash anchored for it")
    assert "event 2, anchored earlier, still matches" in problems[0]


@pytest.fixture
def users_of(sqlite_db: Database) -> dict[str, Actor]:
    return make_users(sqlite_db)


def test_backup_and_restore_are_for_administrators(
    sqlite_db: Database, users_of: dict[str, Actor], tmp_path: Path
) -> None:
    actors = users_of
    for name in ("maria", "alex", "pat"):
        with pytest.raises(PermissionDenied, match="may not back up and restore"):
            backup.backup_sqlite(sqlite_db, actors[name], tmp_path / f"{name}.sqlite")
        with pytest.raises(PermissionDenied, match="may not back up and restore"):
            backup.restore_sqlite(sqlite_db, actors[name], tmp_path / "any.sqlite")
        with pytest.raises(PermissionDenied):
            backup.daily_backup(sqlite_db, actors[name])
    assert not any(tmp_path.glob("maria*")) and not any(tmp_path.glob("alex*")) and not any(tmp_path.glob("pat*"))


def test_a_restore_through_the_product_verifies_and_says_who_from_what(
    sqlite_db: Database, users_of: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    actors = users_of
    _store(sqlite_db, actors, samples)
    saved = backup.backup_sqlite(sqlite_db, actors["admin"], tmp_path / "saved.sqlite")
    assert audit_anchor.read(sqlite_db.url)[0][-1].kind == "backup"  # the backup's head is anchored
    _events(sqlite_db, 3)
    with sqlite_db.read() as session:
        replaced = session.execute(text("SELECT last_event_id, last_hash FROM audit_head")).one()
    kept = backup.restore_sqlite(sqlite_db, actors["admin"], saved)
    assert kept.exists()
    assert _problems(sqlite_db) == []
    (event,) = [e for e in audit.list_events(sqlite_db, SYSTEM, "store.restore")]
    assert event.username == "admin" and str(saved.resolve()) in (event.after or "")
    assert f'"event_id":{replaced[0]}' in (event.before or "") and replaced[1] in (event.before or "")
    _events(sqlite_db, 1)
    assert _problems(sqlite_db) == []  # work goes on after a restore


def _backup_of(sqlite_db: Database, actors: dict[str, Actor], tmp_path: Path, name: str) -> Path:
    return backup.backup_sqlite(sqlite_db, actors["admin"], tmp_path / name)


def test_a_damaged_file_is_refused(
    sqlite_db: Database, users_of: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    actors = users_of
    _store(sqlite_db, actors, samples)
    damaged = _backup_of(sqlite_db, actors, tmp_path, "damaged.sqlite")
    size = damaged.stat().st_size
    with damaged.open("r+b") as f:
        f.seek(size - 3 * 4096 + 20)
        f.write(b"\xff" * 200)
    with pytest.raises(UserError, match="(is damaged|is not a Vault Workstation database).*nothing was restored"):
        backup.restore_sqlite(sqlite_db, actors["admin"], damaged)
    assert _problems(sqlite_db) == []


def test_a_newer_or_unknown_revision_is_refused(
    sqlite_db: Database, users_of: dict[str, Actor], tmp_path: Path
) -> None:
    actors = users_of
    newer = _backup_of(sqlite_db, actors, tmp_path, "newer.sqlite")
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_future'")
    with pytest.raises(UserError, match="schema revision '0099_future'.*does not know"):
        backup.restore_sqlite(sqlite_db, actors["admin"], newer)


def test_a_fake_alembic_version_is_refused(sqlite_db: Database, users_of: dict[str, Actor], tmp_path: Path) -> None:
    actors = users_of
    revision = sqlite_db.engine.connect().execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    fake = tmp_path / "fake.sqlite"
    with sqlite3.connect(fake) as conn:  # the tables restore looked for, and a revision, but not our schema
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
        conn.execute("CREATE TABLE audit_events (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE audit_head (id INTEGER PRIMARY KEY, last_event_id INTEGER, last_hash TEXT)")
    conn.close()
    with pytest.raises(UserError, match="does not hold this application's tables.*nothing was restored"):
        backup.restore_sqlite(sqlite_db, actors["admin"], fake)
    assert audit.verify(sqlite_db, SYSTEM).ok


def test_a_daily_backup_records_its_head(sqlite_db: Database, users_of: dict[str, Actor]) -> None:
    actors = users_of
    _events(sqlite_db, 2)
    made = backup.daily_backup(sqlite_db, actors["admin"])
    assert made is not None
    last = audit_anchor.read(sqlite_db.url)[0][-1]
    assert (last.kind, last.event_id, last.note) == ("backup", 6, str(made))  # 4 users + 2 events


def _bulk_sales(session: Session, actor: Actor, package_ids: list[int], at: datetime) -> None:
    ledger.post_many(
        session,
        actor,
        [
            # a fraction, a time zone other than UTC and microseconds: stored as UTC, scaled integers
            ledger.Posting(pid, LedgerKind.SALE, Decimal("-0.5"), ledger.Doc("test", n), at, f"sale {n}")
            for n, pid in enumerate(package_ids)
        ],
    )


def _two_packages(db: Database, actors: dict[str, Actor], samples: Path) -> list[int]:
    _store(db, actors, samples)
    with db.read() as session:
        return list(session.scalars(select(Package.id).where(Package.quantity >= 2).order_by(Package.id).limit(2)))


def test_a_bulk_written_ledger_row_edited_later_fails(
    db: Database, actors: dict[str, Actor], samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows the event hashes as they were written (SQLite) or reads back (PostgreSQL) verify, and
    one edited afterwards is named."""
    ids = _two_packages(db, actors, samples)
    at = datetime(2026, 11, 30, 17, 5, 9, 123456, tzinfo=ZoneInfo("America/Los_Angeles"))
    if db.is_sqlite:  # the hash kept as the rows were written, not a read
        monkeypatch.setattr(audit, "_read_and_hash", lambda *_: pytest.fail("read the bulk rows back"))
    with db.transaction() as session:
        _bulk_sales(session, actors["alex"], ids, at)
        audit.record(session, actors["alex"], "test.bulk", "thing", 1)
    monkeypatch.undo()
    assert _problems(db) == []
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE stock_ledger SET note = 'sale 9' WHERE note = 'sale 1'"))
    assert any("a ledger row written with it was" in p for p in _problems(db))


@pytest.mark.parametrize("single_first", [True, False])
def test_bulk_and_single_ledger_rows_in_one_event_verify(
    db: Database, actors: dict[str, Actor], samples: Path, single_first: bool
) -> None:
    """A row written one at a time beside the bulk ones (before or after them) is not in the
    hash kept as they were written: the event reads them all back instead."""
    ids = _two_packages(db, actors, samples)
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    with db.transaction() as session:
        package = session.get_one(Package, ids[0])
        if single_first:
            ledger.post(session, actors["alex"], package, LedgerKind.SALE, Decimal(-1), ledger.Doc("test", 99), at=at)
        _bulk_sales(session, actors["alex"], ids, at)
        if not single_first:
            ledger.post(session, actors["alex"], package, LedgerKind.SALE, Decimal(-1), ledger.Doc("test", 99), at=at)
        event = audit.record(session, actors["alex"], "test.bulk", "thing", 1)
    with db.read() as session:
        covered = session.scalar(select(func.count()).where(LedgerEntry.audit_event_id == event.id))
    assert covered == 3 and _problems(db) == []


def test_two_bulk_writes_then_one_event_verify(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    ids = _two_packages(db, actors, samples)
    with db.transaction() as session:
        _bulk_sales(session, actors["alex"], ids, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
        _bulk_sales(session, actors["alex"], ids[::-1], datetime(2026, 11, 30, 13, 0, tzinfo=UTC))
        audit.record(session, actors["alex"], "test.bulk", "thing", 1)
        _bulk_sales(session, actors["alex"], ids, datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
        audit.record(session, actors["alex"], "test.bulk", "thing", 2)
    assert _problems(db) == [] and ledger.check_balances(db, SYSTEM) == []
