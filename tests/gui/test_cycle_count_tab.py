"""Cycle Count tab driven like a person: start a count, scan tags as keystroke bursts, type
quantities, adjust a variance (with a manager's PIN over the threshold), and submit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from backoffice.domain.enums import CountStatus
from backoffice.services import adjustments, counts
from backoffice.services.actor import SYSTEM
from backoffice.services.counts import LineStatus
from tests.gui.conftest import scan, when_modal
from ui import commands
from ui.main_window import MainWindow
from ui.models.count_models import Col, Show
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.cycle_count_dialogs import AdjustDialog, StartCountDialog

pytestmark = pytest.mark.gui

EDIBLES = "Edible (weight - each)"
GUMMY = "1A4060300000000000000002"  # 12 Each in the Vault
GUMMY_2 = "1A4060300000000000000010"  # 24 Each in the Vault
TINCTURE = "1A4060300000000000000001"  # not an edible
STRANGER = "1A40603000000000000009ZZ"  # in no system


@pytest.fixture
def tab(main_window: MainWindow) -> CycleCountTab:
    found = main_window.tab(CycleCountTab)
    main_window.tabs.setCurrentWidget(found)
    found.view.setFocus()
    return found


def _start(qtbot, tab: CycleCountTab, *, blind: bool) -> None:  # type: ignore[no-untyped-def]
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, StartCountDialog)
        dialog.name.setText("Gummies, vault")
        items = dialog.categories.findItems(EDIBLES, Qt.MatchFlag.MatchExactly)
        items[0].setCheckState(Qt.CheckState.Checked)
        dialog.locations.findItems("Vault", Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Checked)
        dialog.blind.setChecked(blind)
        next(b for b in dialog.findChildren(QPushButton) if b.text() == "Start count").click()

    when_modal(StartCountDialog, fill)
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.name == "Gummies, vault", timeout=10_000)
    _settled(qtbot, tab)


def _count(qtbot, window: MainWindow, tab: CycleCountTab, tag: str, quantity: str) -> None:  # type: ignore[no-untyped-def]
    _back_to(qtbot, window)
    tab.view.setFocus()
    window.scanner._last_scan = ("", 0.0)  # a person scans the next package, not a double scan
    scan(qtbot, tab.view, tag)
    assert tab.pending is not None and tab.pending.tag == tag
    assert tab.quantity.hasFocus()
    qtbot.keyClicks(tab.quantity, quantity)
    qtbot.keyClick(tab.quantity, Qt.Key.Key_Return)
    _settled(qtbot, tab)


def _back_to(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """After a dialog closes the associate is back in the main window."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def _settled(qtbot, tab: CycleCountTab) -> None:  # type: ignore[no-untyped-def]
    """The table reloads (off the GUI thread) once a burst of scans is over."""
    qtbot.waitUntil(lambda: not tab._reload_timer.isActive() and not tab.loading)


def _adjust(
    qtbot,
    tab: CycleCountTab,
    tag: str,
    reason: str,
    note: str,
    *,  # type: ignore[no-untyped-def]
    manager: tuple[str, str] | None = None,
) -> dict[str, str]:
    seen: dict[str, str] = {}

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, AdjustDialog)
        seen["suggested"] = dialog.quantity.text()
        dialog.reason.setCurrentIndex(dialog.reason.findData(reason))
        qtbot.keyClicks(dialog.note, note)
        seen["before_after"] = dialog.before_after.text()
        seen["approval"] = str(dialog.approval.isVisible())
        if manager is not None:
            qtbot.keyClicks(dialog.manager, manager[0])
            qtbot.keyClicks(dialog.pin, manager[1])
        dialog.ok.click()
        qtbot.waitUntil(lambda: not dialog.isVisible() or dialog.isEnabled())  # the command has answered
        if dialog.isVisible():  # refused: say why, and give up
            seen["message"] = dialog.message.text()
            dialog.reject()

    tab.select_tag(tag)
    when_modal(AdjustDialog, fill)
    qtbot.mouseClick(tab.adjust_button, Qt.MouseButton.LeftButton)
    _settled(qtbot, tab)
    return seen


