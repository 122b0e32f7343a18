"""Dialogs of the Receiving tab: received quantity, expiration date, rejection, and finishing
(where the packages go, with the bins they would take). Each dialog calls its service on OK
and stays open with the service's message when it refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import LocationKind, ManifestLineState
from backoffice.services import locations, receiving
from backoffice.services import settings as store_settings
from backoffice.services.event_words import plural
from backoffice.services.receiving import FinishResult, LineChange, LineView, ManifestView
from ui.commands import run_command
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.scanner import mark_scan_field
from ui.widgets.table_view import RowTableView

ERROR_COLOUR = "#c62828"
_QUANTITY = r"^\d{0,7}([.,]\d{0,4})?$"


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


class ServiceDialog(QDialog):
    """OK runs the subclass's ``submit()``; a refusal is shown in red and the dialog stays open."""

    ctx: AppContext
    submit: Callable[[], Callable[[], Any]]  # the service call; its result is kept in ``result_change``

    def __init__(self, title: str, ok_text: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.result_change: Any = None

    def _field(self, edit: QLineEdit) -> QLineEdit:
        mark_scan_field(edit)  # the scanner leaves it alone: typed digits and Enter stay here
        return edit

    def _submit(self) -> None:
        """``submit()`` reads the fields here and returns the service call, which runs as a command."""
        call = self.submit()
        self.setEnabled(False)

        def done(result: Any) -> None:
            self.result_change = result
            self.accept()

        def refused(exc: BaseException) -> None:
            self.error.setText(str(exc))
            self.error.show()

        run_command(
            self, self.ctx, lambda job: call(), done, on_error=refused, on_settled=lambda: self.setEnabled(True)
        )


class QuantityDialog(ServiceDialog):
    def __init__(self, ctx: AppContext, manifest_id: int, line: LineView, parent: QWidget) -> None:
        super().__init__(f"Received quantity · {line.tag}", "Save", parent)
        self.ctx, self.manifest_id, self.line = ctx, manifest_id, line
        self.quantity = self._field(QLineEdit(_plain(line.received_quantity or line.shipped_quantity)))
        self.quantity.setObjectName("receivedQuantity")
        self.quantity.setValidator(QRegularExpressionValidator(_QUANTITY))
        self.note = self._field(QLineEdit(line.note or ""))
        self.note.setObjectName("quantityNote")
        self.note.setPlaceholderText("needed when it differs from shipped, e.g. “scale shows 452.8 g”")
        self.form.addRow("Item", QLabel(line.item_name))
        self.form.addRow("Shipped", QLabel(f"{_plain(line.shipped_quantity)} {line.unit.value}"))
        self.form.addRow(f"Received ({line.unit.value})", self.quantity)
        self.form.addRow("Note", self.note)
        self.quantity.selectAll()

    def submit(self) -> Callable[[], LineChange]:
        db, actor, manifest_id, tag = self.ctx.db, self.ctx.actor, self.manifest_id, self.line.tag
        quantity, note = self.quantity.text().replace(",", "."), self.note.text()
        return lambda: receiving.set_received_quantity(db, actor, manifest_id, tag, quantity, note)


def a_year_after(day: date) -> date:
    """The same day next year; 29 February becomes 28 February (``replace(year=…)`` would raise)."""
    return day.replace(year=day.year + 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year + 1)


class ExpirationDialog(ServiceDialog):
    def __init__(self, ctx: AppContext, manifest_id: int, line: LineView, parent: QWidget) -> None:
        super().__init__(f"Expiration date · {line.tag}", "Save", parent)
        self.ctx, self.manifest_id, self.line = ctx, manifest_id, line
        self.date = QDateEdit()
        self.date.setObjectName("expirationDate")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        start = line.expiration_date or a_year_after(store_settings.store_calendar(ctx.db).today())
        self.date.setDate(QDate(start.year, start.month, start.day))
        self.none = QCheckBox("No expiration date on the label")
        self.none.toggled.connect(lambda on: self.date.setEnabled(not on))
        self.same_batch = QCheckBox(f"Also the other packages of batch {line.production_batch} of this item")
        self.same_batch.setChecked(bool(line.production_batch))
        self.same_batch.setEnabled(bool(line.production_batch))
        self.form.addRow("Item", QLabel(line.item_name))
        self.form.addRow("Expires", self.date)
        self.form.addRow("", self.none)
        self.form.addRow("", self.same_batch)

    def submit(self) -> Callable[[], LineChange]:
        db, actor, manifest_id, tag = self.ctx.db, self.ctx.actor, self.manifest_id, self.line.tag
        expires: date | None = None if self.none.isChecked() else self.date.date().toPython()  # type: ignore[assignment]
        same_batch = self.same_batch.isChecked()
        return lambda: receiving.set_expiration(db, actor, manifest_id, tag, expires, same_batch=same_batch)


class RejectDialog(ServiceDialog):
    def __init__(self, ctx: AppContext, manifest_id: int, line: LineView, parent: QWidget) -> None:
        super().__init__(f"Reject package · {line.tag}", "Reject package", parent)
        self.ctx, self.manifest_id, self.line = ctx, manifest_id, line
        self.reason = QComboBox()
        self.reason.setObjectName("rejectReason")
        self.reason.addItems(list(receiving.REJECT_REASONS))
        self.note = QPlainTextEdit()
        self.note.setObjectName("rejectNote")
        self.note.setPlaceholderText("what you saw, who you told (driver, shipper)")
        self.note.setFixedHeight(70)
        self.received = self._field(QLineEdit())
        self.received.setObjectName("rejectReceived")
        self.received.setValidator(QRegularExpressionValidator(_QUANTITY))
        self.received.setPlaceholderText("what did arrive, for a short-shipped package")
        self.form.addRow(
            "Package", QLabel(f"{line.item_name}: {_plain(line.shipped_quantity)} {line.unit.value} shipped")
        )
        self.form.addRow("Reason", self.reason)
        self.form.addRow("Note", self.note)
        self.form.addRow(f"Received ({line.unit.value})", self.received)
        self.form.addRow(QLabel("The package is refused whole; it goes back with the driver."))

    def submit(self) -> Callable[[], LineChange]:
        db, actor, manifest_id, tag = self.ctx.db, self.ctx.actor, self.manifest_id, self.line.tag
        reason, note = self.reason.currentText(), self.note.toPlainText()
        received = self.received.text().replace(",", ".") or None
        return lambda: receiving.reject(db, actor, manifest_id, tag, reason, note, received_quantity=received)


class FinishDialog(QDialog):
    """Choose where the accepted packages go; the vault bins they would take are shown."""

    def __init__(
        self, ctx: AppContext, view: ManifestView, parent: QWidget, on_location: Callable[[str], dict[str, str]]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Finish receiving · manifest {view.manifest_number}")
        self.resize(760, 480)
        self.view, self.on_location = view, on_location
        self.location = QComboBox()
        self.location.setObjectName("receiveLocation")
        for loc in locations.list_locations(ctx.db, ctx.actor):
            if loc.kind is not LocationKind.FLOOR:  # the floor is reached by a recorded transfer
                self.location.addItem(loc.name, loc.kind.value)  # a plain string survives the round trip
        vault = self.location.findData(LocationKind.VAULT.value)
        self.location.setCurrentIndex(max(vault, 0))
        accepted = [ln for ln in view.lines if ln.state is ManifestLineState.ACCEPTED]
        self.bins: RowTableModel[LineView] = RowTableModel(
            [
                Col("Tag", lambda ln: ln.tag),
                Col("Item", lambda ln: ln.item_name),
                Col("Quantity", lambda ln: f"{_plain(ln.received_quantity)} {ln.unit.value}"),
                Col("Expires", lambda ln: ln.expiration_date),
                Col("Suggested bin", lambda ln: self._bin_of.get(ln.tag)),
            ]
        )
        self._bin_of: dict[str, str] = {}
        self.bin_view = RowTableView(self.bins, stretch_column=1)
        self.bin_view.setObjectName("finishBins")
        self.bin_view.setItemDelegateForColumn(0, TagEndDelegate(self.bin_view))
        self.bin_view.setColumnWidth(0, 150)
        self.bins.set_rows(accepted)
        rejected = len(view.lines) - len(accepted)
        summary = QLabel(
            f"{len(accepted)} package(s) will be received, {rejected} rejected. This creates the "
            "packages, their ledger rows and the receive sheet to key into METRC's web UI."
        )
        summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Receive")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Receive into", self.location)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addLayout(form)
        layout.addWidget(self.bin_view, 1)
        layout.addWidget(buttons)
        self.location.currentIndexChanged.connect(lambda _: self._show_bins())
        self._show_bins()

    def _show_bins(self) -> None:
        self._bin_of = self.on_location(self.location.currentText())
        self.bins.set_rows(self.bins.rows)


class TagEndDelegate(QStyledItemDelegate):
    """A tag too long for its column loses its start, not its end: the last digits are what people read."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Any) -> None:  # noqa: N802 (Qt API)
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideLeft


class ReceivedDialog(QDialog):
    """After a finish: save the receive sheet and the bin labels, in any order, until Close."""

    def __init__(self, result: FinishResult, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("receivedBox")
        self.setWindowTitle("Received")
        text = QLabel(
            f"{plural(len(result.received), 'package')} now in {result.location}; {result.rejected} "
            "rejected.\n\nSave the receive sheet to key into METRC's web UI, and bin labels for the "
            "accepted packages. This stays open until you close it."
        )
        text.setWordWrap(True)
        self.sheet_button = QPushButton("Save receive sheet (PDF)…")
        self.labels_button = QPushButton("Save bin labels (PDF)…")
        self.labels_button.setEnabled(bool(result.received))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.sheet_button, self.labels_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
