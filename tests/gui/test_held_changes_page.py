"""METRC tab → "Held import changes": a file that would lift a hold waits there; a manager
accepts or rejects it with a note typed into the dialog; an associate sees the buttons off."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import Package
from backoffice.domain.enums import LabState, PackageStatus
from backoffice.services import audit, metrc_packages_import, users
from backoffice.services.actor import SYSTEM, Actor
from tests.conftest import PINS
from ui import commands
from ui.context import AppContext
from ui.tabs.held_changes import DecisionDialog
from ui.tabs.metrc_outbox import MetrcTab

pytestmark = pytest.mark.gui


def _file(samples: Path, tmp_path: Path, name: str, **fields: object) -> tuple[Path, str]:
    """The sample packages file with its first package changed as ``fields`` say."""
    records = json.loads((samples / "metrc_packages_active.json").read_text())[:3]
    records[0].update(fields)
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return path, records[0]["Label"]


def _state(db: Database, tag: str) -> tuple[PackageStatus, LabState]:
    with db.read() as session:
        package = session.scalar(select(Package).where(Package.tag == tag))
        assert package is not None
        return package.status, package.lab_state


@pytest.fixture
def held(store: tuple[Database, dict[str, Actor]], samples: Path, tmp_path: Path) -> str:
    """A failed package on hold, as METRC listed it."""
    db, actors = store
    path, tag = _file(samples, tmp_path, "held.json", IsOnHold=True, LabTestingState="TestFailed")
    metrc_packages_import.import_file(db, actors["admin"], path)
    assert _state(db, tag) == (PackageStatus.ON_HOLD, LabState.TEST_FAILED)
    return tag


def _sign_in(ctx: AppContext, name: str) -> None:
    ctx.sign_in(users.authenticate(ctx.db, name, PINS[name]).as_actor())


def _open_tab(qtbot, ctx: AppContext) -> MetrcTab:  # type: ignore[no-untyped-def]
    tab = MetrcTab(ctx)
    qtbot.addWidget(tab)
    ctx.changed.connect(tab.refresh)  # what the main window does for every tab
    tab.pages.setCurrentWidget(tab.held)
    tab.show()
    return tab


def _title(tab: MetrcTab) -> str:
    return tab.pages.tabText(tab.pages.indexOf(tab.held))


def _import_lift(qtbot, tab: MetrcTab, ctx: AppContext, actor: Actor, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The file imported as a command, as the Receiving tab's import does, so the page refreshes."""
    db = ctx.db
    commands.run_command(tab, ctx, lambda job: metrc_packages_import.import_file(db, actor, path))
    qtbot.waitUntil(lambda: len(tab.held.model.rows) == 1)


def _in_dialog(qtbot, steps: Callable[[DecisionDialog], None]) -> list[str]:  # type: ignore[no-untyped-def]
    """Run ``steps`` in the modal note dialog once it is open; returns what went wrong there."""
    failures: list[str] = []

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, DecisionDialog):
            QTimer.singleShot(20, act)
            return
        try:
            steps(dialog)
        except AssertionError as exc:  # an assert in a timer callback would be lost
            failures.append(str(exc) or "assertion failed")
            dialog.reject()

    QTimer.singleShot(0, act)
    return failures


def test_a_manager_accepts_a_held_change_by_keystrokes(  # type: ignore[no-untyped-def]
    qtbot, qtmodeltester, ctx: AppContext, store, held: str, samples: Path, tmp_path: Path
) -> None:
    db, actors = store
    _sign_in(ctx, "maria")
    tab = _open_tab(qtbot, ctx)
    qtbot.waitUntil(lambda: not tab.held._loader.busy)
    assert _title(tab) == "Held import changes" and tab.held.model.rows == []
    lift, _ = _file(samples, tmp_path, "lift.json", IsOnHold=False, LabTestingState="TestPassed")
    _import_lift(qtbot, tab, ctx, actors["pat"], lift)  # purchasing may import files
    assert _title(tab) == "Held import changes (1)"
    assert _state(db, held) == (PackageStatus.ON_HOLD, LabState.TEST_FAILED)  # the file lifted nothing
    qtmodeltester.check(tab.held.model)
    shown = [tab.held.model.index(0, c).data() for c in range(tab.held.model.columnCount())]
    assert shown[1:4] == [held, tab.held.model.rows[0].item, "lab state, status"]
    assert shown[4:6] == ["TestFailed, on_hold", "TestPassed, active"]
    assert shown[7:] == ["pat", "lift.json"]
    assert not tab.held.accept_button.isEnabled()  # nothing selected yet
    tab.held.view.selectRow(0)
    assert tab.held.accept_button.isEnabled() and tab.held.reject_button.isEnabled()

    def accept_with_note(dialog: DecisionDialog) -> None:
        assert not dialog.ok_button.isEnabled()
        qtbot.keyClick(dialog.note, Qt.Key.Key_Return)  # Enter on an empty note does nothing
        assert dialog.isVisible() and dialog.isEnabled()
        qtbot.keyClicks(dialog.note, "COA 2026-118 passed")
        assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Accept"
        qtbot.keyPress(dialog.note, Qt.Key.Key_Return)  # the dialog waits disabled: no release reaches it

    failures = _in_dialog(qtbot, accept_with_note)
    qtbot.mouseClick(tab.held.accept_button, Qt.MouseButton.LeftButton)
    assert failures == []
    qtbot.waitUntil(lambda: tab.held.model.rows == [])
    assert _title(tab) == "Held import changes"
    assert _state(db, held) == (PackageStatus.ACTIVE, LabState.TEST_PASSED)
    (accepted,) = [e for e in audit.list_events(db, SYSTEM, held) if e.action == "package.change_accepted"]
    assert accepted.username == "maria" and "COA 2026-118 passed" in (accepted.reason or "")
    assert json.loads(accepted.after or "") == {"lab_state": "TestPassed", "status": "active"}
    assert not tab.held.accept_button.isEnabled()  # nothing left to decide