def _line(tab: CycleCountTab, tag: str) -> counts.VarianceLine:
    row = tab.model.row_of(tag)
    assert row is not None
    return tab.model.lines[row]


def test_count_by_scans_adjust_and_submit(
    qtbot,
    main_window: MainWindow,
    tab: CycleCountTab,  # type: ignore[no-untyped-def]
    qtmodeltester,
) -> None:
    _start(qtbot, tab, blind=False)
    info = tab.current
    assert info is not None and info.is_open and not info.blind and "OPEN" in tab.header.text()
    assert tab.progress.value() == 0 and tab.progress.maximum() == info.expected_lines

    _count(qtbot, main_window, tab, GUMMY, "10")
    assert "Counted" in main_window.status_label.text() and main_window.status_kind == "ok"
    assert _line(tab, GUMMY).counted == 10 and _line(tab, GUMMY).status is LineStatus.SHORT
    _count(qtbot, main_window, tab, GUMMY_2, "16")
    _count(qtbot, main_window, tab, TINCTURE, "30")
    assert _line(tab, TINCTURE).status is LineStatus.FOUND
    _back_to(qtbot, main_window)
    tab.view.setFocus()
    main_window.scanner._last_scan = ("", 0.0)
    scan(qtbot, tab.view, STRANGER)
    assert main_window.status_kind == "error" and "not in this store's inventory" in main_window.status_label.text()
    qtbot.keyClicks(tab.quantity, "1")
    qtbot.keyClick(tab.quantity, Qt.Key.Key_Return)
    _settled(qtbot, tab)
    assert _line(tab, STRANGER).status is LineStatus.UNKNOWN
    qtbot.waitUntil(lambda: tab.progress.value() == 2)
    qtmodeltester.check(tab.model)
    qtmodeltester.check(tab.proxy)

    # the largest dollar variance sorts first; the filter narrows to what needs attention
    tab.show_box.setCurrentIndex(tab.show_box.findData(Show.SHORT_OVER))
    assert {tab.proxy.index(r, Col.TAG).data() for r in range(tab.proxy.rowCount())} == {GUMMY, GUMMY_2}

    # -2 on the gummies: under the threshold, the associate adjusts alone; before → after shown
    seen = _adjust(qtbot, tab, GUMMY, "Inventory Audit", "cycle count: 2 short")
    assert seen["suggested"] == "-2" and "12 → " in seen["before_after"] and seen["approval"] == "False"
    assert _line(tab, GUMMY).status is LineStatus.RESOLVED

    # -8 is over the 5-unit threshold: refused without a manager, done with maria's PIN
    refused = _adjust(qtbot, tab, GUMMY_2, "Theft", "8 missing after the weekend", manager=("alex", "1111"))
    assert "alex (associate) may not approve" in refused["message"]
    done = _adjust(qtbot, tab, GUMMY_2, "Theft", "8 missing after the weekend", manager=("maria", "222222"))
    assert done["approval"] == "True" and "message" not in done
    assert _line(tab, GUMMY_2).status is LineStatus.RESOLVED
    approved = adjustments.list_adjustments(main_window.ctx.db, SYSTEM, tag=GUMMY_2)
    assert approved[0].approved_by == "maria" and approved[0].count_session_id == info.id

    # submit: the packages nobody counted are recorded as not found
    when_modal(QMessageBox, lambda box: next(b for b in box.buttons() if "not found (0)" in b.text()).click())
    qtbot.mouseClick(tab.submit_button, Qt.MouseButton.LeftButton)
    _settled(qtbot, tab)
    assert tab.current is not None and tab.current.status is CountStatus.SUBMITTED
    assert "SUBMITTED" in tab.header.text() and "accuracy" in tab.header.text()
    assert not tab.submit_button.isEnabled() and not tab.scan_panel.isEnabled()
    _back_to(qtbot, main_window)
    tab.view.setFocus()
    main_window.scanner._last_scan = ("", 0.0)
    scan(qtbot, tab.view, GUMMY)
    assert "No open count" in main_window.status_label.text()


