from __future__ import annotations

from sqlalchemy import text

from backoffice.db.engine import Database
from backoffice.services import audit
from backoffice.services.actor import SYSTEM, Actor


def _events(db: Database, n: int) -> None:
    for i in range(n):
        with db.transaction() as session:
            audit.record(session, SYSTEM, "test.event", "thing", i, before={"n": i}, after={"n": i + 1}, reason="test")


def test_intact_chain_verifies(db: Database, actors: dict[str, Actor]) -> None:
    _events(db, 5)
    report = audit.verify(db, SYSTEM)
    assert report.ok, report.problems
    assert report.events_checked == 5 + 4  # four users added by the fixture


def test_edited_row_is_named(db: Database) -> None:
    _events(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET after = :v WHERE id = 3"), {"v": '{"n":99}'})
    report = audit.verify(db, SYSTEM)
    assert not report.ok
    assert any("audit event 3" in p and "edited" in p for p in report.problems)


def test_deleted_row_is_named(db: Database) -> None:
    _events(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    problems = audit.verify(db, SYSTEM).problems
    assert any("audit event 2 is missing" in p for p in problems)


def test_deleted_tail_is_detected(db: Database) -> None:
    _events(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 5"))
    problems = audit.verify(db, SYSTEM).problems
    assert any("newest rows were deleted" in p for p in problems)


def test_inserted_row_is_detected(db: Database) -> None:
    _events(db, 3)
    with db.engine.begin() as conn:  # shift event 3 up and forge a row in its place
        conn.execute(text("UPDATE audit_events SET id = 4 WHERE id = 3"))
        conn.execute(
            text(
                "INSERT INTO audit_events (id, at, username, action, entity_type, entity_id, prev_hash, hash) "
                "SELECT 3, at, 'mallory', 'test.event', 'thing', 'x', prev_hash, hash FROM audit_events WHERE id = 2"
            )
        )
    report = audit.verify(db, SYSTEM)
    assert not report.ok
    assert any("audit event 3" in p for p in report.problems)
