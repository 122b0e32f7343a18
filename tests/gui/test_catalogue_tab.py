"""Catalogue tab as people use it: an associate reads, a manager filters by brand, gives a new
item its shelf price, adds and archives items and imports a price list (a bad line changes
nothing and says which line); the model passes Qt's model tester."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QWidget

from backoffice.services import catalogue, users
from backoffice.services.actor import SYSTEM
from tests.conftest import PINS
from tests.gui.conftest import when_modal
from ui import commands
from ui.main_window import MainWindow
from ui.models.catalogue_table import Column
from ui.tabs.catalogue import CatalogueTab
from ui.tabs.catalogue_dialogs import ItemDialog

pytestmark = pytest.mark.gui


def _save(dialog: QWidget) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()


def _open(qtbot, window: MainWindow, who: str = "maria") -> CatalogueTab:  # type: ignore[no-untyped-def]
    window.ctx.sign_in(users.authenticate(window.ctx.db, who, PINS[who]).as_actor())
    tab = window.tab(CatalogueTab)
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: bool(tab.model.rows) and tab.brand.count() > 1, timeout=10_000)
    return tab


def _wait_loaded(qtbot, tab: CatalogueTab) -> None:  # type: ignore[no-untyped-def]
    commands.wait_until_idle()
    qtbot.waitUntil(lambda: not tab.loader.busy, timeout=10_000)


@pytest.fixture
def branded(main_window: MainWindow) -> list[str]:
    """Two items of the sample store given a brand, as a purchasing manager would."""
    skus = [row.sku for row in catalogue.list_items(main_window.ctx.db, SYSTEM)][:2]
    for sku in skus:
        catalogue.update_item(main_window.ctx.db, SYSTEM, sku, {"brand": "Verde Labs", "vendor": "Verde Labs Dist"})
    return skus


def test_an_associate_reads_but_does_not_edit(qtbot, main_window: MainWindow, branded: list[str]) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, main_window, "alex")
    assert not tab.new_button.isEnabled() and not tab.import_button.isEnabled()
    assert "Managers and purchasing" in tab.new_button.toolTip()
    tab.view.setCurrentIndex(tab.view.proxy.index(0, 0))
    assert not tab.edit_button.isEnabled() and not tab.archive_button.isEnabled()
    assert "no price yet" in tab.count_label.text()  # the sample store's items have no shelf price


def test_filter_price_add_and_archive(qtbot, main_window: MainWindow, branded: list[str]) -> None:  # type: ignore[no-untyped-def]
    tab = _open(qtbot, main_window)
    total = len(tab.model.rows)
    tab.brand.setCurrentIndex(tab.brand.findData("Verde Labs"))
    qtbot.waitUntil(lambda: len(tab.model.rows) == 2)
    assert tab.model.data(tab.model.index(0, Column.PRICE)) == "no price yet"
    tab.select_sku(branded[0])

    def price(dialog: QWidget) -> None:
        assert isinstance(dialog, ItemDialog) and dialog.brand.currentText() == "Verde Labs"
        dialog.price.setText("24.999")
        _save(dialog)
        qtbot.waitUntil(dialog.error.isVisible)
        assert "fractions of a cent" in dialog.error.text()  # refused: the dialog stays open
        dialog.price.setText("24.99")
        _save(dialog)

    when_modal(ItemDialog, price)
    tab.edit_button.click()
    qtbot.waitUntil(lambda: main_window.status_label.text() == f"Item {branded[0]}: price changed.")
    _wait_loaded(qtbot, tab)
    row = tab.model.rows[tab.model.row_of_sku(branded[0]) or 0]
    assert row.price_text == "24.99" and row.price_changed_at is not None

    tab.brand.setCurrentIndex(0)
    tab.no_price.setChecked(True)
    qtbot.waitUntil(lambda: len(tab.model.rows) == total - 1)
    tab.no_price.setChecked(False)

    def add(dialog: QWidget) -> None:
        assert isinstance(dialog, ItemDialog)
        qtbot.keyClicks(dialog.name, "Verde Labs Kush Cake Flower 3.5g")
        dialog.brand.setCurrentText("Verde Labs")
        dialog.category.setCurrentText("Buds")
        dialog.unit.setCurrentText("Grams")
        dialog.sku.setText("VL-KC-35")
        _save(dialog)

    when_modal(ItemDialog, add)
    tab.new_button.click()
    qtbot.waitUntil(lambda: "Item VL-KC-35 added" in main_window.status_label.text())
    _wait_loaded(qtbot, tab)
    assert tab.model.row_of_sku("VL-KC-35") is not None and len(tab.model.rows) == total + 1
    tab.select_sku("VL-KC-35")
    assert tab.archive_button.text() == "Archive"
    tab.archive_button.click()
    qtbot.waitUntil(lambda: "Item VL-KC-35 archived." in main_window.status_label.text())
    _wait_loaded(qtbot, tab)
    assert tab.model.row_of_sku("VL-KC-35") is None


def test_a_price_list_with_a_bad_line_is_refused_whole(
    qtbot,
    main_window: MainWindow,
    branded: list[str],  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    tab = _open(qtbot, main_window, "pat")
    path = tmp_path / "prices.csv"
    path.write_text(f"SKU,Price\n{branded[0]},19.50\nNOPE,2\n")
    said: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        said.append(box.text())
        box.accept()

    when_modal(QMessageBox, read)
    tab.import_price_list(path)
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert "nothing was imported" in said[0] and "line 3, field 'SKU': there is no item with SKU NOPE" in said[0]
    assert catalogue.get_item(main_window.ctx.db, SYSTEM, branded[0]).price == 0
    path.write_text(f"SKU,Price\n{branded[0]},19.50\n")
    tab.import_price_list(path)
    qtbot.waitUntil(lambda: "1 price(s) changed" in main_window.status_label.text(), timeout=10_000)
    _wait_loaded(qtbot, tab)
    assert tab.model.rows[tab.model.row_of_sku(branded[0]) or 0].price_text == "19.50"


def test_the_model_passes_the_model_tester(
    qtmodeltester,
    qtbot,
    main_window: MainWindow,  # type: ignore[no-untyped-def]
    branded: list[str],
) -> None:
    tab = _open(qtbot, main_window)
    qtmodeltester.check(tab.model)