def test_blind_count_hides_expected_from_the_counter(qtbot, main_window: MainWindow, tab: CycleCountTab) -> None:  # type: ignore[no-untyped-def]
    _start(qtbot, tab, blind=True)
    _count(qtbot, main_window, tab, GUMMY, "10")
    line = _line(tab, GUMMY)
    assert line.hidden and line.status is LineStatus.COUNTED and line.ledger is None
    assert all(tab.view.isColumnHidden(col) for col in (Col.LEDGER, Col.VARIANCE, Col.VALUE, Col.METRC))
    tab.select_tag(GUMMY)
    assert not tab.adjust_button.isEnabled() and "Blind count" in tab.adjust_button.toolTip()
    assert "Blind count" in tab.detail.summary.text()  # no history that would give the quantity away


def test_counting_on_the_floor_without_a_recorded_transfer_is_refused(  # type: ignore[no-untyped-def]
    qtbot, main_window: MainWindow, tab: CycleCountTab
) -> None:
    _start(qtbot, tab, blind=True)
    tab.location_box.setCurrentIndex(tab.location_box.findData("Sales Floor"))
    when_modal(QMessageBox, lambda box: box.accept())
    _count(qtbot, main_window, tab, GUMMY, "12")
    assert main_window.status_kind == "error" and "no recorded transfer" in main_window.status_label.text()
    assert tab.current is not None and counts.get_count(main_window.ctx.db, SYSTEM, tab.current.id).entries == 0


def test_recount_replaces_and_the_model_passes_the_tester(
    qtbot,
    main_window: MainWindow,
    tab: CycleCountTab,  # type: ignore[no-untyped-def]
    qtmodeltester,
) -> None:
    _start(qtbot, tab, blind=False)
    _count(qtbot, main_window, tab, GUMMY, "5")
    _count(qtbot, main_window, tab, GUMMY, "6")
    assert _line(tab, GUMMY).counted == 11  # two shelves, two entries: they add up
    tab.select_tag(GUMMY)
    qtbot.mouseClick(tab.recount_button, Qt.MouseButton.LeftButton)
    assert tab.recount.isChecked() and tab.pending is not None and tab.pending.counted == 11
    qtbot.keyClicks(tab.quantity, "12")
    qtbot.keyClick(tab.quantity, Qt.Key.Key_Return)
    _settled(qtbot, tab)
    assert _line(tab, GUMMY).counted == Decimal(12) and _line(tab, GUMMY).status is LineStatus.MATCH
    tab.filter.setText("wedding")
    assert all("Wedding" in tab.proxy.index(r, Col.ITEM).data() for r in range(tab.proxy.rowCount()))
    qtmodeltester.check(tab.proxy)


