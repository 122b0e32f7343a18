"""Dialogs of the Reconciliation tab: map an unknown POS export's columns once (from a guess,
with a preview), and resolve a
finding with an action and a note. Each dialog calls its service on OK and stays open with
the service's message when it refuses, so nothing typed is lost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from PySide6.QtCore import Qt
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

from backoffice.domain.numbers import NumberFormat, money_text
from backoffice.importers.pos_layout_guess import LayoutGuess
from backoffice.importers.pos_sales_file import CANONICAL_FIELDS, DATE_STYLE_LABELS, DATE_STYLES, REQUIRED_FIELDS
from backoffice.services.reconciliation import FindingRow, Resolution
from ui.commands import submit_dialog
from ui.context import AppContext

FIELD_LABELS = {
    "receipt_number": "Receipt number",
    "sold_at": "Date (and time, if in one column)",
    "sold_time": "Time (when in its own column)",
    "tag": "Package tag (METRC)",
    "sku": "SKU",
    "product_name": "Product name",
    "brand": "Brand",
    "category": "Category",
    "quantity": "Quantity",
    "unit": "Unit of measure",
    "amount": "Amount (line total)",
    "budtender": "Budtender",
}
NUMBER_CHOICES: tuple[tuple[str, NumberFormat | None], ...] = (
    ("Found in each file", None),
    ("1,234.56 (decimal point)", NumberFormat.POINT),
    ("1.234,56 (decimal comma)", NumberFormat.COMMA),
)
SaveLayout = Callable[[str, dict[str, str], tuple[str, ...], str | None, NumberFormat | None], object]


class ColumnMappingDialog(QDialog):
    """Say which column of an unknown export holds each field, starting from the guess, and
    see the first rows read through the mapping; saved under the export's header signature,
    so the next file with these headers is read without asking."""

    def __init__(self, ctx: AppContext, guess: LayoutGuess, save: SaveLayout, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("columnMappingDialog")
        self.setWindowTitle("Map the columns of a new POS export")
        self._save, self._guess = save, guess
        intro = QLabel(
            f"<b>{escape(guess.file)}</b> has columns this store has not seen. The guess below is "
            "filled in; check each field (* required) and the rows read with it, then save. Files with "
            "the same columns are then read this way."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("layoutName")
        self.name.setPlaceholderText("e.g. the POS vendor's name")
        form.addRow("Layout name *", self.name)
        self.boxes: dict[str, QComboBox] = {}
        for field in CANONICAL_FIELDS:
            box = QComboBox()
            box.setObjectName(f"map_{field}")
            box.addItem("— not in this file —", "")
            for header in guess.headers:
                box.addItem(header, header)
            box.setCurrentIndex(max(0, box.findData(guess.columns.get(field, ""))))
            box.currentIndexChanged.connect(self._refresh)
            self.boxes[field] = box
            form.addRow(FIELD_LABELS[field] + (" *" if field in REQUIRED_FIELDS else ""), box)
        self.date_style = QComboBox()
        self.date_style.setObjectName("dateStyle")
        for key, label in DATE_STYLE_LABELS.items():
            self.date_style.addItem(label, key)
        self.date_style.setCurrentIndex(max(0, self.date_style.findData(guess.date_style)))
        self.date_style.currentIndexChanged.connect(self._refresh)
        form.addRow("Dates are written", self.date_style)
        self.number_format = QComboBox()
        self.number_format.setObjectName("numberFormat")
        self.number_format.addItems([label for label, _ in NUMBER_CHOICES])
        self.number_format.setCurrentIndex([fmt for _, fmt in NUMBER_CHOICES].index(guess.number_format))
        self.number_format.currentIndexChanged.connect(self._refresh)
        form.addRow("Numbers are written", self.number_format)
        self.timezone = QLineEdit()
        self.timezone.setObjectName("layoutTimezone")
        self.timezone.setPlaceholderText("the store's time zone")
        form.addRow("Time zone of the times", self.timezone)
        self.preview = QLabel()
        self.preview.setObjectName("mappingPreview")
        self.preview.setWordWrap(True)
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save and import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>The first rows, read this way</b>"))
        layout.addWidget(self.preview)
        layout.addWidget(buttons)
        self._refresh()

    def columns(self) -> dict[str, str]:
        return {field: box.currentData() for field, box in self.boxes.items() if box.currentData()}

    def numbers(self) -> NumberFormat | None:
        return NUMBER_CHOICES[self.number_format.currentIndex()][1]

    def _refresh(self) -> None:
        checked = self._guess.with_mapping(self.columns(), self.date_style.currentData(), self.numbers())
        if checked.preview is None:
            self.preview.setText(f"Cannot read the first rows this way: {checked.preview_problem}")
            return
        self.preview.setText(
            "\n".join(
                f"line {x.line}: receipt {x.receipt_number} · {x.sold_at:%Y-%m-%d %H:%M} · {x.tag or '(untagged)'} · "
                f"{x.quantity.normalize():f} {x.unit.value if x.unit else ''} · {money_text(x.amount)}"
                for x in checked.preview.lines
            )
        )

    def accept(self) -> None:
        save, name, columns, numbers = self._save, self.name.text(), self.columns(), self.numbers()
        formats, zone = DATE_STYLES[self.date_style.currentData()], self.timezone.text().strip() or None
        submit_dialog(self, self.ctx, lambda job: save(name, columns, formats, zone, numbers))


class ResolveDialog(QDialog):
    """Choose what was done about a finding and say why; the note is required."""

    def __init__(
        self,
        ctx: AppContext,
        finding: FindingRow,
        actions: Sequence[Resolution],
        resolve: Callable[[Resolution, str], object],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("resolveDialog")
        self.setWindowTitle(f"Resolve finding #{finding.id}")
        self.resize(560, 300)
        self._resolve = resolve
        self.result_value: object = None
        what = QLabel(
            f"<b>{escape(finding.kind_label)}</b> · {finding.business_date} · receipt "
            f"{escape(finding.receipt_number or '—')} · <tt>{escape(finding.tag or '—')}</tt>"
            f"<br>{escape(finding.detail)}"
        )
        what.setWordWrap(True)
        self.action = QComboBox()
        self.action.setObjectName("resolveAction")
        for action in actions:
            self.action.addItem(action.label, action)
        self.note = QPlainTextEdit()
        self.note.setObjectName("resolveNote")
        self.note.setPlaceholderText("What was done, or why the difference is right (required)")
        hint = QLabel(
            "Queueing sends the POS receipt to METRC through the outbox (METRC tab)."
            if Resolution.QUEUE_RECEIPT in actions
            else "Fix the record in METRC or the POS first, then say here what was done."
        )
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
        submit_dialog(
            self, self.ctx, lambda job: resolve(action, note), lambda result: setattr(self, "result_value", result)
        )
