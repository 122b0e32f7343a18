"""A METRC packages file never lifts a hold or a failed lab state by itself: the package stays
held until a manager accepts the change; every field an import changes is audited with its
before and after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.db.models import Package
from backoffice.domain.enums import LabState, PackageStatus
from backoffice.errors import PermissionDenied, RuleViolation, ValidationError
from backoffice.services import audit, metrc_packages_import, pending_changes
from backoffice.services.actor import SYSTEM, Actor
from tests.unit.cli_signin import signin


def _file(samples: Path, tmp_path: Path, name: str, **fields: object) -> tuple[Path, str]:
    records = json.loads((samples / "metrc_packages_active.json").read_text())[:3]
    records[0].update(fields)
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return path, records[0]["Label"]


def _package(db: Database, tag: str) -> Package:
    with db.read() as session:
        package = session.scalar(select(Package).where(Package.tag == tag))
        assert package is not None
        return package


@pytest.fixture
def held(db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path) -> str:
    """A failed package on hold, as METRC listed it."""
    path, tag = _file(samples, tmp_path, "held.json", IsOnHold=True, LabTestingState="TestFailed")
    metrc_packages_import.import_file(db, actors["admin"], path)
    assert (_package(db, tag).status, _package(db, tag).lab_state) == (PackageStatus.ON_HOLD, LabState.TEST_FAILED)
    return tag


def test_a_hand_made_file_cannot_lift_a_hold(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path, held: str
) -> None:
    path, _ = _file(
        samples, tmp_path, "forged.json", IsOnHold=False, LabTestingState="TestPassed", ExpirationDate="2031-01-31"
    )
    result = metrc_packages_import.import_file(db, actors["pat"], path)  # purchasing may import files
    package = _package(db, held)
    assert (package.status, package.lab_state) == (PackageStatus.ON_HOLD, LabState.TEST_FAILED)
    assert str(package.expiration_date) == "2031-01-31"  # a descriptive field applies at once
    assert [tag for tag, _, _ in result.held] == [held]
    events = {e.action: e for e in audit.list_events(db, SYSTEM, held)}
    update = events["package.import_update"]
    assert json.loads(update.after or "") == {"expiration_date": "2031-01-31"}
    assert "expiration_date" in json.loads(update.before or "")
    waiting = events["package.change_held"]
    assert json.loads(waiting.before or "") == {"lab_state": "TestFailed", "status": "on_hold"}
    assert json.loads(waiting.after or "") == {"lab_state": "TestPassed", "status": "active"}
    (change,) = pending_changes.list_changes(db, actors["pat"])
    assert change.tag == held and change.source == "forged.json"
    for name in ("pat", "alex"):
        with pytest.raises(PermissionDenied, match="may not accept changes from files"):
            pending_changes.accept(db, actors[name], change.id, "looks fine")
    with pytest.raises(ValidationError, match="note"):
        pending_changes.accept(db, actors["maria"], change.id, "  ")
    pending_changes.accept(db, actors["maria"], change.id, "COA 2026-118 passed; METRC released the hold")
    package = _package(db, held)
    assert (package.status, package.lab_state) == (PackageStatus.ACTIVE, LabState.TEST_PASSED)
    (accepted,) = [e for e in audit.list_events(db, SYSTEM, held) if e.action == "package.change_accepted"]
    assert accepted.username == "maria" and "COA 2026-118" in (accepted.reason or "")
    with pytest.raises(RuleViolation, match="already accepted"):
        pending_changes.reject(db, actors["maria"], change.id, "again")
    assert pending_changes.list_changes(db, actors["maria"]) == []
    assert audit.verify(db, SYSTEM).ok


def test_restricting_changes_apply_at_once_and_rejects_leave_the_package(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path, held: str
) -> None:
    lift, _ = _file(samples, tmp_path, "lift.json", IsOnHold=False, LabTestingState="TestFailed")
    metrc_packages_import.import_file(db, actors["alex"], lift)
    (change,) = pending_changes.list_changes(db, actors["alex"])
    pending_changes.reject(db, actors["maria"], change.id, "METRC still shows the hold")
    assert _package(db, held).status is PackageStatus.ON_HOLD
    # a file that restricts a package (fails it) is applied at once
    failing, _ = _file(samples, tmp_path, "fail.json", LabTestingState="RetestFailed", IsOnHold=True)
    metrc_packages_import.import_file(db, actors["alex"], failing)
    assert _package(db, held).lab_state is LabState.RETEST_FAILED


def test_a_change_the_package_moved_past_cannot_be_accepted(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path, held: str
) -> None:
    lift, _ = _file(samples, tmp_path, "lift.json", LabTestingState="TestPassed", IsOnHold=True)
    metrc_packages_import.import_file(db, actors["alex"], lift)
    (change,) = pending_changes.list_changes(db, actors["alex"])
    again, _ = _file(samples, tmp_path, "again.json", LabTestingState="RetestFailed", IsOnHold=True)
    metrc_packages_import.import_file(db, actors["alex"], again)
    with pytest.raises(RuleViolation, match="changed since the file was imported"):
        pending_changes.accept(db, actors["maria"], change.id, "COA checked")
    assert _package(db, held).lab_state is LabState.RETEST_FAILED


def test_the_command_line_lists_and_accepts(
    sqlite_db: Database,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.conftest import make_users

    actors = make_users(sqlite_db)
    path, tag = _file(samples, tmp_path, "held.json", IsOnHold=True, LabTestingState="TestFailed")
    metrc_packages_import.import_file(sqlite_db, actors["admin"], path)
    url = ["--db", sqlite_db.url.render_as_string(hide_password=False)]
    lift, _ = _file(samples, tmp_path, "lift.json", IsOnHold=False, LabTestingState="TestPassed")
    assert main([*url, *signin(monkeypatch, "pat"), "import", "metrc-packages", str(lift)]) == 0
    assert "1 package(s) stay held" in capsys.readouterr().out
    assert main([*url, *signin(monkeypatch, "alex"), "pending", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"#1     pending   {tag}  lab_state TestFailed → TestPassed, status on_hold → active" in listed
    assert main([*url, *signin(monkeypatch, "alex"), "pending", "accept", "1", "--note", "ok"]) == 1
    assert "may not accept changes from files" in capsys.readouterr().err
    assert main([*url, *signin(monkeypatch, "maria"), "pending", "accept", "1", "--note", "COA checked"]) == 0
    assert "change #1 accepted" in capsys.readouterr().out
    assert _package(sqlite_db, tag).status is PackageStatus.ACTIVE
