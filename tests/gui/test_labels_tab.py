"""Labels tab driven like a person: scans build the print list, the PDF it saves decodes to those
tags, flagged labels need a manager's PIN, the preview and test print open, printing logs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
from sqlalchemy import select

from backoffice.db.models import LabelPrint
from backoffice.services import users
from backoffice.services.labels import Source
from tests.conftest import PINS
from tests.gui.conftest import scan, when_modal
from tests.unit.test_labels_render import decode, needs_tools, rasterize
from ui.main_window import MainWindow
from ui.settings_dialog import PRINTER_KEY
from ui.tabs.labels import FLAG_COLOUR, LabelsTab, LabOverrideDialog

pytestmark = pytest.mark.gui


def _tab(window: MainWindow) -> LabelsTab:
    return window.tab(LabelsTab)


@pytest.fixture
def window(main_window: MainWindow) -> MainWindow:
    main_window.tabs.setCurrentWidget(_tab(main_window))
    _tab(main_window).view.setFocus()
    return main_window


@pytest.fixture
def tags(samples: Path) -> list[str]:
    return [r["Label"] for r in json.loads((samples / "metrc_packages_active.json").read_text())][:3]


def _scan(qtbot, window: MainWindow, code: str) -> None:  # type: ignore[no-untyped-def]
    tab = _tab(window)
    tab.view.setFocus()
    window.scanner._last_scan = ("", 0.0)  # a person scans the next package, not the same one twice in a second
    scan(qtbot, tab.view, code)


def _log(window: MainWindow) -> list[LabelPrint]:
    with window.ctx.db.read() as session:
        return list(session.scalars(select(LabelPrint).order_by(LabelPrint.id)))


def _save_pdf(qtbot, window: MainWindow, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(out), "PDF files (*.pdf)"))
    _tab(window).pdf_button.click()
    qtbot.waitUntil(lambda: "page(s)" in window.status_label.text(), timeout=15000)  # the job is done and logged


@needs_tools
def test_scanned_tags_save_a_pdf_that_decodes_to_them(
    qtbot,
    window: MainWindow,
    tags: list[str],
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab = _tab(window)
    for code in tags[:2]:
        _scan(qtbot, window, code)
    assert "Added" in window.status_label.text()
    qtbot.keyClicks(tab.tag_entry, tags[2])  # typed by hand into the tab's own field
    qtbot.keyClick(tab.tag_entry, Qt.Key.Key_Return)
    assert [line.label.tag for line in tab.model.rows] == tags
    _scan(qtbot, window, tags[0])
    assert "already in the print list" in window.status_label.text() and len(tab.model.rows) == 3
    assert "3 bin labels" in tab.summary.text()
    out = tmp_path / "bins.pdf"
    _save_pdf(qtbot, window, out, monkeypatch)
    assert decode(rasterize(out)) == [[code] for code in tags]
    assert [row.barcode_value for row in _log(window)] == tags
    assert "3 labels, 3 page(s)" in window.status_label.text()


def test_scan_switches_to_the_scanned_list_and_refuses_unknown_tags(qtbot, window: MainWindow, tags: list[str]) -> None:  # type: ignore[no-untyped-def]
    tab = _tab(window)
    tab.source_box.setCurrentIndex(tab.source_box.findData(Source.CATEGORY))
    _scan(qtbot, window, tags[0])
    assert tab.source is Source.TAGS and [line.label.tag for line in tab.model.rows] == tags[:1]
    _scan(qtbot, window, "1A4000000000000000009999")
    assert "not in this store's inventory" in window.status_label.text() and window.status_kind == "error"
    tab.view.selectRow(0)
    tab.remove_button.click()
    assert tab.model.rows == [] and tab.tags == []


def test_shelf_labels_for_a_category_on_a_sheet(qtbot, qtmodeltester, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    tab = _tab(window)
    tab.source_box.setCurrentIndex(tab.source_box.findData(Source.CATEGORY))
    tab.category_box.setCurrentText("Buds")
    tab.kind_box.setCurrentIndex(1)
    tab.template_box.setCurrentIndex(tab.template_box.findData("avery-5160"))
    assert tab.start_spin.isEnabled() and tab.start_spin.maximum() == 29
    tab.show_button.click()
    qtbot.waitUntil(lambda: bool(tab.model.rows), timeout=10000)
    assert all(line.package_id is None and line.label.barcode_value.startswith("M") for line in tab.model.rows)
    assert "shelf labels</b> for category Buds" in tab.summary.text()
    qtmodeltester.check(tab.model)


def _fail_lab(window: MainWindow, tag: str) -> None:
    path = window.ctx.db.sqlite_path
    assert path is not None
    conn = sqlite3.connect(path)
    conn.execute("UPDATE packages SET lab_state = 'TestFailed' WHERE tag = ?", (tag,))
    conn.commit()
    conn.close()


def test_failed_lab_results_show_red_and_print_with_a_managers_pin(
    qtbot,
    window: MainWindow,
    tags: list[str],  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab = _tab(window)
    _fail_lab(window, tags[1])
    for code in tags[:2]:
        _scan(qtbot, window, code)
    assert "prints only with a manager's confirmation" in window.status_label.text()
    colour = tab.model.data(tab.model.index(1, 0), Qt.ItemDataRole.ForegroundRole)
    assert colour is not None and colour.color() == QColor(FLAG_COLOUR)
    assert tab.model.data(tab.model.index(0, 0), Qt.ItemDataRole.ForegroundRole) is None
    assert "failed lab testing (TestFailed)" in tab.model.data(tab.model.index(1, 8))

    def wrong_then_right(dialog: QDialog) -> None:
        assert isinstance(dialog, LabOverrideDialog) and tags[1] in dialog.details.text()
        qtbot.keyClicks(dialog.manager, "maria")
        qtbot.keyClick(dialog.manager, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.message.text() == ""  # Enter in the user field moves on to the PIN
        qtbot.keyClicks(dialog.pin, "0000")
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        assert "Wrong PIN" in dialog.message.text() and dialog.isVisible()
        qtbot.keyClicks(dialog.pin, PINS["maria"])
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)

    when_modal(LabOverrideDialog, wrong_then_right)
    _save_pdf(qtbot, window, tmp_path / "override.pdf", monkeypatch)
    maria = users.authenticate(window.ctx.db, "maria", PINS["maria"]).id
    assert [(row.barcode_value, row.lab_override_by_id) for row in _log(window)] == [(tags[0], None), (tags[1], maria)]
    assert "lab warning confirmed by maria" in window.status_label.text()


def test_flagged_labels_can_be_left_out(
    qtbot,
    window: MainWindow,
    tags: list[str],
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fail_lab(window, tags[0])
    for code in tags[:2]:
        _scan(qtbot, window, code)
    when_modal(LabOverrideDialog, lambda dialog: dialog.leave_button.click())  # type: ignore[attr-defined]
    _save_pdf(qtbot, window, tmp_path / "cleared.pdf", monkeypatch)
    assert [row.barcode_value for row in _log(window)] == tags[1:2]


def test_preview_opens_with_the_labels_and_prints_nothing(qtbot, window: MainWindow, tags: list[str]) -> None:  # type: ignore[no-untyped-def]
    tab = _tab(window)
    for code in tags:
        _scan(qtbot, window, code)
    pages: list[int] = []

    def look_and_close(dialog: QDialog) -> None:
        preview = dialog.findChild(QPrintPreviewWidget)
        assert preview is not None
        qtbot.waitUntil(lambda: preview.pageCount() > 0)
        pages.append(preview.pageCount())
        dialog.reject()

    when_modal(QPrintPreviewDialog, look_and_close)
    tab.preview_button.click()
    assert pages == [3] and _log(window) == []  # a thermal roll: a page per label; a preview is not a print


def test_test_print_preview_opens(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def close(dialog: QDialog) -> None:
        seen.append(dialog.objectName())
        dialog.reject()

    when_modal(QPrintPreviewDialog, close)
    _tab(window).test_button.click()
    assert seen == ["labelTestPrint"]


def test_printing_needs_the_configured_printer(qtbot, window: MainWindow, tags: list[str]) -> None:  # type: ignore[no-untyped-def]
    window.ctx.settings.setValue(PRINTER_KEY, "Zebra-ZD421-nowhere")
    _scan(qtbot, window, tags[0])
    messages: list[str] = []

    def read(box: QDialog) -> None:
        messages.append(box.text())  # type: ignore[attr-defined]
        box.accept()

    when_modal(QMessageBox, read)
    _tab(window).print_button.click()
    assert "printer Zebra-ZD421-nowhere is not available" in messages[0] and _log(window) == []


@needs_tools
def test_printing_paints_on_the_printer_and_logs_the_job(
    qtbot,
    window: MainWindow,
    tags: list[str],  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    tab = _tab(window)
    for code in tags[:2]:
        _scan(qtbot, window, code)
    printer = tab._printer(real=False)
    out = tmp_path / "printer.pdf"
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)  # stands in for the label printer's driver
    printer.setOutputFileName(str(out))
    assert tab.run is not None
    tab.print_on(printer, tab.run, None)
    qtbot.waitUntil(lambda: "page(s)" in window.status_label.text(), timeout=15000)
    assert decode(rasterize(out)) == [[code] for code in tags[:2]]
    assert [row.template for row in _log(window)] == ["thermal-2x1", "thermal-2x1"]