def test_cancel_is_safe_and_a_reject_leaves_the_package_held(  # type: ignore[no-untyped-def]
    qtbot, ctx: AppContext, store, held: str, samples: Path, tmp_path: Path
) -> None:
    db, actors = store
    _sign_in(ctx, "maria")
    tab = _open_tab(qtbot, ctx)
    lift, _ = _file(samples, tmp_path, "lift.json", IsOnHold=False, LabTestingState="TestFailed")
    _import_lift(qtbot, tab, ctx, actors["alex"], lift)
    tab.held.view.selectRow(0)

    def cancel(dialog: DecisionDialog) -> None:
        qtbot.keyClicks(dialog.note, "half a thought")
        qtbot.keyClick(dialog.note, Qt.Key.Key_Escape)

    failures = _in_dialog(qtbot, cancel)
    qtbot.mouseClick(tab.held.reject_button, Qt.MouseButton.LeftButton)
    assert failures == []
    commands.wait_until_idle()
    assert len(tab.held.model.rows) == 1 and _title(tab) == "Held import changes (1)"
    decided = {"package.change_accepted", "package.change_rejected"}
    assert not decided & {e.action for e in audit.list_events(db, SYSTEM, held)}

    def reject_with_note(dialog: DecisionDialog) -> None:
        assert dialog.ok_button.text() == "Reject"
        qtbot.keyClicks(dialog.note, "METRC still shows the hold")
        qtbot.keyPress(dialog.note, Qt.Key.Key_Return)

    failures = _in_dialog(qtbot, reject_with_note)
    qtbot.mouseClick(tab.held.reject_button, Qt.MouseButton.LeftButton)
    assert failures == []
    qtbot.waitUntil(lambda: tab.held.model.rows == [])
    assert _state(db, held) == (PackageStatus.ON_HOLD, LabState.TEST_FAILED)
    (rejected,) = [e for e in audit.list_events(db, SYSTEM, held) if e.action == "package.change_rejected"]
    assert rejected.username == "maria" and "METRC still shows the hold" in (rejected.reason or "")


def test_an_associate_sees_the_change_but_cannot_decide_it(  # type: ignore[no-untyped-def]
    qtbot, ctx: AppContext, store, held: str, samples: Path, tmp_path: Path
) -> None:
    db, actors = store
    lift, _ = _file(samples, tmp_path, "lift.json", IsOnHold=False, LabTestingState="TestPassed")
    metrc_packages_import.import_file(db, actors["pat"], lift)
    _sign_in(ctx, "alex")
    tab = _open_tab(qtbot, ctx)
    qtbot.waitUntil(lambda: len(tab.held.model.rows) == 1)
    assert _title(tab) == "Held import changes (1)"
    tab.held.view.selectRow(0)
    for button in (tab.held.accept_button, tab.held.reject_button):
        assert not button.isEnabled() and "associate" in button.toolTip()
    tab.held.decide(accept=True)  # even if asked directly, no dialog opens for an associate
    assert not isinstance(QApplication.activeModalWidget(), QDialog)
    _sign_in(ctx, "maria")  # the same workstation, a manager signs in
    qtbot.waitUntil(lambda: len(tab.held.model.rows) == 1)
    tab.held.view.selectRow(0)
    assert tab.held.accept_button.isEnabled() and tab.held.accept_button.toolTip() == ""
    assert _state(db, held) == (PackageStatus.ON_HOLD, LabState.TEST_FAILED)


def test_a_refused_accept_keeps_the_dialog_open_with_the_reason(  # type: ignore[no-untyped-def]
    qtbot, ctx: AppContext, store, held: str, samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, actors = store
    _sign_in(ctx, "maria")
    tab = _open_tab(qtbot, ctx)
    lift, _ = _file(samples, tmp_path, "lift.json", IsOnHold=True, LabTestingState="TestPassed")
    _import_lift(qtbot, tab, ctx, actors["pat"], lift)
    again, _ = _file(samples, tmp_path, "again.json", IsOnHold=True, LabTestingState="RetestFailed")
    metrc_packages_import.import_file(db, actors["pat"], again)  # the package moved past the first file
    boxes: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: boxes.append(text)))
    tab.held.view.selectRow(0)

    def accept_then_give_up(dialog: DecisionDialog) -> None:
        qtbot.keyClicks(dialog.note, "COA checked")
        qtbot.keyPress(dialog.note, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(boxes) and dialog.isEnabled())
        assert dialog.isVisible() and "changed since the file was imported" in boxes[0]
        qtbot.keyClick(dialog.note, Qt.Key.Key_Escape)

    failures = _in_dialog(qtbot, accept_then_give_up)
    qtbot.mouseClick(tab.held.accept_button, Qt.MouseButton.LeftButton)
    assert failures == []
    assert _state(db, held) == (PackageStatus.ON_HOLD, LabState.RETEST_FAILED)
    assert len(tab.held.model.rows) == 1  # still waiting: reject it, then import a current file
