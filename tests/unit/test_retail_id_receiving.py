"""Retail ID at receiving, where the state requires unit codes: the packages METRC lists none
for are flagged from the store (they outlive the window that fetched them), and accepting or
finishing with one is refused unless the person goes ahead knowingly, which the audit keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, RetailIdCode, utcnow
from backoffice.domain.enums import ManifestLineState
from backoffice.metrc.simulator import MetrcSimulator
from backoffice.services import metrc_packages_import, receiving, retail_id, settings
from backoffice.services.actor import SYSTEM, Actor
from tests.unit.test_retail_id import SHIPPED, alex, connector, sim  # noqa: F401 — fixtures

__all__ = ["alex", "sim"]


def _manifest(db: Database, actor: Actor, samples: Path) -> int:
    metrc_packages_import.import_file(db, SYSTEM, samples / "metrc_packages_active.json")  # the items known
    manifest = receiving.import_file(db, actor, samples / "metrc_incoming_transfer.json")
    return receiving.find_manifest(db, manifest.manifest_number)


def _acceptable(db: Database, actor: Actor, manifest_id: int) -> tuple[str, str]:
    """A flagged package and one with codes, both of items the catalogue knows, scanned."""
    view = receiving.get_manifest(db, actor, manifest_id)
    fine = [line.tag for line in view.lines if line.problem is None]
    bare = next(tag for tag in fine if tag in view.unit_codes_missing)
    coded = next(tag for tag in fine if tag not in view.unit_codes_missing)
    for tag in (bare, coded):
        receiving.scan(db, actor, manifest_id, tag)
    return bare, coded


def _accept_events(db: Database) -> list[dict[str, list[str]]]:
    with db.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "manifest.accept").order_by(AuditEvent.id))
        return [json.loads(event.after or "{}") for event in rows]


@pytest.fixture
def checked(sqlite_db: Database, alex: Actor, sim: MetrcSimulator, samples: Path) -> int:  # noqa: F811
    settings.set_value(sqlite_db, SYSTEM, "retail_id_required", True)
    manifest_id = _manifest(sqlite_db, alex, samples)
    assert receiving.get_manifest(sqlite_db, alex, manifest_id).unit_codes_missing == frozenset()  # not fetched yet
    result = retail_id.fetch_manifest_codes(sqlite_db, alex, manifest_id, connect=connector(sim))
    assert result.flagged
    return manifest_id


def test_the_flags_are_read_from_the_store_after_the_fetch(
    sqlite_db: Database,
    alex: Actor,  # noqa: F811
    checked: int,
) -> None:
    view = receiving.get_manifest(sqlite_db, alex, checked)  # a new read: nothing kept in a window
    assert view.unit_codes_missing and SHIPPED not in view.unit_codes_missing
    bare = sorted(view.unit_codes_missing)[0]
    with sqlite_db.transaction() as session:  # a unit code of it turns up (a QR scanned and looked up)
        session.add(RetailIdCode(short_code="LATE1234", url="https://1a4.com/LATE1234", tag=bare, fetched_at=utcnow()))
    assert bare not in receiving.get_manifest(sqlite_db, alex, checked).unit_codes_missing
    settings.set_value(sqlite_db, SYSTEM, "retail_id_required", False)  # optional in the state: nothing flagged
    assert receiving.get_manifest(sqlite_db, alex, checked).unit_codes_missing == frozenset()


def test_accepting_a_flagged_package_needs_the_persons_say_so_and_the_audit_names_it(
    sqlite_db: Database,
    alex: Actor,  # noqa: F811
    checked: int,
) -> None:
    bare, coded = _acceptable(sqlite_db, alex, checked)
    with pytest.raises(receiving.UnitCodesMissing, match=f"no Retail ID unit codes.*{bare}.*--without-unit-codes"):
        receiving.accept(sqlite_db, alex, checked, [coded, bare])
    states = {line.tag: line.state for line in receiving.get_manifest(sqlite_db, alex, checked).lines}
    assert states[bare] is states[coded] is ManifestLineState.SCANNED  # all or none: nothing accepted
    assert receiving.accept(sqlite_db, alex, checked, [coded]).accepted == [coded]
    assert receiving.accept(sqlite_db, alex, checked, [bare], without_unit_codes=True).accepted == [bare]
    assert _accept_events(sqlite_db) == [{"tags": [coded]}, {"tags": [bare], "without_unit_codes": [bare]}]


def test_accept_scanned_leaves_a_flagged_package_for_a_decision(
    sqlite_db: Database,
    alex: Actor,  # noqa: F811
    checked: int,
) -> None:
    bare, coded = _acceptable(sqlite_db, alex, checked)
    result = receiving.accept_scanned(sqlite_db, alex, checked)
    assert result.accepted == [coded]
    assert result.left == [(bare, receiving.RETAIL_ID_MISSING)]
    again = receiving.accept_scanned(sqlite_db, alex, checked, without_unit_codes=True)
    assert again.accepted == [bare] and again.left == []
    assert _accept_events(sqlite_db)[-1] == {"tags": [bare], "without_unit_codes": [bare]}


def test_finishing_with_a_flagged_package_accepted_needs_the_say_so_too(
    sqlite_db: Database,
    alex: Actor,  # noqa: F811
    checked: int,
) -> None:
    bare, coded = _acceptable(sqlite_db, alex, checked)
    receiving.accept(sqlite_db, alex, checked, [coded, bare], without_unit_codes=True)
    for line in receiving.get_manifest(sqlite_db, alex, checked).lines:
        if line.tag not in (bare, coded):
            receiving.reject(sqlite_db, alex, checked, line.tag, "Other", "not in this test")
    with pytest.raises(receiving.UnitCodesMissing, match=f"Finishing was refused.*{bare}"):
        receiving.finish(sqlite_db, alex, checked)
    assert receiving.get_manifest(sqlite_db, alex, checked).open
    result = receiving.finish(sqlite_db, alex, checked, without_unit_codes=True)
    assert sorted(p.tag for p in result.received) == sorted([bare, coded])


def test_paper_receiving_refuses_flagged_packages_unless_confirmed(
    sqlite_db: Database,
    alex: Actor,  # noqa: F811
    checked: int,
) -> None:
    view = receiving.get_manifest(sqlite_db, alex, checked)
    for line in view.lines:  # what accept_all may take: the known items, no other problem
        if line.problem is not None:
            receiving.reject(sqlite_db, alex, checked, line.tag, "Other", "not in this test")
    with pytest.raises(receiving.UnitCodesMissing, match="Accepting all was refused"):
        receiving.accept_all(sqlite_db, alex, checked)
    assert receiving.get_manifest(sqlite_db, alex, checked).open
    result = receiving.accept_all(sqlite_db, alex, checked, without_unit_codes=True)
    bare = view.unit_codes_missing - {line.tag for line in view.lines if line.problem is not None}
    assert bare and bare <= {p.tag for p in result.received}
    assert sorted(_accept_events(sqlite_db)[-1]["without_unit_codes"]) == sorted(bare)
