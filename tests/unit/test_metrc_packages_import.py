from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import Item, LedgerEntry, Package
from backoffice.errors import ImportFileError, PermissionDenied
from backoffice.services import audit, ledger, metrc_packages_import
from backoffice.services.actor import SYSTEM, Actor


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_sample_file_creates_items_locations_packages(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    path = samples / "metrc_packages_active.json"
    records = json.loads(path.read_text())
    result = metrc_packages_import.import_file(db, actors["alex"], path)
    assert result.created == len(records) == _count(db, Package)
    assert result.items_created == len({r["Item"]["Id"] for r in records}) == _count(db, Item)
    with db.read() as session:
        first = session.scalar(select(Package).where(Package.tag == records[0]["Label"]))
        assert first.quantity == Decimal(str(records[0]["Quantity"]))
        assert first.location.name == records[0]["LocationName"]
    assert ledger.check_balances(db, SYSTEM) == []
    assert audit.verify(db, SYSTEM).ok


def test_reimport_updates_without_duplicating_and_reports_differences(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    path = samples / "metrc_packages_active.json"
    metrc_packages_import.import_file(db, actors["alex"], path)
    records = json.loads(path.read_text())
    records[0]["Quantity"] = records[0]["Quantity"] + 1
    changed = tmp_path / "active.json"
    changed.write_text(json.dumps(records))
    result = metrc_packages_import.import_file(db, actors["alex"], changed)
    assert result.created == 0 and result.updated == len(records)
    assert _count(db, Package) == len(records)
    assert [d for d in result.differences if d.startswith(records[0]["Label"])]
    with db.read() as session:  # our quantity is not silently overwritten
        pkg = session.scalar(select(Package).where(Package.tag == records[0]["Label"]))
        assert pkg.quantity == Decimal(str(records[0]["Quantity"] - 1))


def _bad_file(tmp_path: Path, samples: Path, mutate: object) -> Path:
    records = json.loads((samples / "metrc_packages_active.json").read_text())[:5]
    mutate(records)  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records))
    return path


BAD_CASES = [
    ("short tag", lambda r: r[1].update(Label="1A40603"), "Label", "24 characters"),
    ("lower-case tag", lambda r: r[1].update(Label=r[1]["Label"].lower()), "Label", "upper-case"),
    ("negative quantity", lambda r: r[1].update(Quantity=-3), "Quantity", "negative"),
    ("non-numeric quantity", lambda r: r[1].update(Quantity="twelve"), "Quantity", "not a number"),
    ("unknown unit", lambda r: r[1].update(UnitOfMeasureName="Bushels"), "UnitOfMeasureName", "unknown unit"),
    ("duplicate tag", lambda r: r[1].update(Label=r[0]["Label"]), "Label", "also record 1"),
]


@pytest.mark.parametrize(("case", "mutate", "field", "reason"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_record_imports_nothing_and_names_record_and_field(
    sqlite_db: Database, samples: Path, tmp_path: Path, case: str, mutate: object, field: str, reason: str
) -> None:
    from tests.conftest import make_users

    actor = make_users(sqlite_db)["alex"]
    path = _bad_file(tmp_path, samples, mutate)
    with pytest.raises(ImportFileError) as err:
        metrc_packages_import.import_file(sqlite_db, actor, path)
    message = str(err.value)
    assert "nothing was imported" in message
    assert f"bad.json, line 2, field '{field}'" in message and reason in message
    assert _count(sqlite_db, Package) == 0 and _count(sqlite_db, LedgerEntry) == 0


def test_skip_bad_imports_the_rest_and_lists_what_it_skipped(
    sqlite_db: Database, samples: Path, tmp_path: Path
) -> None:
    from tests.conftest import make_users

    actor = make_users(sqlite_db)["alex"]
    path = _bad_file(tmp_path, samples, lambda r: r[2].update(Quantity="lots"))
    result = metrc_packages_import.import_file(sqlite_db, actor, path, skip_bad=True)
    assert result.created == 4
    assert [(p.line, p.field) for p in result.skipped] == [(3, "Quantity")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"Label": "1A4"', r"not valid JSON \(line 1"),
        ('{"Label": "x"}', "expected a JSON array"),
    ],
)
def test_malformed_json(sqlite_db: Database, tmp_path: Path, content: str, message: str) -> None:
    from tests.conftest import make_users

    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ImportFileError, match=message):
        metrc_packages_import.import_file(sqlite_db, make_users(sqlite_db)["alex"], path)


def test_purchasing_may_import_but_not_without_permission(sqlite_db: Database, samples: Path) -> None:
    from backoffice.domain.enums import Role

    nobody = Actor(None, "kiosk", Role.PURCHASING)
    metrc_packages_import.import_file(sqlite_db, nobody, samples / "metrc_packages_active.json")  # allowed
    with pytest.raises(PermissionDenied):
        from backoffice.services import users

        users.add_user(sqlite_db, nobody, "x1", "X", "associate", "1234")
