"""Dialogs of the Reconciliation tab: map an unknown POS export's columns once, and resolve a
finding with an action and a note. Each dialog calls its service on OK and stays open with
the service's message when it refuses, so nothing typed is lost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from backoffice.importers.csv_common import normalize_header
from backoffice.importers.pos_sales_file import CANONICAL_FIELDS, REQUIRED_FIELDS, US_DATE_FORMATS
from backoffice.services.reconciliation import FindingRow, Resolution
from ui.commands import submit_dialog
from ui.context import AppContext

FIELD_LABELS = {
    "receipt_number": "Receipt number", "sold_at": "Date and time", "tag": "Package tag (METRC)", "sku": "SKU",
    "product_name": "Product name", "brand": "Brand", "category": "Category", "quantity": "Quantity",
    "unit": "Unit of measure", "amount": "Amount (line total)", "budtender": "Budtender",
}
# words that give a column away, for a first guess the person confirms
_HINTS = {
    "receipt_number": ("receipt", "ticket", "order", "transaction", "invoice"),
    "sold_at": ("date", "time", "closed", "completed", "sold"),
    "tag": ("tag", "package", "metrc", "label"),
    "sku": ("sku",),
    "product_name": ("product", "item", "description", "name"),
    "brand": ("brand",),
    "category": ("category", "type"),
    "quantity": ("qty", "quantity", "units"),
    "unit": ("uom", "unit", "measure"),
    "amount": ("total", "amount", "net", "sales", "price"),
    "budtender": ("budtender", "employee", "cashier", "staff"),
}
DATE_STYLES: dict[str, tuple[str, ...]] = {
    "US: 11/20/2026 9:43 AM (ISO 8601 too)": US_DATE_FORMATS,
    "ISO 8601 only: 2026-11-20 09:43": (),
    "Day first: 20/11/2026 09:43": ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %I:%M %p", "%d.%m.%Y %H:%M"),
}
SaveLayout = Callable[[str, dict[str, str], tuple[str, ...], str | None], object]


def guess_columns(headers: Sequence[str]) -> dict[str, str]:
    """Each field's most likely column, a header used once at most."""
    guesses: dict[str, str] = {}
    for field in CANONICAL_FIELDS:
        for header in headers:
            name = normalize_header(header)
            if header not in guesses.values() and any(word in name for word in _HINTS[field]):
                guesses[field] = header
                break
    return guesses


class ColumnMappingDialog(QDialog):
    """Say which column of an unknown export holds each field; saved under the export's header
    signature, so the next file with these headers is read without asking."""

    def __init__(self, ctx: AppContext, file_name: str, headers: Sequence[str], save: SaveLayout,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("columnMappingDialog")
        self.setWindowTitle("Map the columns of a new POS export")
        self._save = save
        intro = QLabel(f"<b>{escape(file_name)}</b> has columns this store has not seen. Say which column holds "
                       "each field (* required) once; files with the same columns are then read this way.")
        intro.setWordWrap(True)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("layoutName")
        self.name.setPlaceholderText("e.g. the POS vendor's name")
        form.addRow("Layout name *", self.name)
        guesses = guess_columns(headers)
        self.boxes: dict[str, QComboBox] = {}
        for field in CANONICAL_FIELDS:
            box = QComboBox()
            box.setObjectName(f"map_{field}")
            box.addItem("— not in this file —", "")
            for header in headers:
                box.addItem(header, header)
            box.setCurrentIndex(max(0, box.findData(guesses.get(field, ""))))
            self.boxes[field] = box
            form.addRow(FIELD_LABELS[field] + (" *" if field in REQUIRED_FIELDS else ""), box)
        self.date_style = QComboBox()
        self.date_style.setObjectName("dateStyle")
        self.date_style.addItems(list(DATE_STYLES))
        form.addRow("Dates are written", self.date_style)
        self.timezone = QLineEdit()
        self.timezone.setObjectName("layoutTimezone")
        self.timezone.setPlaceholderText("the store's time zone")
        form.addRow("Time zone of the times", self.timezone)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save and import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def columns(self) -> dict[str, str]:
        return {field: box.currentData() for field, box in self.boxes.items() if box.currentData()}

    def accept(self) -> None:
        save, name, columns = self._save, self.name.text(), self.columns()
        formats, zone = DATE_STYLES[self.date_style.currentText()], self.timezone.text().strip() or None
        submit_dialog(self, self.ctx, lambda job: save(name, columns, formats, zone))


class ResolveDialog(QDialog):
    """Choose what was done about a finding and say why; the note is required."""

    def __init__(self, ctx: AppContext, finding: FindingRow, actions: Sequence[Resolution],
                 resolve: Callable[[Resolution, str], object], parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("resolveDialog")
        self.setWindowTitle(f"Resolve finding #{finding.id}")
        self.resize(560, 300)
        self._resolve = resolve
        self.result_value: object = None
        what = QLabel(f"<b>{escape(finding.kind_label)}</b> · {finding.business_date} · receipt "
                      f"{escape(finding.receipt_number or '—')} · <tt>{escape(finding.tag or '—')}</tt>"
                      f"<br>{escape(finding.detail)}")
        what.setWordWrap(True)
        self.action = QComboBox()
        self.action.setObjectName("resolveAction")
        for action in actions:
            self.action.addItem(action.label, action)
        self.note = QPlainTextEdit()
        self.note.setObjectName("resolveNote")
        self.note.setPlaceholderText("What was done, or why the difference is right (required)")
        hint = QLabel("Queueing sends the POS receipt to METRC through the outbox (METRC tab)."
                      if Resolution.QUEUE_RECEIPT in actions else
                      "Fix the record in METRC or the POS first, then say here what was done.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Resolve")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        form = QFormLayout()
        form.addRow("Action", self.action)
        form.addRow("Note *", self.note)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(buttons)

    def accept(self) -> None:
        resolve, action, note = self._resolve, self.action.currentData(), self.note.toPlainText()
        submit_dialog(self, self.ctx, lambda job: resolve(action, note),
                      lambda result: setattr(self, "result_value", result))