def test_metrc_difference_shown_filtered_and_fixed_from_the_line(  # type: ignore[no-untyped-def]
    qtbot, main_window: MainWindow, tab: CycleCountTab, samples, tmp_path
) -> None:
    import json

    from backoffice.services import sales_import
    from tests.unit.test_sales_import import write_csv
    from ui.tabs.cycle_count_metrc import MetrcFixDialog

    db, alex = main_window.ctx.db, main_window.ctx.actor
    # yesterday the POS sold 2 gummies on R7 and METRC never heard of it (its receipts of the day hold R6 only)
    write_csv(
        tmp_path / "pos.csv",
        [
            [
                "order_id",
                "completed_at",
                "metrc_tag",
                "product",
                "product_category",
                "qty_sold",
                "unit_of_measure",
                "line_total",
            ],
            ["R6", "2026-11-20 10:00:00", GUMMY_2, "x", "x", "1", "Each", "9.00"],
            ["R7", "2026-11-20 15:02:00", GUMMY, "x", "x", "2", "Each", "18.00"],
        ],
    )
    (tmp_path / "metrc.json").write_text(
        json.dumps(
            [
                {
                    "Id": 1,
                    "ReceiptNumber": "M1",
                    "ExternalReceiptNumber": "R6",
                    "SalesDateTime": "2026-11-20T10:00:00",
                    "SalesCustomerType": "Consumer",
                    "Transactions": [
                        {"PackageLabel": GUMMY_2, "Quantity": 1, "UnitOfMeasure": "Each", "TotalAmount": 9.0}
                    ],
                }
            ]
        )
    )
    sales_import.import_pos_file(db, alex, tmp_path / "pos.csv")
    sales_import.import_metrc_file(db, alex, tmp_path / "metrc.json")
    packages = json.loads((samples / "metrc_packages_active.json").read_text())
    for record in packages:
        if record["Label"] == GUMMY_2:
            record["Quantity"] = 23  # METRC took R6
    (tmp_path / "metrc_packages.json").write_text(json.dumps(packages))

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, StartCountDialog)
        dialog.name.setText("Gummies, three-way")
        dialog.categories.findItems(EDIBLES, Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Checked)
        dialog.locations.findItems("Vault", Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Checked)
        dialog.blind.setChecked(False)
        dialog.metrc_file.edit.setText(str(tmp_path / "metrc_packages.json"))
        next(b for b in dialog.findChildren(QPushButton) if b.text() == "Start count").click()

    when_modal(StartCountDialog, fill)
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.name == "Gummies, three-way", timeout=10_000)
    _settled(qtbot, tab)
    _count(qtbot, main_window, tab, GUMMY, "10")  # shelf and ledger agree on 10; METRC still says 12
    _count(qtbot, main_window, tab, GUMMY_2, "23")
    assert _line(tab, GUMMY).status is LineStatus.METRC_DIFFERS and _line(tab, GUMMY_2).status is LineStatus.MATCH
    assert not tab.view.isColumnHidden(Col.CAUSE) and not tab.view.isColumnHidden(Col.PENDING)

    tab.show_box.setCurrentIndex(tab.show_box.findData(Show.METRC_DIFFERS))
    assert [tab.proxy.index(r, Col.TAG).data() for r in range(tab.proxy.rowCount())] == [GUMMY]
    why = tab.proxy.index(0, Col.CAUSE).data()
    assert "POS receipt R7" in why and "never reached METRC" in why and tab.proxy.index(0, Col.PENDING).data() == "-2"
    tab.show_box.setCurrentIndex(tab.show_box.findData(Show.MATCH))
    assert [tab.proxy.index(r, Col.TAG).data() for r in range(tab.proxy.rowCount())] == [GUMMY_2]
    tab.show_box.setCurrentIndex(tab.show_box.findData(Show.ALL))

    tab.select_tag(GUMMY)
    assert tab.fix_metrc_button.isEnabled()

    def queue(dialog: QWidget) -> None:
        assert isinstance(dialog, MetrcFixDialog)
        assert dialog.queue.isChecked() and dialog.receipt.currentData() == "R7"
        dialog.ok.click()  # no note yet: refused, says why
        qtbot.waitUntil(lambda: "note" in dialog.message.text() and dialog.isEnabled())
        assert dialog.isVisible()
        qtbot.keyClicks(dialog.note, "sale of 2 on R7 never reached METRC")
        dialog.ok.click()

    when_modal(MetrcFixDialog, queue)
    qtbot.mouseClick(tab.fix_metrc_button, Qt.MouseButton.LeftButton)
    _settled(qtbot, tab)
    assert (
        "receipt queued" in main_window.status_label.text() and "ledger is unchanged" in main_window.status_label.text()
    )
    assert _line(tab, GUMMY).status is LineStatus.RESOLVED and _line(tab, GUMMY).ledger == 10


def test_a_unit_qr_code_counts_one_unit_of_its_package(qtbot, main_window: MainWindow, tab: CycleCountTab) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from backoffice.db.models import RetailIdCode

    with main_window.ctx.db.transaction() as session:  # as receiving caches a delivery's unit codes
        session.add(
            RetailIdCode(short_code="QX7K2M", url="https://1a4.com/QX7K2M", tag=GUMMY, fetched_at=datetime.now(UTC))
        )
    _start(qtbot, tab, blind=False)
    for expected in (1, 2):
        _back_to(qtbot, main_window)
        tab.view.setFocus()
        main_window.scanner._last_scan = ("", 0.0)  # the next unit, not a double read
        scan(qtbot, tab.view, "https://1a4.com/QX7K2M")
        commands.wait_until_idle()
        _settled(qtbot, tab)
        qtbot.waitUntil(lambda n=expected: _line(tab, GUMMY).counted == n)
    assert tab.pending is None  # nothing waits for a typed quantity
