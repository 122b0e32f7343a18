"""Fix METRC from a count line: METRC differs and the store's ledger is right, so METRC is
corrected, never the inventory. Queue the POS receipt that never reached METRC, or make a
METRC-only adjustment (state reason and note). What is pending in the outbox is shown, not
corrected twice."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.services import adjustments, counts
from backoffice.services.counts import MetrcFixResult, VarianceLine
from ui.commands import Job, run_command
from ui.context import AppContext
from ui.scanner import mark_scan_field

ERROR_COLOUR = "#c62828"


class MetrcFixDialog(QDialog):
    def __init__(self, ctx: AppContext, count_id: int, line: VarianceLine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.count_id, self.tag = ctx, count_id, line.tag
        self.result_: MetrcFixResult | None = None
        db = ctx.db
        self.options = counts.fix_options(db, ctx.actor, count_id, line.tag)
        self.setObjectName("metrcFixDialog")
        self.setWindowTitle(f"Fix METRC for {line.tag}")
        unit = self.options.unit.value
        gap = self.options.metrc_vs_ledger + self.options.fixed
        more = "more" if gap > 0 else "fewer"
        pending = "".join(f"<li>{escape(p.text)}</li>" for p in self.options.pending if p.quantity)
        title = QLabel(
            f"<b>{escape(line.item)}</b><br><tt>{line.tag}</tt><br>METRC has <b>{abs(gap).normalize():f} "
            f"{unit} {more}</b> than the store's ledger. The ledger is not changed here."
            + (f"<br>Pending to METRC:<ul>{pending}</ul>" if pending else "")
        )
        title.setWordWrap(True)

        self.choice = QButtonGroup(self)
        self.queue = QRadioButton("Queue the POS receipt that never reached METRC")
        self.queue.setObjectName("fixQueueReceipt")
        self.receipt = QComboBox()
        self.receipt.setObjectName("fixReceipt")
        for item in self.options.receipts:
            self.receipt.addItem(item.text, item.receipt_number)
        self.adjust = QRadioButton("METRC-only adjustment")
        self.adjust.setObjectName("fixMetrcAdjust")
        self.quantity = QLineEdit(f"{self.options.suggested.normalize():+f}" if self.options.suggested else "")
        self.quantity.setObjectName("fixQuantity")
        self.quantity.setValidator(QRegularExpressionValidator(r"^[+-]?\d{0,7}([.,]\d{0,4})?$", self.quantity))
        self.reason = QComboBox()
        self.reason.setObjectName("fixReason")
        for reason in adjustments.list_reasons(db, ctx.actor):
            self.reason.addItem(reason.name, reason.name)
        self.note = QPlainTextEdit()
        self.note.setObjectName("fixNote")
        self.note.setPlaceholderText("What the count found, e.g. 'shelf and ledger 48; METRC 50 after a sync miss'")
        self.note.setFixedHeight(64)
        for field in (self.quantity, self.note):
            mark_scan_field(field)
        for button in (self.queue, self.adjust):
            self.choice.addButton(button)
        self.queue.setEnabled(bool(self.options.receipts))
        self.receipt.setEnabled(bool(self.options.receipts))
        can_adjust = self.options.suggested != 0
        for widget in (self.adjust, self.quantity, self.reason):
            widget.setEnabled(can_adjust)
        (self.queue if self.options.receipts else self.adjust).setChecked(True)

        self.message = QLabel(
            ""
            if self.options.receipts or can_adjust
            else "Everything METRC lacks is pending in the outbox: send or retry it in the METRC tab."
        )
        self.message.setObjectName("fixMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Queue for METRC")
        self.ok.setObjectName("fixOk")
        self.ok.setEnabled(bool(self.options.receipts) or can_adjust)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.queue)
        form.addRow("Receipt", self.receipt)
        form.addRow(self.adjust)
        form.addRow(f"Change METRC by ({unit})", self.quantity)
        form.addRow("Reason", self.reason)
        form.addRow("Note", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(560, 0)

    def submit(self) -> None:
        db, actor, count_id, tag, note = self.ctx.db, self.ctx.actor, self.count_id, self.tag, self.note.toPlainText()
        if self.queue.isChecked():
            receipt = self.receipt.currentData() or ""

            def op(job: Job) -> MetrcFixResult:
                return counts.queue_missing_receipt(db, actor, count_id, tag, receipt, note)
        else:
            quantity = self.quantity.text().replace(",", ".")
            change = quantity if quantity.strip("+-.") else Decimal(0)
            reason = self.reason.currentData() or ""

            def op(job: Job) -> MetrcFixResult:
                return counts.metrc_only_adjustment(db, actor, count_id, tag, change, reason, note)

        def done(result: MetrcFixResult) -> None:
            self.result_ = result
            self.accept()

        self.setEnabled(False)  # until the command is done
        run_command(
            self,
            self.ctx,
            op,
            done,
            on_error=lambda exc: self.message.setText(str(exc)),
            on_settled=lambda: self.setEnabled(True),
        )
