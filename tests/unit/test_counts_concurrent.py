"""Several counters on several workstations count one session at once (real PostgreSQL and
SQLite): no entry is lost, and a submit racing the counters freezes a consistent count."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import CountEntry
from backoffice.errors import RuleViolation
from backoffice.services import counts, metrc_packages_import
from backoffice.services.actor import Actor
from backoffice.services.counts import Scope

EDIBLES = "Edible (weight - each)"
GUMMY = "1A4060300000000000000002"
ENTRIES_EACH = 15


def _workstation(
    url: str, actor: Actor, count_id: int, name: str, errors: list[BaseException], start: threading.Barrier
) -> None:
    db = Database(url)  # a workstation has its own connection pool
    try:
        start.wait()
        for _ in range(ENTRIES_EACH):
            counts.record_count(db, actor, count_id, GUMMY, 1, location="Vault", workstation=name)
    except BaseException as exc:  # reported by the test
        errors.append(exc)
    finally:
        db.dispose()


def test_two_workstations_counting_one_tag_lose_no_update(
    db: Database, actors: dict[str, Actor], samples: Path
) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    info = counts.start_count(db, actors["alex"], "Busy vault", Scope(categories=(EDIBLES,)))
    url = db.url.render_as_string(hide_password=False)
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_workstation, args=(url, actors[who], info.id, f"ws-{who}", errors, start))
        for who in ("alex", "maria")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    status = counts.tag_status(db, actors["alex"], info.id, GUMMY)
    assert status.counted == Decimal(2 * ENTRIES_EACH) and status.entries == 2 * ENTRIES_EACH
    assert set(status.counted_by.split(", ")) == {"alex", "maria"}


def test_submit_racing_counters_freezes_a_consistent_count(
    db: Database, actors: dict[str, Actor], samples: Path
) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    info = counts.start_count(db, actors["alex"], "Race", Scope(categories=(EDIBLES,)))
    url = db.url.render_as_string(hide_password=False)
    accepted: list[int] = []
    refused: list[BaseException] = []
    start = threading.Barrier(2)

    def counter() -> None:
        own = Database(url)
        try:
            start.wait()
            for _ in range(40):
                try:
                    counts.record_count(own, actors["alex"], info.id, GUMMY, 1)
                    accepted.append(1)
                except RuleViolation as exc:
                    refused.append(exc)
                    return
        finally:
            own.dispose()

    thread = threading.Thread(target=counter)
    thread.start()
    start.wait()
    submitted = counts.submit(db, actors["maria"], info.id, uncounted_as_zero=True)
    thread.join(60)
    with db.read() as session:
        entries = session.scalars(
            select(CountEntry).where(CountEntry.session_id == info.id, CountEntry.tag == GUMMY)
        ).all()
    # every accepted scan is in the frozen count, and none was written after the freeze
    assert len([e for e in entries if e.note is None]) == len(accepted)
    assert all(e.counted_at <= submitted.submitted_at for e in entries)  # type: ignore[operator]
    assert len(accepted) == 40 or refused
